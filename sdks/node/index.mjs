// ESM entry: re-exports the CommonJS implementation, so `import` and `require` share one copy
// (one set of classes: `instanceof VocableError` works whichever way the SDK was loaded).
import sdk from './index.cjs';

export const {
  Vocable,
  StreamSession,
  VocableError,
  APIConnectionError,
  APITimeoutError,
  BadRequestError,
  AuthenticationError,
  PaymentRequiredError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitError,
  InternalServerError,
  ServiceUnavailableError,
  StreamError,
  TranscriptionFailedError,
  pcmFromFile,
  pcmChunks,
  paced,
  SAMPLE_RATE,
  DEFAULT_BASE_URL,
  VERSION,
} = sdk;
export default Vocable;
