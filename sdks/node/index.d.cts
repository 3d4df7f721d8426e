// Types for the Vocable Node.js SDK. Results are the server's JSON as-is (snake_case fields);
// the server may add fields, never remove or rename them.

export declare const VERSION: string;
export declare const DEFAULT_BASE_URL: string;
export declare const SAMPLE_RATE: 16000;

export interface ClientOptions {
  /** Default: $VOCABLE_API_KEY. None (null) = anonymous, limited per IP. */
  apiKey?: string | null;
  /** Default: $VOCABLE_BASE_URL or http://127.0.0.1:8000. */
  baseURL?: string;
  /** Per request, in milliseconds (default 600000: a synchronous transcription waits for the result). */
  timeout?: number;
  /** Extra headers sent with every HTTP request. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** A WebSocket class for streaming. Default: the global one, else the `ws` package. */
  WebSocket?: unknown;
}

// -- transcription -----------------------------------------------------------------------------
export interface Word {
  word: string;
  start: number;
  end: number;
  probability?: number;
  speaker?: string;
}

export interface Segment {
  start: number;
  end: number;
  text: string;
  speaker: string | null;
  confidence: number;
  words: Word[];
}

export interface Transcription {
  text: string;
  language: string;
  duration: number;
  segments: Segment[];
  speakers: string[];
  language_probability?: number;
  model?: string;
  /** Set when the call used an API key: the transcript is stored in the account. */
  id?: string;
  [extra: string]: unknown;
}

export interface TranscriptionJob {
  id: string;
  status: 'queued';
  url: string;
}

export type TranscriptStatus = 'queued' | 'processing' | 'completed' | 'failed';

export interface Transcript extends Transcription {
  id: string;
  status: TranscriptStatus;
  error: string | null;
  filename: string;
  created_at: string;
  completed_at: string | null;
  options: Record<string, unknown>;
}

export interface TranscriptSummary {
  id: string;
  status: TranscriptStatus;
  error: string | null;
  filename: string;
  language: string;
  duration: number;
  model: string;
  speakers: string[];
  created_at: string;
  completed_at: string | null;
  /** The start of the text. */
  preview: string;
}

export interface TranscriptPage {
  count: number;
  page: number;
  page_size: number;
  next: string | null;
  previous: string | null;
  results: TranscriptSummary[];
}

/** A path, bytes, a Blob/File, or a Node Readable / async iterable of bytes. */
export type FileInput =
  | string
  | URL
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | AsyncIterable<Uint8Array | string>;

export interface TranscribeOptions {
  /** Default: the server's best installed model. */
  model?: string;
  /** ISO 639-1 code or 'auto' (default). */
  language?: string;
  /** Speaker diarization (server default: true). */
  diarize?: boolean;
  /** Expected speakers, 0 = auto. */
  speakers?: number;
  /** Remove noise before recognition (as enhanceAudio). */
  enhance?: boolean;
  /** Domain terms and names the recognizer should spell as given. */
  vocabulary?: string[];
  /** Context for the recognizer (a sentence or two in the recording's style). */
  prompt?: string;
  /** With `async: true`: a signed POST here when the job completes or fails. */
  webhookUrl?: string;
  /** Name sent for the file (default: the path's base name). */
  filename?: string;
  signal?: AbortSignal;
}

export type SummaryStyle = 'brief' | 'detailed' | 'action_items' | 'bullet_points';
export type GenerateType =
  | 'blog_post'
  | 'social_media'
  | 'newsletter'
  | 'key_quotes'
  | 'show_notes'
  | 'meeting_notes'
  | 'study_guide'
  | 'flashcards'
  | 'quiz'
  | 'chapter_markers';
export type AnalysisType = 'sentiment' | 'topics' | 'entities' | 'action_items' | 'questions' | 'pii_redact';
export type ExportFormat = 'txt' | 'srt' | 'vtt' | 'json' | 'csv' | 'docx' | 'pdf';

