"""Official Python SDK for Vocable, the self-hosted speech platform.

from vocable_sdk import Vocable

client = Vocable(api_key="voc_...", base_url="http://127.0.0.1:8000")
result = client.transcribe("meeting.mp3", model="base")
for seg in result.segments:
    print(f"[{seg.start:.1f}s] {seg.speaker}: {seg.text}")
"""

from vocable_sdk._async_client import AsyncVocable
from vocable_sdk._base import DEFAULT_BASE_URL, TranscriptionFailedError
from vocable_sdk._client import Vocable
from vocable_sdk._version import __version__
from vocable_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    StreamError,
    VocableError,
)
from vocable_sdk.streaming import (
    SAMPLE_RATE,
    AsyncStreamSession,
    StreamSession,
    iter_pcm_file,
    paced,
)
from vocable_sdk.types import (
    Account,
    Analysis,
    ApiKey,
    ChatAnswer,
    ChatSource,
    CreatedApiKey,
    Embeddings,
    EnhancedAudio,
    Generation,
    Health,
    Language,
    Model,
    PlanLimits,
    Segment,
    Speaker,
    StreamEvent,
    Summary,
    Transcript,
    Transcription,
    TranscriptionJob,
    TranscriptPage,
    TranscriptSummary,
    Translation,
    Usage,
    UsageDay,
    Word,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "SAMPLE_RATE",
    "APIConnectionError",
    "APITimeoutError",
    "Account",
    "Analysis",
    "ApiKey",
    "AsyncStreamSession",
    "AsyncVocable",
    "AuthenticationError",
    "BadRequestError",
    "ChatAnswer",
    "ChatSource",
    "ConflictError",
    "CreatedApiKey",
    "Embeddings",
    "EnhancedAudio",
    "Generation",
    "Health",
    "InternalServerError",
    "Language",
    "Model",
    "NotFoundError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PlanLimits",
    "RateLimitError",
    "Segment",
    "ServiceUnavailableError",
    "Speaker",
    "StreamError",
    "StreamEvent",
    "StreamSession",
    "Summary",
    "Transcript",
    "TranscriptPage",
    "TranscriptSummary",
    "Transcription",
    "TranscriptionFailedError",
    "TranscriptionJob",
    "Translation",
    "Usage",
    "UsageDay",
    "Vocable",
    "VocableError",
    "Word",
    "__version__",
    "iter_pcm_file",
    "paced",
]
