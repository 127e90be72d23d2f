"""The Python client scenarios of tests/clients/python-client.test.ts.

    PYTHONPATH=clients/python python3 tests/clients/python/scenarios.py <host:port> <scenario>

Runs one scenario against a gateway's gRPC port with the generated stubs in
clients/python and prints what it saw as JSON lines, which the test asserts:
{"phase", "event": <StreamEvent, canonical JSON>}, {"phase", "info":
<StreamInfo>} and {"phase", "error": {"code", "name", "message",
"trailers"}}. Scenarios: create, resume, cancel, not_found, deadline, reason.
"""

import json
import secrets
import sys

import grpc
from google.protobuf import json_format

from airwave.v1 import generate_pb2, stream_service_pb2, stream_service_pb2_grpc


def emit(phase, **line):
    print(json.dumps({"phase": phase, **line}), flush=True)


def emit_event(phase, event):
    emit(phase, event=json_format.MessageToDict(event))


def emit_info(phase, info):
    emit(phase, info=json_format.MessageToDict(info))


def emit_error(phase, err):
    code, name = err.code().value
    trailers = {k: v for k, v in (err.trailing_metadata() or ()) if not k.endswith("-bin")}
    emit(phase, error={"code": code, "name": name, "message": err.details(), "trailers": trailers})


def cursor(event):
    return f"{event.epoch}:{event.seq}"


def request(output_tokens, tokens_per_s=None):
    metadata = {"simulator.output_tokens": str(output_tokens)}
    if tokens_per_s is not None:
        metadata["simulator.tokens_per_s"] = str(tokens_per_s)
    return stream_service_pb2.CreateStreamRequest(
        request=generate_pb2.GenerateRequest(
            model="simulator",
            messages=[generate_pb2.Message(role=generate_pb2.ROLE_USER, parts=[generate_pb2.Part(text="How do tides work?")])],
            metadata=metadata,
        ),
        on_detach=stream_service_pb2.ON_DETACH_CONTINUE,
    )


def watch_all(stub, phase, stream_id, after=""):
    for response in stub.WatchStream(stream_service_pb2.WatchStreamRequest(stream_id=stream_id, cursor=after), timeout=15):
        emit_event(phase, response.event)


def create(stub):
    for response in stub.CreateStream(request(12), timeout=15):
        emit_event("create", response.event)


def resume(stub):
    # Read five text deltas, drop the call (a detach: the generation goes on),
    # then resume strictly after the last cursor received.
    call = stub.CreateStream(request(40, tokens_per_s=200), timeout=15)
    deltas, last = 0, None
    for response in call:
        emit_event("before", response.event)
        last = response.event
        deltas += response.event.HasField("text_delta")
        if deltas == 5:
            break
    call.cancel()
    watch_all(stub, "after", last.stream_id, cursor(last))
    watch_all(stub, "full", last.stream_id)


def cancel(stub):
    call = stub.CreateStream(request(100000, tokens_per_s=50), timeout=15)
    stream_id = ""
    for response in call:
        emit_event("create", response.event)
        stream_id = response.event.stream_id
        if response.event.HasField("text_delta"):
            break
    emit_info("cancel", stub.CancelStream(stream_service_pb2.CancelStreamRequest(stream_id=stream_id, reason="user pressed stop"), timeout=5).stream)
    for response in call:  # the same call goes on to its terminal event
        emit_event("create", response.event)
    emit_info("get", stub.GetStream(stream_service_pb2.GetStreamRequest(stream_id=stream_id), timeout=5).stream)


def not_found(stub):
    unknown = "unknown" + secrets.token_urlsafe(16)
    calls = {
        "watch": lambda: list(stub.WatchStream(stream_service_pb2.WatchStreamRequest(stream_id=unknown), timeout=5)),
        "get": lambda: stub.GetStream(stream_service_pb2.GetStreamRequest(stream_id=unknown), timeout=5),
        "cancel": lambda: stub.CancelStream(stream_service_pb2.CancelStreamRequest(stream_id=unknown), timeout=5),
    }
    for phase, call in calls.items():
        try:
            call()
            emit(phase, ok=True)
        except grpc.RpcError as err:
            emit_error(phase, err)


def deadline(stub):
    # A 300 ms deadline on a 1 s generation: the watch ends, the generation does not.
    last = None
    try:
        for response in stub.CreateStream(request(30, tokens_per_s=30), timeout=0.3):
            emit_event("create", response.event)
            last = response.event
    except grpc.RpcError as err:
        emit_error("create", err)
    emit_info("get", stub.GetStream(stream_service_pb2.GetStreamRequest(stream_id=last.stream_id), timeout=5).stream)
    watch_all(stub, "after", last.stream_id, cursor(last))


def reason(stub):
    stream_id = ""
    for response in stub.CreateStream(request(3), timeout=15):
        stream_id = response.event.stream_id
    try:
        stub.SendInput(stream_service_pb2.SendInputRequest(stream_id=stream_id, text="yes"), timeout=5)
        emit("input", ok=True)
    except grpc.RpcError as err:
        emit_error("input", err)


SCENARIOS = {f.__name__: f for f in (create, resume, cancel, not_found, deadline, reason)}


def main():
    target, scenario = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(target) as channel:
        SCENARIOS[scenario](stream_service_pb2_grpc.StreamServiceStub(channel))


if __name__ == "__main__":
    main()
