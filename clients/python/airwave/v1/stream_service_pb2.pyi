from airwave.v1 import event_pb2 as _event_pb2
from airwave.v1 import generate_pb2 as _generate_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ON_DETACH_CANCEL: OnDetach
ON_DETACH_CANCEL_AFTER_GRACE: OnDetach
ON_DETACH_CONTINUE: OnDetach
ON_DETACH_UNSPECIFIED: OnDetach
STREAM_STATE_CANCELLED: StreamState
STREAM_STATE_COMPLETED: StreamState
STREAM_STATE_FAILED: StreamState
STREAM_STATE_RUNNING: StreamState
STREAM_STATE_UNSPECIFIED: StreamState

class CancelStreamRequest(_message.Message):
    __slots__ = ["reason", "stream_id"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelStreamResponse(_message.Message):
    __slots__ = ["stream"]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    stream: StreamInfo
    def __init__(self, stream: _Optional[_Union[StreamInfo, _Mapping]] = ...) -> None: ...

class CreateStreamRequest(_message.Message):
    __slots__ = ["coalesce_ms", "on_detach", "request", "stream_id"]
    COALESCE_MS_FIELD_NUMBER: _ClassVar[int]
    ON_DETACH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    coalesce_ms: int
    on_detach: OnDetach
    request: _generate_pb2.GenerateRequest
    stream_id: str
    def __init__(self, request: _Optional[_Union[_generate_pb2.GenerateRequest, _Mapping]] = ..., stream_id: _Optional[str] = ..., on_detach: _Optional[_Union[OnDetach, str]] = ..., coalesce_ms: _Optional[int] = ...) -> None: ...

class CreateStreamResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.StreamEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.StreamEvent, _Mapping]] = ...) -> None: ...

class GetStreamRequest(_message.Message):
    __slots__ = ["stream_id"]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class GetStreamResponse(_message.Message):
    __slots__ = ["stream"]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    stream: StreamInfo
    def __init__(self, stream: _Optional[_Union[StreamInfo, _Mapping]] = ...) -> None: ...

class SendInputRequest(_message.Message):
    __slots__ = ["input_id", "stream_id", "text"]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    input_id: str
    stream_id: str
    text: str
    def __init__(self, stream_id: _Optional[str] = ..., input_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class SendInputResponse(_message.Message):
    __slots__ = ["input_id"]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    input_id: str
    def __init__(self, input_id: _Optional[str] = ...) -> None: ...

class StreamInfo(_message.Message):
    __slots__ = ["created_at", "epoch", "last_seq", "model", "state", "stream_id", "watchers"]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    WATCHERS_FIELD_NUMBER: _ClassVar[int]
    created_at: _timestamp_pb2.Timestamp
    epoch: str
    last_seq: int
    model: str
    state: StreamState
    stream_id: str
    watchers: int
    def __init__(self, stream_id: _Optional[str] = ..., state: _Optional[_Union[StreamState, str]] = ..., epoch: _Optional[str] = ..., last_seq: _Optional[int] = ..., model: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., watchers: _Optional[int] = ...) -> None: ...

class WatchStreamRequest(_message.Message):
    __slots__ = ["agent_ids", "coalesce_ms", "cursor", "stream_id"]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    COALESCE_MS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    coalesce_ms: int
    cursor: str
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ..., cursor: _Optional[str] = ..., agent_ids: _Optional[_Iterable[str]] = ..., coalesce_ms: _Optional[int] = ...) -> None: ...

class WatchStreamResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.StreamEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.StreamEvent, _Mapping]] = ...) -> None: ...

class OnDetach(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class StreamState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