export interface Summary {
  summary: string;
  style: SummaryStyle;
  model: string;
  /** style 'action_items' only: the listed items as structured data. */
  action_items?: Record<string, unknown>[];
  [extra: string]: unknown;
}
export interface Generation {
  type: GenerateType;
  /** Markdown for prose types; a readable rendering for structured ones. */
  content: string;
  /** Structured types (flashcards, quiz, key_quotes, chapter_markers): the validated JSON. */
  result?: Record<string, unknown>;
  model: string;
  [extra: string]: unknown;
}
export interface Analysis {
  type: AnalysisType;
  result: unknown;
  language?: string;
  [extra: string]: unknown;
}
export interface Translation {
  translated_text: string;
  source_language?: string;
  target_language?: string;
  backend?: string;
  model?: string;
}
export interface Embeddings {
  embeddings: number[][];
  dimensions: number;
  model?: string;
}
export interface ChatAnswer {
  answer: string;
  sources: { segment_order: number; text: string; score: number; start?: number | null; speaker?: string | null }[];
  /** Pass it back (`sessionId`) to continue the conversation. */
  session_id: string;
  /** False when the transcript does not contain the answer (`answer` then says so). */
  answered?: boolean;
  model?: string;
  [extra: string]: unknown;
}

// -- meta, account -----------------------------------------------------------------------------
export interface Health {
  status: string;
  gpu_available: boolean;
  gpu_name: string | null;
  gpu_memory_mb: number | null;
  [extra: string]: unknown;
}
export interface Model {
  id: string;
  name: string;
  languages: number;
  speed: string;
  installed?: boolean;
  default?: boolean;
  [extra: string]: unknown;
}
export interface Language {
  code: string;
  name: string;
}
export interface Account {
  id: number | string;
  email: string;
  name: string | null;
  plan: string;
  credits: number;
  uses_credits: boolean;
  month: string;
  minutes_used: number;
  minutes_left: number | null;
  monthly_minutes: number | null;
  limits: { max_upload_mb: number; concurrent_jobs: number; requests_per_minute: number };
  email_preferences: Record<string, boolean>;
  created_at: string;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  active: boolean;
}
export interface CreatedApiKey extends ApiKey {
  /** The raw secret: shown this once. */
  key: string;
}
export interface UsageDay {
  date: string;
  audio_minutes: number;
  transcriptions: number;
  requests: number;
  requests_by_endpoint: Record<string, number>;
  credits_spent: number;
}
export interface Usage {
  start: string;
  end: string;
  days: UsageDay[];
  totals: Omit<UsageDay, 'date'>;
}

export interface ListOptions {
  page?: number;
  pageSize?: number;
  status?: TranscriptStatus | TranscriptStatus[];
  language?: string;
  createdAfter?: Date | string;
  createdBefore?: Date | string;
  date?: Date | string;
  /** Seconds of audio, at least / at most. */
  minDuration?: number;
  maxDuration?: number;
  signal?: AbortSignal;
}

// -- client ------------------------------------------------------------------------------------
export declare class Vocable {
  constructor(options?: ClientOptions);
  readonly apiKey: string | null;
  readonly baseURL: string;
  readonly transcripts: Transcripts;
  readonly account: AccountResource;
  readonly keys: Keys;
  readonly usage: UsageResource;
  readonly cloud: CloudResource;
  readonly auth: AuthResource;
  readonly admin: AdminResource;
  readonly speakers: Speakers;

  transcribe(file: FileInput, options?: TranscribeOptions & { responseFormat?: 'json'; async?: false }): Promise<Transcription>;
  transcribe(file: FileInput, options: TranscribeOptions & { responseFormat: 'txt' | 'srt' | 'vtt'; async?: false }): Promise<string>;
  transcribe(file: FileInput, options: TranscribeOptions & { responseFormat?: 'json'; async: true }): Promise<TranscriptionJob>;
  /** Remove noise and normalise loudness (-16 LUFS, -1 dBTP): POST /v1/enhance-audio. */
  enhanceAudio(file: FileInput, options?: EnhanceOptions): Promise<EnhancedAudio>;

