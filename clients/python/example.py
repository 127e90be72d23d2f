"""Stream an answer from Airwave over gRPC, and resume it after a disconnect.

    PYTHONPATH=clients/python python3 clients/python/example.py [host:port] [prompt]

Needs grpcio and protobuf (Debian: python3-grpcio python3-protobuf; or
`pip install grpcio protobuf`). Ctrl-C stops the generation (CancelStream).
"""

import sys

import grpc

from airwave.v1 import generate_pb2, stream_service_pb2, stream_service_pb2_grpc

# Codes after which the same stream can be watched again from the last cursor.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.DEADLINE_EXCEEDED}


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080"
    prompt = sys.argv[2] if len(sys.argv) > 2 else "How do tides work?"
    with grpc.insecure_channel(target) as channel:
        client = stream_service_pb2_grpc.StreamServiceStub(channel)
        request = stream_service_pb2.CreateStreamRequest(
            request=generate_pb2.GenerateRequest(
                model="simulator",
                messages=[generate_pb2.Message(role=generate_pb2.ROLE_USER, parts=[generate_pb2.Part(text=prompt)])],
            ),
            # Keep generating while we are away, so a resume finds the answer.
            on_detach=stream_service_pb2.ON_DETACH_CONTINUE,
        )
        stream_id, cursor = "", ""
        responses = client.CreateStream(request)
        try:
            while True:
                try:
                    for response in responses:
                        event = response.event
                        stream_id = event.stream_id or stream_id
                        if event.seq:  # logged events carry a cursor; heartbeat and resumed do not
                            cursor = f"{event.epoch}:{event.seq}"
                        kind = event.WhichOneof("event")
                        if kind == "text_delta":
                            print(event.text_delta.text, end="", flush=True)
                        elif kind == "completed":
                            print()
                            return 0
                        elif kind == "failed":
                            print(f"\nfailed: {event.failed.message} ({event.failed.reason})", file=sys.stderr)
                            return 1
                    return 0
                except grpc.RpcError as err:
                    if err.code() not in RETRYABLE or not stream_id:
                        raise
                    # Resume strictly after the last event we printed: no gap, no duplicate.
                    # wait_for_ready: the call waits while the channel reconnects.
                    print(f"\n[{err.code().name}: resuming stream {stream_id} after {cursor}]", file=sys.stderr)
                    request = stream_service_pb2.WatchStreamRequest(stream_id=stream_id, cursor=cursor)
                    responses = client.WatchStream(request, wait_for_ready=True)
        except KeyboardInterrupt:
            if stream_id:
                client.CancelStream(stream_service_pb2.CancelStreamRequest(stream_id=stream_id, reason="interrupted"))
            return 130


if __name__ == "__main__":
    sys.exit(main())
