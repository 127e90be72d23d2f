from airwave.v1 import event_pb2 as _event_pb2
from airwave.v1 import stream_service_pb2 as _stream_service_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WsAck(_message.Message):
    __slots__ = ["input_id", "request_id", "stream", "stream_id"]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    input_id: str
    request_id: str
    stream: _stream_service_pb2.StreamInfo
    stream_id: str
    def __init__(self, request_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., stream: _Optional[_Union[_stream_service_pb2.StreamInfo, _Mapping]] = ..., input_id: _Optional[str] = ...) -> None: ...

class WsAuth(_message.Message):
    __slots__ = ["bearer"]
    BEARER_FIELD_NUMBER: _ClassVar[int]
    bearer: str
    def __init__(self, bearer: _Optional[str] = ...) -> None: ...

class WsClientMessage(_message.Message):
    __slots__ = ["auth", "cancel", "create", "input", "request_id", "traceparent", "tracestate", "unwatch", "watch"]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    CREATE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    UNWATCH_FIELD_NUMBER: _ClassVar[int]
    WATCH_FIELD_NUMBER: _ClassVar[int]
    auth: WsAuth
    cancel: _stream_service_pb2.CancelStreamRequest
    create: _stream_service_pb2.CreateStreamRequest
    input: _stream_service_pb2.SendInputRequest
    request_id: str
    traceparent: str
    tracestate: str
    unwatch: WsUnwatch
    watch: _stream_service_pb2.WatchStreamRequest
    def __init__(self, request_id: _Optional[str] = ..., traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ..., create: _Optional[_Union[_stream_service_pb2.CreateStreamRequest, _Mapping]] = ..., watch: _Optional[_Union[_stream_service_pb2.WatchStreamRequest, _Mapping]] = ..., cancel: _Optional[_Union[_stream_service_pb2.CancelStreamRequest, _Mapping]] = ..., input: _Optional[_Union[_stream_service_pb2.SendInputRequest, _Mapping]] = ..., unwatch: _Optional[_Union[WsUnwatch, _Mapping]] = ..., auth: _Optional[_Union[WsAuth, _Mapping]] = ...) -> None: ...

class WsError(_message.Message):
    __slots__ = ["code", "message", "reason", "request_id", "retry_after_ms", "stream_id"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    reason: str
    request_id: str
    retry_after_ms: int
    stream_id: str
    def __init__(self, request_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., code: _Optional[str] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class WsServerMessage(_message.Message):
    __slots__ = ["ack", "error", "event"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ack: WsAck
    error: WsError
    event: _event_pb2.StreamEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.StreamEvent, _Mapping]] = ..., ack: _Optional[_Union[WsAck, _Mapping]] = ..., error: _Optional[_Union[WsError, _Mapping]] = ...) -> None: ...

class WsUnwatch(_message.Message):
    __slots__ = ["stream_id"]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...