  summarize(text: string, options?: { style?: SummaryStyle; signal?: AbortSignal }): Promise<Summary>;
  generate(text: string, type: GenerateType, options?: { signal?: AbortSignal }): Promise<Generation>;
  analyze(text: string, type: AnalysisType, options?: { language?: string; signal?: AbortSignal }): Promise<Analysis>;
  translate(text: string, target: string, options?: { source?: string; backend?: string; signal?: AbortSignal }): Promise<Translation>;
  translateMany(texts: Iterable<string>, target: string, options?: { source?: string; backend?: string; signal?: AbortSignal }): Promise<Translation[]>;
  embed(texts: string | Iterable<string>, options?: { signal?: AbortSignal }): Promise<Embeddings>;

  /** Speak text (POST /v1/tts), optionally in (a match of) a reference voice. */
  tts(text: string, options?: {
    reference?: string | URL | Blob | ArrayBuffer | ArrayBufferView;
    voice?: string;
    speed?: number;
    format?: 'wav' | 'flac' | 'mp3' | 'ogg' | 'opus' | 'aac' | 'pcm';
    signal?: AbortSignal;
  }): Promise<Speech>;

  /** Search every transcript of the account by words and by meaning. */
  search(q: string, options?: SearchOptions): Promise<SearchResults>;
  health(): Promise<Health>;
  models(): Promise<Model[]>;
  languages(): Promise<Language[]>;

  /** Open a real-time session (WS /v1/stream); resolves when the server is ready. */
  stream(options?: StreamOptions): Promise<StreamSession>;
  /** Stream a WAV (or raw s16le 16 kHz mono .pcm) file at `speed` × real time; yields events. */
  streamFile(path: string, options?: StreamOptions & { speed?: number | null; chunkMs?: number }): AsyncGenerator<StreamEvent>;
}
export default Vocable;

export declare class Transcripts {
  list(options?: ListOptions): Promise<TranscriptPage>;
  iter(options?: Omit<ListOptions, 'page'>): AsyncGenerator<TranscriptSummary>;
  get(id: string): Promise<Transcript>;
  delete(id: string): Promise<void>;
  export(id: string, format: ExportFormat, options?: { path?: string }): Promise<Buffer>;
  /** Poll until completed; throws TranscriptionFailedError if the job failed. */
  wait(id: string, options?: { timeout?: number; pollInterval?: number }): Promise<Transcript>;
  chat(id: string, question: string, options?: { sessionId?: string }): Promise<ChatAnswer>;
  analyze(id: string, type: AnalysisType, options?: { language?: string }): Promise<Analysis>;
  generate(id: string, type: GenerateType): Promise<Generation>;
  edit(id: string, edits: TranscriptEdits): Promise<Transcript & { version: number; changed_segments: number[] }>;
  renameSpeaker(id: string, from: string, to: string): Promise<Transcript>;
  editSegment(id: string, index: number, text: string): Promise<Transcript>;
  mergeSegments(id: string, index: number): Promise<Transcript>;
  splitSegment(id: string, index: number, options: { word?: number; at?: number }): Promise<Transcript>;
  edits(id: string): Promise<{ version: number; created_at: string; operations: EditOperation[] }[]>;
  /** The stored audio; `start`/`end` byte offsets (end inclusive) read a range. */
  audio(id: string, options?: { start?: number; end?: number; path?: string }): Promise<Buffer>;
  audioToken(id: string): Promise<{ token: string; expires_in: number; url: string }>;
}
export type EditOperation =
  | { op: 'rename_speaker'; from: string; to: string }
  | { op: 'set_speaker'; segment: number; speaker: string }
  | { op: 'edit_text'; segment: number; text: string }
  | { op: 'merge'; segment: number }
  | { op: 'split'; segment: number; word?: number; at?: number };
