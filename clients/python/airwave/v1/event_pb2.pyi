from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CODE_ABORTED: Code
CODE_ALREADY_EXISTS: Code
CODE_CANCELED: Code
CODE_DATA_LOSS: Code
CODE_DEADLINE_EXCEEDED: Code
CODE_FAILED_PRECONDITION: Code
CODE_INTERNAL: Code
CODE_INVALID_ARGUMENT: Code
CODE_NOT_FOUND: Code
CODE_OUT_OF_RANGE: Code
CODE_PERMISSION_DENIED: Code
CODE_RESOURCE_EXHAUSTED: Code
CODE_UNAUTHENTICATED: Code
CODE_UNAVAILABLE: Code
CODE_UNIMPLEMENTED: Code
CODE_UNKNOWN: Code
CODE_UNSPECIFIED: Code
DESCRIPTOR: _descriptor.FileDescriptor
FINISH_REASON_CANCELLED: FinishReason
FINISH_REASON_CONTENT_FILTER: FinishReason
FINISH_REASON_LENGTH: FinishReason
FINISH_REASON_STOP: FinishReason
FINISH_REASON_TOOL_CALLS: FinishReason
FINISH_REASON_UNSPECIFIED: FinishReason
INPUT_KIND_CHOICE: InputKind
INPUT_KIND_CONFIRM: InputKind
INPUT_KIND_TEXT: InputKind
INPUT_KIND_UNSPECIFIED: InputKind
RESUME_OUTCOME_EPOCH_CHANGED: ResumeOutcome
RESUME_OUTCOME_EXPIRED: ResumeOutcome
RESUME_OUTCOME_RECOVERED: ResumeOutcome
RESUME_OUTCOME_TRIMMED: ResumeOutcome
RESUME_OUTCOME_UNKNOWN_CURSOR: ResumeOutcome
RESUME_OUTCOME_UNSPECIFIED: ResumeOutcome

