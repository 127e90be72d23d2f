from airwave.v1 import event_pb2 as _event_pb2
from airwave.v1 import generate_pb2 as _generate_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.StreamEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.StreamEvent, _Mapping]] = ...) -> None: ...

class InputReply(_message.Message):
    __slots__ = ["input_id", "text"]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    input_id: str
    text: str
    def __init__(self, input_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class InteractRequest(_message.Message):
    __slots__ = ["input", "start"]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    input: InputReply
    start: _generate_pb2.GenerateRequest
    def __init__(self, start: _Optional[_Union[_generate_pb2.GenerateRequest, _Mapping]] = ..., input: _Optional[_Union[InputReply, _Mapping]] = ...) -> None: ...

class InteractResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.StreamEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.StreamEvent, _Mapping]] = ...) -> None: ...