export interface TranscriptEdits {
  operations?: EditOperation[];
  speakers?: Record<string, string>;
  segments?: { index: number; text?: string; speaker?: string }[];
  version?: number;
}
export interface SearchOptions {
  mode?: 'all' | 'words' | 'meaning';
  limit?: number;
  language?: string;
  createdAfter?: Date | string;
  createdBefore?: Date | string;
  date?: Date | string;
  minDuration?: number;
  maxDuration?: number;
  signal?: AbortSignal;
}
export interface SearchHit {
  transcript_id: string;
  filename: string;
  created_at: string;
  language: string;
  segment: number;
  start: number;
  end: number;
  speaker: string | null;
  text: string;
  /** [start, end) character ranges of `text`. */
  highlights: [number, number][];
  match: 'words' | 'meaning';
  score: number;
  word: number | null;
}
export interface SearchResults {
  query: string;
  mode: string;
  count: number;
  results: SearchHit[];
}
export declare class AccountResource {
  get(): Promise<Account>;
  update(changes: { name?: string; email?: string; emailPreferences?: Record<string, boolean> }): Promise<Account>;
  /** `{url, secret}`: the default webhook of async jobs and its signing secret. */
  webhook(): Promise<Json>;
  setWebhook(url: string | null): Promise<Json>;
  rotateWebhookSecret(): Promise<Json>;
}
export declare class Keys {
  list(): Promise<ApiKey[]>;
  create(name?: string): Promise<CreatedApiKey>;
  revoke(id: string): Promise<void>;
}
export declare class UsageResource {
  get(options?: { days?: number }): Promise<Usage>;
}
export declare class CloudResource {
  get(): Promise<Record<string, unknown>>;
}
/** An enrolled voice: the server keeps a voiceprint (an embedding), never the audio. */
export interface Speaker {
  id: string;
  name: string;
  speech_seconds: number;
  source: string;
  model: string;
  created_at: string;
  updated_at: string;
}
export declare class Speakers {
  enroll(
    name: string,
    options: { file: string | URL | Blob | ArrayBuffer | ArrayBufferView; filename?: string; signal?: AbortSignal }
      | { transcriptId: string; speaker: string; signal?: AbortSignal },
  ): Promise<Speaker>;
  list(): Promise<Speaker[]>;
  get(id: string): Promise<Speaker>;
  rename(id: string, name: string): Promise<Speaker>;
  delete(id: string): Promise<void>;
}

type Json = Record<string, any>;
export declare class AuthResource {
  config(): Promise<Json>;
  /** `key.key` is the first API key (shown once), or `{status: 'verification_sent'}`. */
  signup(email: string, password: string, options?: { name?: string; invite?: string }): Promise<Json>;
  verifyEmail(token: string): Promise<Json>;
  /** A new confirmation link by mail (the same answer for every address). */
  resendVerification(email: string): Promise<Json>;
  me(): Promise<Json>;
  changePassword(currentPassword: string, newPassword: string): Promise<Json>;
  requestPasswordReset(email: string): Promise<Json>;
  confirmPasswordReset(token: string, password: string): Promise<Json>;
}
export declare class AdminResource {
  accounts(q?: string, options?: { page?: number; pageSize?: number }): Promise<Json>;
  account(id: number): Promise<Json>;
  setPlan(id: number, plan: string): Promise<Json>;
  setRole(id: number, role: 'admin' | 'user'): Promise<Json>;
  disable(id: number): Promise<Json>;
  enable(id: number): Promise<Json>;
  grantCredits(id: number, credits: number): Promise<Json>;
  deleteAccount(id: number): Promise<void>;
  usage(options?: { days?: number }): Promise<Json>;
  server(): Promise<Json>;
  invites(): Promise<Json[]>;
  createInvite(options?: { maxUses?: number; expiresInDays?: number | null; note?: string }): Promise<Json>;
  revokeInvite(id: string): Promise<void>;
}

// -- streaming ---------------------------------------------------------------------------------
export interface StreamOptions {
  /** ISO 639-1 code or 'auto'. */
  language?: string;
  model?: string;
  /** ms to wait for `ready` (the first stream on a model waits for it to load). */
  openTimeout?: number;
  /** Domain terms Whisper should spell as given, and text in the style wanted. */
  vocabulary?: string[];
  prompt?: string;
  /** Store the session as a transcript of the account (`done.raw.transcript_id`). */
  save?: boolean;
  /** Any other config key goes to the server as it is. */
  [config: string]: unknown;
}