class Completed(_message.Message):
    __slots__ = ["finish_reason", "raw_finish_reason", "usage"]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    RAW_FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    finish_reason: FinishReason
    raw_finish_reason: str
    usage: Usage
    def __init__(self, finish_reason: _Optional[_Union[FinishReason, str]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., raw_finish_reason: _Optional[str] = ...) -> None: ...

class Failed(_message.Message):
    __slots__ = ["code", "message", "reason", "retry_after_ms", "retryable", "usage"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    code: Code
    message: str
    reason: str
    retry_after_ms: int
    retryable: bool
    usage: Usage
    def __init__(self, code: _Optional[_Union[Code, str]] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ..., retryable: bool = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class InputAnswered(_message.Message):
    __slots__ = ["input_id", "text"]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    input_id: str
    text: str
    def __init__(self, input_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class InputRequested(_message.Message):
    __slots__ = ["choices", "input_id", "kind", "prompt"]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    choices: _containers.RepeatedScalarFieldContainer[str]
    input_id: str
    kind: InputKind
    prompt: str
    def __init__(self, input_id: _Optional[str] = ..., prompt: _Optional[str] = ..., kind: _Optional[_Union[InputKind, str]] = ..., choices: _Optional[_Iterable[str]] = ...) -> None: ...

class ReasoningDelta(_message.Message):
    __slots__ = ["block_index", "redacted", "signature", "text"]
    BLOCK_INDEX_FIELD_NUMBER: _ClassVar[int]
    REDACTED_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    block_index: int
    redacted: bool
    signature: str
    text: str
    def __init__(self, text: _Optional[str] = ..., block_index: _Optional[int] = ..., signature: _Optional[str] = ..., redacted: bool = ...) -> None: ...

class Resumed(_message.Message):
    __slots__ = ["cursor", "outcome"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    outcome: ResumeOutcome
    def __init__(self, outcome: _Optional[_Union[ResumeOutcome, str]] = ..., cursor: _Optional[str] = ...) -> None: ...

class Started(_message.Message):
    __slots__ = ["model", "provider", "request_id", "stream_id"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    request_id: str
    stream_id: str
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., request_id: _Optional[str] = ..., stream_id: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ["progress", "text"]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    progress: float
    text: str
    def __init__(self, text: _Optional[str] = ..., progress: _Optional[float] = ...) -> None: ...

class StreamEvent(_message.Message):
    __slots__ = ["agent_id", "appended_at", "choice_index", "completed", "epoch", "failed", "heartbeat", "input_answered", "input_requested", "provider_metadata", "reasoning_delta", "resumed", "seq", "started", "status", "stream_id", "text_delta", "tool_call_completed", "tool_call_delta", "tool_call_started", "tool_result", "usage"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    APPENDED_AT_FIELD_NUMBER: _ClassVar[int]
    CHOICE_INDEX_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    INPUT_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_METADATA_FIELD_NUMBER: _ClassVar[int]
    REASONING_DELTA_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_STARTED_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    appended_at: _timestamp_pb2.Timestamp
    choice_index: int
    completed: Completed
    epoch: str
    failed: Failed
    heartbeat: Heartbeat
    input_answered: InputAnswered
    input_requested: InputRequested
    provider_metadata: _struct_pb2.Struct
    reasoning_delta: ReasoningDelta
    resumed: Resumed
    seq: int
    started: Started
    status: Status
    stream_id: str
    text_delta: TextDelta
    tool_call_completed: ToolCallCompleted
    tool_call_delta: ToolCallDelta
    tool_call_started: ToolCallStarted
    tool_result: ToolResult
    usage: Usage
    def __init__(self, stream_id: _Optional[str] = ..., epoch: _Optional[str] = ..., seq: _Optional[int] = ..., agent_id: _Optional[str] = ..., appended_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., choice_index: _Optional[int] = ..., provider_metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., started: _Optional[_Union[Started, _Mapping]] = ..., text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., reasoning_delta: _Optional[_Union[ReasoningDelta, _Mapping]] = ..., tool_call_started: _Optional[_Union[ToolCallStarted, _Mapping]] = ..., tool_call_delta: _Optional[_Union[ToolCallDelta, _Mapping]] = ..., tool_call_completed: _Optional[_Union[ToolCallCompleted, _Mapping]] = ..., tool_result: _Optional[_Union[ToolResult, _Mapping]] = ..., status: _Optional[_Union[Status, _Mapping]] = ..., input_requested: _Optional[_Union[InputRequested, _Mapping]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., completed: _Optional[_Union[Completed, _Mapping]] = ..., failed: _Optional[_Union[Failed, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., resumed: _Optional[_Union[Resumed, _Mapping]] = ..., input_answered: _Optional[_Union[InputAnswered, _Mapping]] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ["block_index", "text"]
    BLOCK_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    block_index: int
    text: str
    def __init__(self, text: _Optional[str] = ..., block_index: _Optional[int] = ...) -> None: ...

class ToolCallCompleted(_message.Message):
    __slots__ = ["arguments_json", "call_id", "incomplete", "name", "provider_executed"]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INCOMPLETE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    arguments_json: str
    call_id: str
    incomplete: bool
    name: str
    provider_executed: bool
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., arguments_json: _Optional[str] = ..., incomplete: bool = ..., provider_executed: bool = ...) -> None: ...

class ToolCallDelta(_message.Message):
    __slots__ = ["arguments_delta", "call_id"]
    ARGUMENTS_DELTA_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    arguments_delta: str
    call_id: str
    def __init__(self, call_id: _Optional[str] = ..., arguments_delta: _Optional[str] = ...) -> None: ...

class ToolCallStarted(_message.Message):
    __slots__ = ["call_id", "index", "name", "provider_executed"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    index: int
    name: str
    provider_executed: bool
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., index: _Optional[int] = ..., provider_executed: bool = ...) -> None: ...

class ToolResult(_message.Message):
    __slots__ = ["call_id", "is_error", "name", "result"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    is_error: bool
    name: str
    result: str
    def __init__(self, call_id: _Optional[str] = ..., result: _Optional[str] = ..., is_error: bool = ..., name: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ["cache_write_input_tokens", "cached_input_tokens", "input_tokens", "output_tokens", "reasoning_tokens"]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    cache_write_input_tokens: int
    cached_input_tokens: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cache_write_input_tokens: _Optional[int] = ...) -> None: ...

class InputKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Code(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ResumeOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