export type StreamEvent =
  | { type: 'partial'; text: string; raw: Record<string, unknown> }
  | { type: 'final'; text: string; start: number | null; end: number | null; words: Word[]; raw: Record<string, unknown> }
  | { type: 'done'; text: string; duration: number | null; raw: Record<string, unknown> };

export declare class StreamSession {
  readonly finals: StreamEvent[];
  readonly partial: string;
  readonly duration: number | null;
  readonly done: boolean;
  /** The finalized text so far. */
  readonly text: string;
  /** Send PCM int16 LE, 16 kHz, mono. */
  send(pcm: ArrayBuffer | ArrayBufferView): Promise<void>;
  stop(): void;
  events(): AsyncGenerator<StreamEvent>;
  /** Send the chunks, then stop, yielding events until the stream is complete. */
  transcribe(chunks: Iterable<ArrayBufferView | ArrayBuffer> | AsyncIterable<ArrayBufferView | ArrayBuffer>): AsyncGenerator<StreamEvent>;
  close(): void;
}

export declare function pcmFromFile(path: string): Promise<Buffer>;
export declare function pcmChunks(pcm: Uint8Array, chunkMs?: number): Generator<Uint8Array>;
export declare function paced<T extends ArrayBufferView>(chunks: Iterable<T> | AsyncIterable<T>, speed?: number): AsyncGenerator<T>;

// -- errors ------------------------------------------------------------------------------------
export declare class VocableError extends Error {
  constructor(message: string, info?: { status?: number | null; body?: unknown; headers?: Record<string, string>; closeCode?: number | null });
  /** HTTP status (null when no response arrived). */
  readonly status: number | null;
  /** The parsed error body, usually {"error": message}. */
  readonly body: unknown;
  readonly headers: Record<string, string>;
  /** For streams: the WebSocket close code (4000 + the HTTP status of the problem). */
  readonly closeCode: number | null;
  /** Seconds from Retry-After, or null. */
  readonly retryAfter: number | null;
}
export declare class APIConnectionError extends VocableError {}
export declare class APITimeoutError extends APIConnectionError {}
export declare class BadRequestError extends VocableError {}
export declare class AuthenticationError extends VocableError {}
export declare class PaymentRequiredError extends VocableError {}
export declare class PermissionDeniedError extends VocableError {}
export declare class NotFoundError extends VocableError {}
export declare class ConflictError extends VocableError {}
export declare class PayloadTooLargeError extends VocableError {}
export declare class RateLimitError extends VocableError {}
export declare class InternalServerError extends VocableError {}
export declare class ServiceUnavailableError extends VocableError {}
export declare class StreamError extends VocableError {}
export declare class TranscriptionFailedError extends VocableError {
  readonly transcript: Transcript;
}

export interface Speech {
  audio: Buffer;
  contentType: string;
  /** 'bundled' | 'matched' | 'cloned' */
  voice: string;
  voiceId: string | null;
  /** seconds of speech */
  duration: number | null;
  generationTime: number | null;
  /** with a reference: CAM++ cosine similarity of the answer's voice to it */
  speakerSimilarity: number | null;
  sampleRate: number | null;
}
// -- audio tools -------------------------------------------------------------------------------
export interface EnhanceOptions {
  denoise?: boolean;
  normalize?: boolean;
  sampleRate?: 8000 | 11025 | 16000 | 22050 | 24000 | 32000 | 44100 | 48000;
  format?: 'wav' | 'flac' | 'mp3' | 'ogg' | 'opus';
  filename?: string;
  signal?: AbortSignal;
}
export interface EnhancedAudio {
  audio: Buffer;
  contentType: string;
  /** seconds, as long as the input */
  duration: number | null;
  /** seconds the server spent */
  processingTime: number | null;
  /** LUFS of the result */
  loudness: number | null;
  /** dBTP of the result */
  truePeak: number | null;
  /** the denoiser's model id, or "off" */
  denoise: string | null;
}
