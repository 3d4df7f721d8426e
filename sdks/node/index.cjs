'use strict';
/**
 * Official Node.js SDK for Vocable, the self-hosted speech platform.
 *
 * Zero runtime dependencies: Node 20's fetch, FormData and Blob; for streaming, the global
 * WebSocket (Node 22+, or Node 20 with --experimental-websocket) or the `ws` package if installed.
 * The implementation is CommonJS so that `require('vocable')` and `import ... from 'vocable'`
 * share one copy (index.mjs re-exports this module). Types: index.d.cts and index.d.mts.
 */

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const VERSION = '0.1.0';
const DEFAULT_BASE_URL = 'http://127.0.0.1:8000';
// A synchronous transcription answers when the job is done: long files take minutes.
const DEFAULT_TIMEOUT_MS = 600_000;
const SAMPLE_RATE = 16_000;
const BYTES_PER_SECOND = SAMPLE_RATE * 2;

// -- errors -------------------------------------------------------------------------------------
class VocableError extends Error {
  /**
   * @param {string} message the server's `error` message (or a description of the failure)
   * @param {{status?: number|null, body?: unknown, headers?: Record<string,string>, closeCode?: number|null}} [info]
   */
  constructor(message, info = {}) {
    super(message);
    this.name = new.target.name;
    this.status = info.status ?? null;
    this.body = info.body ?? null;
    this.headers = info.headers ?? {};
    this.closeCode = info.closeCode ?? null;
  }

  /** Seconds the server asked to wait (`Retry-After`), or null. */
  get retryAfter() {
    const value = this.headers['retry-after'];
    if (value === undefined) return null;
    const seconds = Number(value);
    return Number.isFinite(seconds) ? seconds : null;
  }
}
class APIConnectionError extends VocableError {}
class APITimeoutError extends APIConnectionError {}
class BadRequestError extends VocableError {}
class AuthenticationError extends VocableError {}
class PaymentRequiredError extends VocableError {}
class PermissionDeniedError extends VocableError {}
class NotFoundError extends VocableError {}
class ConflictError extends VocableError {}
class PayloadTooLargeError extends VocableError {}
class RateLimitError extends VocableError {}
class InternalServerError extends VocableError {}
class ServiceUnavailableError extends VocableError {}
class StreamError extends VocableError {}
class TranscriptionFailedError extends VocableError {
  constructor(transcript) {
    super(transcript.error || 'Transcription failed.');
    this.transcript = transcript;
  }
}

const ERRORS_BY_STATUS = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

function errorClass(status) {
  return ERRORS_BY_STATUS[status] || (status >= 500 ? InternalServerError : VocableError);
}

async function errorFromResponse(response) {
  const text = await response.text().catch(() => '');
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text as the message
  }
  const message =
    body && typeof body.error === 'string' ? body.error : text.trim().slice(0, 500) || `HTTP ${response.status}`;
  const headers = Object.fromEntries(response.headers);
  const Cls = errorClass(response.status);
  return new Cls(message, { status: response.status, body, headers });
}

/** The error for a stream closed with `code` (4xxx = 4000 + the HTTP status of the problem). */
function streamError(message, code) {
  const status = code >= 4000 && code < 5000 ? code - 4000 : null;
  let Cls = status ? errorClass(status) : StreamError;
  if (Cls === VocableError) Cls = StreamError;
  return new Cls(message || `stream closed (${code})`, { status, closeCode: code });
}

// -- helpers ------------------------------------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function isoOrString(value) {
  if (value === undefined || value === null) return undefined;
  return value instanceof Date ? value.toISOString() : String(value);
}

function checkId(value) {
  const id = String(value);
  if (!id || id.includes('/')) throw new TypeError(`invalid id ${JSON.stringify(value)}`);
  return encodeURIComponent(id);
}

function dropUndefined(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}

function isAsyncIterable(value) {
  return value != null && typeof value[Symbol.asyncIterator] === 'function';
}

/** A multipart body streamed from an async iterable of bytes (for Node streams as the file). */
function multipartStream(fields, fileName, source) {
  const boundary = `----vocable${randomBytes(12).toString('hex')}`;
  const enc = new TextEncoder();
  const quote = (s) => String(s).replace(/["\r\n]/g, '_');
  async function* parts() {
    for (const [name, value] of Object.entries(fields)) {
      yield enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`);
    }
    yield enc.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(fileName)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    for await (const chunk of source) {
      if (typeof chunk === 'string') yield enc.encode(chunk);
      else yield chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
    }
    yield enc.encode(`\r\n--${boundary}--\r\n`);
  }
  const iterator = parts();
  const body = new ReadableStream({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

// -- the client ---------------------------------------------------------------------------------
class Vocable {
  /**
   * @param {object} [options]
   * @param {string|null} [options.apiKey] default: $VOCABLE_API_KEY; none = anonymous
   * @param {string} [options.baseURL] default: $VOCABLE_BASE_URL or http://127.0.0.1:8000
   * @param {number} [options.timeout] per request, in ms (default 600000)
   * @param {Record<string,string>} [options.headers] sent with every request
   * @param {typeof fetch} [options.fetch] a fetch implementation (default: the global one)
   * @param {any} [options.WebSocket] a WebSocket class for streaming (default: global, else `ws`)
   */
  constructor(options = {}) {
    this.apiKey = options.apiKey !== undefined ? options.apiKey : process.env.VOCABLE_API_KEY || null;
    this.baseURL = (options.baseURL || process.env.VOCABLE_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this._headers = { ...(options.headers || {}) };
    this._fetch = options.fetch || globalThis.fetch;
    this._WebSocket = options.WebSocket || null;
    this.transcripts = new Transcripts(this);
    this.account = new AccountResource(this);
    this.keys = new Keys(this);
    this.usage = new UsageResource(this);
    this.cloud = new CloudResource(this);
    this.auth = new AuthResource(this);
    this.admin = new AdminResource(this);
    this.speakers = new Speakers(this);
  }

  /** @internal */
  async _request(method, urlPath, { query, json, body, headers, signal, raw } = {}) {
    const url = new URL(this.baseURL + urlPath);
    for (const [k, v] of Object.entries(dropUndefined(query || {}))) url.searchParams.set(k, String(v));
    const allHeaders = {
      'User-Agent': `vocable-sdk-node/${VERSION}`,
      Accept: 'application/json',
      ...(this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {}),
      ...this._headers,
      ...(headers || {}),
    };
    let payload = body;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      allHeaders['Content-Type'] = 'application/json';
    }
    const timeoutSignal = AbortSignal.timeout(this.timeout);
    const init = {
      method,
      headers: allHeaders,
      body: payload,
      signal: signal ? AbortSignal.any([signal, timeoutSignal]) : timeoutSignal,
    };
    if (payload instanceof ReadableStream) init.duplex = 'half';
    let response;
    try {
      response = await this._fetch(url, init);
    } catch (err) {
      if (signal?.aborted) throw err;
      if (timeoutSignal.aborted) {
        throw new APITimeoutError(`request to ${this.baseURL} timed out after ${this.timeout} ms`);
      }
      const cause = err?.cause?.message || err?.message || String(err);
      throw new APIConnectionError(`cannot reach ${this.baseURL}: ${cause}`);
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (raw) return response;
    return response.json();
  }

  // -- transcription ----------------------------------------------------------------------------
  /**
   * Transcribe an audio or video file: a path (streamed from disk), a Buffer/Uint8Array/ArrayBuffer,
   * a Blob/File, or a Node Readable / async iterable of bytes (streamed, no Content-Length).
   * Options left out use the server's defaults.
   *
   * Resolves to the transcription JSON (responseFormat 'json'), the text body ('txt', 'srt',
   * 'vtt'), or with `async: true` (needs a key) the queued job `{id, status, url}`: then
   * `transcripts.wait(job.id)`.
   */
  async transcribe(file, options = {}) {
    const {
      model, language, diarize, speakers, enhance, vocabulary, prompt, webhookUrl,
      responseFormat = 'json', filename, signal,
    } = options;
    const fields = dropUndefined({
      model,
      language,
      diarize: diarize === undefined ? undefined : String(Boolean(diarize)),
      speakers: speakers === undefined ? undefined : String(speakers),
      enhance: enhance === undefined ? undefined : String(Boolean(enhance)),
      vocabulary: vocabulary?.length ? JSON.stringify([...vocabulary]) : undefined,
      prompt,
      webhook_url: webhookUrl,
      response_format: responseFormat === 'json' ? undefined : responseFormat,
      async: options.async ? 'true' : undefined,
    });
    const { body, headers } = await fileBody(file, fields, filename);
    const response = await this._request('POST', '/v1/transcribe', { body, headers, signal, raw: true });
    if (response.status === 202) return response.json();
    const type = response.headers.get('content-type') || '';
    if (!type.startsWith('application/json')) return response.text();
    const result = await response.json();
    const id = response.headers.get('x-transcript-id');
    if (id && !result.id) result.id = id;
    return result;
  }

  // -- speech synthesis -------------------------------------------------------------------------
  /**
   * Speak `text` (POST /v1/tts). Options: `reference` (3-10 s of a voice: a path, bytes or a
   * Blob; the answer is matched to it, or cloned where the server has a cloning model), `voice`,
   * `speed`, `format` (wav default, flac, mp3, ogg, opus, aac, pcm).
   * Resolves to `{audio: Buffer, contentType, voice ('bundled'|'matched'|'cloned'), voiceId,
   * duration, generationTime, speakerSimilarity, sampleRate}`.
   */
  async tts(text, options = {}) {
    const { reference, voice, speed, format, signal } = options;
    const form = new FormData();
    form.append('text', String(text));
    if (voice !== undefined) form.append('voice', String(voice));
    if (speed !== undefined) form.append('speed', String(speed));
    if (format !== undefined) form.append('format', String(format));
    if (reference !== undefined) {
      let blob;
      let name = 'reference';
      if (typeof reference === 'string' || reference instanceof URL) {
        blob = await fs.openAsBlob(reference instanceof URL ? reference : path.resolve(reference));
        name = path.basename(String(reference instanceof URL ? reference.pathname : reference));
      } else if (reference instanceof Blob) {
        blob = reference;
      } else if (reference instanceof ArrayBuffer || ArrayBuffer.isView(reference)) {
        blob = new Blob([reference]);
      } else {
        throw new TypeError('reference must be a path, bytes or a Blob');
      }
      form.append('reference', blob, name);
    }
    const response = await this._request('POST', '/v1/tts', { body: form, signal, raw: true });
    const number = (name) => {
      const value = response.headers.get(name);
      return value === null || value === '' ? null : Number(value);
    };
    return {
      audio: Buffer.from(await response.arrayBuffer()),
      contentType: response.headers.get('content-type') || '',
      voice: response.headers.get('x-voice') || '',
      voiceId: response.headers.get('x-vocable-voice'),
      duration: number('x-duration'),
      generationTime: number('x-generation-time'),
      speakerSimilarity: number('x-speaker-similarity'),
      sampleRate: number('x-sample-rate'),
    };
  }

  // -- text AI ----------------------------------------------------------------------------------
  /** Summarize text on the server's local LLM. */
  summarize(text, options = {}) {
    return this._request('POST', '/v1/summarize', { json: { text, style: options.style || 'brief' }, signal: options.signal });
  }

  /** Generate content (blog_post, social_media, ..., chapter_markers) from text. */
  generate(text, type, options = {}) {
    return this._request('POST', '/v1/generate', { json: { text, type }, signal: options.signal });
  }

  /** Analyze text: sentiment, topics, entities, action_items, questions, pii_redact. */
  analyze(text, type, options = {}) {
    const json = dropUndefined({ text, type, language: options.language });
    return this._request('POST', '/v1/analyze', { json, signal: options.signal });
  }

  /** Translate one text to `target` (source: "en" by default, "auto" detects; backend: "llm" or a model id). */
  translate(text, target, options = {}) {
    const json = dropUndefined({ text, target, source: options.source, backend: options.backend });
    return this._request('POST', '/v1/translate', { json, signal: options.signal });
  }

  /** Translate several texts in one request; resolves to the `translations` array, in order. */
  async translateMany(texts, target, options = {}) {
    const json = dropUndefined({ texts: [...texts], target, source: options.source, backend: options.backend });
    const { translations, ...meta } = await this._request('POST', '/v1/translate', { json, signal: options.signal });
    return translations.map((item) => ({ ...meta, ...item }));
  }

  /** Sentence embeddings (384 dimensions). */
  embed(texts, options = {}) {
    const list = typeof texts === 'string' ? [texts] : [...texts];
    return this._request('POST', '/v1/embed', { json: { texts: list }, signal: options.signal });
  }

  /**
   * Search every transcript of the account by words and by meaning (`mode`: all, words,
   * meaning); filters as on `transcripts.list`. Hits name the transcript, segment, start time
   * and highlight ranges.
   */
  search(q, options = {}) {
    const { mode = 'all', limit = 20, signal } = options;
    return this._request('GET', '/api/v1/search/', { query: { q, mode, limit, ...filterQuery(options) }, signal });
  }

  // -- meta -------------------------------------------------------------------------------------
  health() {
    return this._request('GET', '/health');
  }

  async models() {
    return (await this._request('GET', '/v1/models')).models;
  }

  async languages() {
    return (await this._request('GET', '/v1/languages')).languages;
  }

  // -- streaming --------------------------------------------------------------------------------
  /**
   * Open a real-time transcription session (WS /v1/stream); resolves once the server is ready.
   * Then `for await (const event of session.transcribe(pcmChunks))`, and `session.close()`.
   */
  async stream(options = {}) {
    const session = new StreamSession(this, options);
    await session.open();
    return session;
  }

  /**
   * Stream a file as if it were live: decoded to 16 kHz mono PCM (WAV, or raw .pcm s16le 16 kHz),
   * sent at `speed` × real time (null: as fast as the server takes it); yields events.
   */
  async *streamFile(filePath, options = {}) {
    const { speed = 1.0, chunkMs = 100, ...streamOptions } = options;
    const pcm = await pcmFromFile(filePath);
    let chunks = pcmChunks(pcm, chunkMs);
    if (speed) chunks = paced(chunks, speed);
    const session = await this.stream(streamOptions);
    try {
      yield* session.transcribe(chunks);
    } finally {
      session.close();
    }
  }

  // -- audio tools ------------------------------------------------------------------------------
  /**
   * Remove noise and normalise loudness (-16 LUFS, -1 dBTP) of an audio or video file (any input
   * `transcribe` takes). Options: denoise, normalize (default true), sampleRate, format (wav, flac,
   * mp3, ogg, opus). Resolves to `{ audio: Buffer, contentType, duration, processingTime, loudness,
   * truePeak, denoise }` (numbers in seconds, LUFS and dBTP, from the response headers).
   */
  async enhanceAudio(file, options = {}) {
    const { denoise, normalize, sampleRate, format, filename, signal } = options;
    const fields = dropUndefined({
      denoise: denoise === undefined ? undefined : String(Boolean(denoise)),
      normalize: normalize === undefined ? undefined : String(Boolean(normalize)),
      sample_rate: sampleRate === undefined ? undefined : String(sampleRate),
      format,
    });
    const { body, headers } = await fileBody(file, fields, filename);
    const response = await this._request('POST', '/v1/enhance-audio', {
      body, headers: { Accept: '*/*', ...(headers || {}) }, signal, raw: true,
    });
    const number = (name) => {
      const value = response.headers.get(name);
      return value === null || Number.isNaN(Number(value)) ? null : Number(value);
    };
    return {
      audio: Buffer.from(await response.arrayBuffer()),
      contentType: response.headers.get('content-type') || '',
      duration: number('x-duration'),
      processingTime: number('x-processing-time'),
      loudness: number('x-loudness'),
      truePeak: number('x-true-peak'),
      denoise: response.headers.get('x-denoise'),
    };
  }
}

/** The multipart body of an upload: `file` as transcribe and enhanceAudio take it. */
async function fileBody(file, fields, filename) {
  let body;
  let headers;
  if (typeof file === 'string' || file instanceof URL) {
    const filePath = file instanceof URL ? file : path.resolve(file);
    const blob = await fs.openAsBlob(filePath); // read lazily from disk, never whole in memory
    body = formData(fields, blob, filename || path.basename(String(file instanceof URL ? file.pathname : file)));
  } else if (file instanceof Blob) {
    body = formData(fields, file, filename || file.name || 'audio');
  } else if (file instanceof ArrayBuffer || ArrayBuffer.isView(file)) {
    body = formData(fields, new Blob([file]), filename || 'audio');
  } else if (isAsyncIterable(file)) {
    const name = filename || (typeof file.path === 'string' ? path.basename(file.path) : 'audio');
    const stream = multipartStream(fields, name, file);
    body = stream.body;
    headers = { 'Content-Type': stream.contentType };
  } else {
    throw new TypeError('file must be a path, bytes, a Blob or an async iterable of bytes');
  }
  return { body, headers };
}

function formData(fields, blob, filename) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', blob, filename);
  return form;
}

class Transcripts {
  constructor(client) {
    this._c = client;
  }

  /** One page, newest first. */
  list(options = {}) {
    const { page = 1, pageSize = 20, status, signal } = options;
    const query = {
      page,
      page_size: pageSize,
      status: Array.isArray(status) ? status.join(',') : status,
      ...filterQuery(options),
    };
    return this._c._request('GET', '/api/v1/transcripts/', { query, signal });
  }

  /** Every matching transcript, fetching pages as needed. */
  async *iter(options = {}) {
    let page = 1;
    for (;;) {
      const result = await this.list({ pageSize: 100, ...options, page });
      yield* result.results;
      if (!result.next) return;
      page += 1;
    }
  }

  get(id) {
    return this._c._request('GET', `/api/v1/transcripts/${checkId(id)}/`);
  }

  async delete(id) {
    await this._c._request('DELETE', `/api/v1/transcripts/${checkId(id)}/`);
  }

  /** The transcript as txt, srt, vtt, json, csv, docx or pdf (a Buffer); also written to `path`. */
  async export(id, format, options = {}) {
    const urlPath = `/api/v1/transcripts/${checkId(id)}/export/${checkId(String(format).toLowerCase())}/`;
    const response = await this._c._request('GET', urlPath, { raw: true, headers: { Accept: '*/*' } });
    const content = Buffer.from(await response.arrayBuffer());
    if (options.path) await fsp.writeFile(options.path, content);
    return content;
  }

  /** Poll until completed (resolves to the transcript) or failed (TranscriptionFailedError). */
  async wait(id, options = {}) {
    const { timeout = 3_600_000, pollInterval = 1000 } = options;
    const deadline = Date.now() + timeout;
    for (;;) {
      const transcript = await this.get(id);
      if (transcript.status === 'completed') return transcript;
      if (transcript.status === 'failed') throw new TranscriptionFailedError(transcript);
      if (Date.now() + pollInterval > deadline) {
        throw new APITimeoutError(`transcript ${id} is still ${transcript.status} after ${timeout} ms`);
      }
      await sleep(pollInterval);
    }
  }

  /** Ask about a transcript (RAG over its segments); pass `sessionId` to continue a conversation. */
  chat(id, question, options = {}) {
    const json = dropUndefined({ question, session_id: options.sessionId });
    return this._c._request('POST', `/api/v1/transcripts/${checkId(id)}/chat/`, { json });
  }

  analyze(id, type, options = {}) {
    const json = dropUndefined({ type, language: options.language });
    return this._c._request('POST', `/api/v1/transcripts/${checkId(id)}/analyze/`, { json });
  }

  generate(id, type) {
    return this._c._request('POST', `/api/v1/transcripts/${checkId(id)}/generate/`, { json: { type } });
  }

  // -- editing (PATCH) --------------------------------------------------------------------------
  /**
   * Apply edits in order, all or none: `operations` (rename_speaker, set_speaker, edit_text,
   * merge, split), `speakers` {old: new}, `segments` [{index, text?, speaker?}], `version`
   * (refused with ConflictError if the transcript changed since). Resolves to the transcript.
   */
  edit(id, edits = {}) {
    const json = dropUndefined({
      operations: edits.operations, speakers: edits.speakers, segments: edits.segments, version: edits.version,
    });
    return this._c._request('PATCH', `/api/v1/transcripts/${checkId(id)}/`, { json });
  }

  renameSpeaker(id, from, to) {
    return this.edit(id, { speakers: { [from]: to } });
  }

  /** Replace a segment's text; unchanged words keep their timings. */
  editSegment(id, index, text) {
    return this.edit(id, { operations: [{ op: 'edit_text', segment: index, text }] });
  }

  /** Merge segment `index` with the next one. */
  mergeSegments(id, index) {
    return this.edit(id, { operations: [{ op: 'merge', segment: index }] });
  }

  /** Split segment `index` before word `options.word` (an index) or at `options.at` seconds. */
  splitSegment(id, index, options = {}) {
    const op = { op: 'split', segment: index, ...(options.word !== undefined ? { word: options.word } : { at: options.at }) };
    return this.edit(id, { operations: [op] });
  }

  /** The edit history, oldest first. */
  async edits(id) {
    return (await this._c._request('GET', `/api/v1/transcripts/${checkId(id)}/edits/`)).edits;
  }

  // -- audio ------------------------------------------------------------------------------------
  /**
   * The stored audio as uploaded (a Buffer); `start`/`end` (byte offsets, end inclusive) read a
   * range (HTTP 206); also written to `path`.
   */
  async audio(id, options = {}) {
    const { start, end, path: out } = options;
    const headers = { Accept: '*/*' };
    if (start !== undefined || end !== undefined) headers.Range = `bytes=${start ?? ''}-${end ?? ''}`;
    const response = await this._c._request('GET', `/api/v1/transcripts/${checkId(id)}/audio`, { raw: true, headers });
    const content = Buffer.from(await response.arrayBuffer());
    if (out) await fsp.writeFile(out, content);
    return content;
  }

  /** A short-lived token for `GET .../audio?token=` (players that cannot send headers). */
  audioToken(id) {
    return this._c._request('POST', `/api/v1/transcripts/${checkId(id)}/audio/token`);
  }
}

function filterQuery(options) {
  return {
    language: options.language,
    created_after: isoOrString(options.createdAfter),
    created_before: isoOrString(options.createdBefore),
    date: isoOrString(options.date),
    min_duration: options.minDuration,
    max_duration: options.maxDuration,
  };
}

class AccountResource {
  constructor(client) {
    this._c = client;
  }

  get() {
    return this._c._request('GET', '/api/v1/account/');
  }

  /** Change name, email or email preferences (merged); resolves to the updated account. */
  update(changes = {}) {
    const json = dropUndefined({
      name: changes.name,
      email: changes.email,
      email_preferences: changes.emailPreferences ?? changes.email_preferences,
    });
    return this._c._request('PUT', '/api/v1/account/', { json });
  }

  /** The default webhook URL of async jobs and the secret deliveries are signed with. */
  webhook() {
    return this._c._request('GET', '/api/v1/account/webhook/');
  }

  /** Set (or, with null, clear) the URL async jobs report to by default. */
  setWebhook(url) {
    return this._c._request('PUT', '/api/v1/account/webhook/', { json: { url } });
  }

  /** A new signing secret: deliveries from now on are signed with it. */
  rotateWebhookSecret() {
    return this._c._request('POST', '/api/v1/account/webhook/secret/');
  }
}

class Keys {
  constructor(client) {
    this._c = client;
  }

  async list() {
    return (await this._c._request('GET', '/api/v1/keys/')).keys;
  }

  /** A new key; its raw secret (`key`) is shown this once. */
  create(name = '') {
    return this._c._request('POST', '/api/v1/keys/', { json: { name } });
  }

  async revoke(id) {
    await this._c._request('DELETE', `/api/v1/keys/${checkId(id)}/`);
  }
}

class UsageResource {
  constructor(client) {
    this._c = client;
  }

  /** Usage by day, oldest first, ending today (UTC); 30 days unless `days` says. */
  get(options = {}) {
    return this._c._request('GET', '/api/v1/usage/', { query: { days: options.days } });
  }
}

class CloudResource {
  constructor(client) {
    this._c = client;
  }

  get() {
    return this._c._request('GET', '/api/v1/cloud/');
  }
}

/** Voices known by name: diarized transcripts of the account label a matching voice by name. */
class Speakers {
  constructor(client) {
    this._c = client;
  }

  /**
   * Enroll `name` from a clip of that one person (`options.file`: path, Blob, ArrayBuffer or
   * view; at least 2 s of clear speech) or from a speaker of a stored transcript
   * (`options.transcriptId` and its label `options.speaker`, e.g. 'Speaker 2').
   * Costs the audio it runs on.
   */
  async enroll(name, options = {}) {
    const { file, filename, transcriptId, speaker, signal } = options;
    if ((file === undefined) === (transcriptId === undefined)) {
      throw new TypeError('give either file (a clip of the voice) or transcriptId and speaker');
    }
    if (file === undefined) {
      const json = { name, transcript_id: transcriptId, speaker };
      return this._c._request('POST', '/api/v1/speakers/', { json, signal });
    }
    let blob;
    let fname = filename;
    if (typeof file === 'string' || file instanceof URL) {
      blob = await fs.openAsBlob(file instanceof URL ? file : path.resolve(file));
      fname = fname || path.basename(String(file instanceof URL ? file.pathname : file));
    } else if (file instanceof Blob) {
      blob = file;
    } else if (file instanceof ArrayBuffer || ArrayBuffer.isView(file)) {
      blob = new Blob([file]);
    } else {
      throw new TypeError('file must be a path, URL, Blob, ArrayBuffer or typed array');
    }
    const body = formData({ name }, blob, fname || blob.name || 'audio');
    return this._c._request('POST', '/api/v1/speakers/', { body, signal });
  }

  async list() {
    return (await this._c._request('GET', '/api/v1/speakers/')).items;
  }

  get(id) {
    return this._c._request('GET', `/api/v1/speakers/${checkId(id)}/`);
  }

  rename(id, name) {
    return this._c._request('PATCH', `/api/v1/speakers/${checkId(id)}/`, { json: { name } });
  }

  async delete(id) {
    await this._c._request('DELETE', `/api/v1/speakers/${checkId(id)}/`);
  }
}

/**
 * Accounts people open themselves. Programs keep using API keys: `signup` resolves to the new
 * account's first key (`key.key`, shown once) unless the server verifies addresses by mail (then
 * `{status: 'verification_sent'}`; `verifyEmail(token)` resolves to the key). Session cookies the
 * server sets are ignored (fetch keeps none).
 */
class AuthResource {
  constructor(client) {
    this._c = client;
  }

  config() {
    return this._c._request('GET', '/api/v1/auth/config');
  }

  signup(email, password, options = {}) {
    const json = dropUndefined({ email, password, name: options.name, invite: options.invite });
    return this._c._request('POST', '/api/v1/auth/signup', { json });
  }

  verifyEmail(token) {
    return this._c._request('POST', '/api/v1/auth/verify', { json: { token } });
  }

  /** Who this client is: `{signed_in, via: 'key', account}`. */
  me() {
    return this._c._request('GET', '/api/v1/auth/me');
  }

  /** Every browser session of the account ends; keys keep working. */
  changePassword(currentPassword, newPassword) {
    return this._c._request('POST', '/api/v1/auth/password', {
      json: { current_password: currentPassword, new_password: newPassword },
    });
  }

  /** Mail a new confirmation link (the same answer whether or not the address waits for one). */
  resendVerification(email) {
    return this._c._request('POST', '/api/v1/auth/verify/resend', { json: { email } });
  }

  /** Mail a reset link (the same answer whether or not the address has an account). */
  requestPasswordReset(email) {
    return this._c._request('POST', '/api/v1/auth/reset', { json: { email } });
  }

  confirmPasswordReset(token, password) {
    return this._c._request('POST', '/api/v1/auth/reset/confirm', { json: { token, password } });
  }
}

function accountPath(id) {
  if (!Number.isInteger(id) || id < 1) throw new TypeError('an account id is a positive integer');
  return `/api/v1/admin/accounts/${id}/`;
}

/**
 * The operator console (`/api/v1/admin/`; the key must be an admin's, else a
 * PermissionDeniedError). Changes apply to the account's next request.
 */
class AdminResource {
  constructor(client) {
    this._c = client;
  }

  /** Accounts whose email or name contains `q` (or on plan `q`): `{accounts, total, ...}`. */
  accounts(q = '', options = {}) {
    return this._c._request('GET', '/api/v1/admin/accounts/', {
      query: { q, page: options.page, page_size: options.pageSize },
    });
  }

  account(id) {
    return this._c._request('GET', accountPath(id));
  }

  setPlan(id, plan) {
    return this._c._request('PATCH', accountPath(id), { json: { plan } });
  }

  /** 'admin' or 'user'. */
  setRole(id, role) {
    return this._c._request('PATCH', accountPath(id), { json: { role } });
  }

  /** Its keys, sessions and stream tickets are refused from now on. */
  disable(id) {
    return this._c._request('PATCH', accountPath(id), { json: { disabled: true } });
  }

  enable(id) {
    return this._c._request('PATCH', accountPath(id), { json: { disabled: false } });
  }

  /** Add credits (negative takes some back, never below zero); resolves to the account. */
  grantCredits(id, credits) {
    return this._c._request('POST', `${accountPath(id)}credits/`, { json: { credits } });
  }

  /** The account with its keys, sessions, transcripts, usage and stored audio. */
  async deleteAccount(id) {
    await this._c._request('DELETE', accountPath(id));
  }

  /** Usage across accounts by day, totals, and the busiest accounts. */
  usage(options = {}) {
    return this._c._request('GET', '/api/v1/admin/usage/', { query: { days: options.days } });
  }

  /** The server's workers, models, open streams, sign-up and mail settings. */
  server() {
    return this._c._request('GET', '/api/v1/admin/server/');
  }

  async invites() {
    return (await this._c._request('GET', '/api/v1/admin/invites/')).invites;
  }

  /** A new invite code (`code`, shown this once). */
  createInvite(options = {}) {
    return this._c._request('POST', '/api/v1/admin/invites/', {
      json: dropUndefined({
        max_uses: options.maxUses, expires_in_days: options.expiresInDays, note: options.note,
      }),
    });
  }

  async revokeInvite(id) {
    await this._c._request('DELETE', `/api/v1/admin/invites/${checkId(id)}/`);
  }
}

// -- streaming ----------------------------------------------------------------------------------
function streamURL(baseURL) {
  const url = new URL(baseURL);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/stream`;
  url.search = '';
  return url;
}

/** The WebSocket class to use and whether it takes custom headers (only `ws` does). */
function resolveWebSocket(custom) {
  if (custom) return { WebSocket: custom, headers: false };
  if (typeof globalThis.WebSocket === 'function') return { WebSocket: globalThis.WebSocket, headers: false };
  try {
    return { WebSocket: require('ws'), headers: true };
  } catch {
    throw new StreamError(
      'No WebSocket implementation: use Node 22+, run Node 20 with --experimental-websocket, or `npm install ws`.',
    );
  }
}

function toEvent(message) {
  if (message.is_final) return { type: 'done', text: message.text || '', duration: message.duration ?? null, raw: message };
  if ('text' in message) {
    return {
      type: 'final',
      text: message.text || '',
      start: message.start ?? null,
      end: message.end ?? null,
      words: message.words || [],
      raw: message,
    };
  }
  if ('partial' in message) return { type: 'partial', text: message.partial || '', raw: message };
  return null;
}

/** A live stream: `transcribe(chunks)` sends PCM (int16 LE, 16 kHz, mono) and yields events. */
class StreamSession {
  constructor(client, options = {}) {
    this._client = client;
    const { language, model, openTimeout, ...config } = options;
    this.language = language;
    this.model = model;
    this.openTimeout = openTimeout ?? 300_000;
    // Other options go into the stream's config as they are (vocabulary, prompt, save, ...).
    this.config = config;
    this.finals = [];
    this.partial = '';
    this.duration = null;
    this.done = false;
    this._queue = [];
    this._waiters = [];
    this._error = null; // the server's {"error"} message
    this._closed = null; // {code, reason} once closed
  }

  /** The finalized text so far. */
  get text() {
    return this.finals
      .map((e) => e.text.trim())
      .filter(Boolean)
      .join(' ');
  }

  async open() {
    const { WebSocket, headers } = resolveWebSocket(this._client._WebSocket);
    const url = streamURL(this._client.baseURL);
    const key = this._client.apiKey;
    let ws;
    if (headers) {
      ws = new WebSocket(url.toString(), {
        headers: { ...this._client._headers, ...(key ? { Authorization: `Bearer ${key}` } : {}) },
      });
    } else {
      // Browsers' WebSocket API cannot send headers: trade the key for a one-use stream ticket,
      // so the long-lived key never goes in a URL.
      if (key) url.searchParams.set('ticket', await this._ticket());
      ws = new WebSocket(url.toString());
    }
    this._ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (event) => this._onMessage(event.data));
    ws.addEventListener('close', (event) => this._onClose(event.code, event.reason));
    ws.addEventListener('error', () => {}); // a close event follows with the details

    const ready = new Promise((resolve, reject) => {
      this._ready = { resolve, reject };
    });
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify(dropUndefined({ ...this.config, language: this.language, model: this.model })));
    });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new StreamError('the server did not answer ready in time')), this.openTimeout);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return this;
  }

  /** A one-use stream ticket for the key; a refusal is the error the stream itself would give. */
  async _ticket() {
    try {
      return (await this._client._request('POST', '/v1/stream/ticket')).ticket;
    } catch (err) {
      if (err instanceof VocableError && err.status) throw streamError(err.message, 4000 + err.status);
      throw err;
    }
  }

  _onMessage(data) {
    if (typeof data !== 'string') return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message === null || typeof message !== 'object') return;
    if (message.status === 'ready' && this._ready) {
      this._ready.resolve();
      this._ready = null;
      return;
    }
    if (typeof message.error === 'string') {
      this._error = message.error;
      return;
    }
    const event = toEvent(message);
    if (!event) return;
    if (event.type === 'final') {
      this.finals.push(event);
      this.partial = '';
    } else if (event.type === 'partial') {
      this.partial = event.text;
    } else {
      this.done = true;
      this.duration = event.duration;
    }
    this._push({ event });
  }

  _failure(code, reason) {
    if (this._error) return streamError(this._error, code);
    if (code === 1000 || code === 1005) {
      return new StreamError(reason || 'the stream closed before it was complete', { closeCode: code });
    }
    if (code >= 4000 && code < 5000) return streamError(reason, code);
    return new APIConnectionError(`stream connection lost (${code}${reason ? `: ${reason}` : ''})`, { closeCode: code ?? null });
  }

  _onClose(code, reason) {
    this._closed = { code, reason };
    const failure = this.done ? null : this._failure(code, reason);
    if (this._ready) {
      this._ready.reject(failure || new StreamError('stream closed before ready'));
      this._ready = null;
    }
    this._push(failure ? { error: failure } : { end: true });
  }

  _push(item) {
    const waiter = this._waiters.shift();
    if (waiter) waiter(item);
    else this._queue.push(item);
  }

  _next() {
    if (this._queue.length) return Promise.resolve(this._queue.shift());
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  /** Send PCM int16 LE, 16 kHz, mono (any length); waits while the socket's buffer is full. */
  async send(pcm) {
    if (this._closed) throw this._failure(this._closed.code, this._closed.reason);
    while (this._ws.bufferedAmount > 1 << 20 && !this._closed) await sleep(10);
    const bytes = pcm instanceof ArrayBuffer ? new Uint8Array(pcm) : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    this._ws.send(bytes);
  }

  /** No more audio: the server finalizes what it has, then sends the final event. */
  stop() {
    if (!this._closed) this._ws.send(JSON.stringify({ action: 'stop' }));
  }

  /** Events until the stream is complete (the last has type 'done'); throws if it fails. */
  async *events() {
    while (!this.done || this._queue.length) {
      const item = await this._next();
      if (item.error) throw item.error;
      if (item.end) return;
      yield item.event;
      if (item.event.type === 'done') return;
    }
  }

  /** Send `chunks` (any iterable / async iterable of PCM bytes), then stop, yielding events. */
  async *transcribe(chunks) {
    let failure = null;
    const pump = (async () => {
      try {
        for await (const chunk of chunks) {
          if (this._closed) return;
          await this.send(chunk);
        }
        this.stop();
      } catch (err) {
        if (this._closed) return; // the reader reports why
        failure = err; // the audio source failed: end the stream
        this.close();
      }
    })();
    try {
      for await (const event of this.events()) yield event;
    } catch (err) {
      await pump;
      throw failure || err;
    } finally {
      if (!this.done) this.close();
    }
    await pump;
    if (failure) throw failure;
  }

  close() {
    const ws = this._ws;
    if (ws && ws.readyState !== 2 && ws.readyState !== 3) ws.close(1000);
  }
}

// -- PCM helpers --------------------------------------------------------------------------------
/**
 * Read a file as 16 kHz mono int16 PCM: WAV (PCM 8/16/24/32-bit or float; any rate and channel
 * count, converted here) or raw `.pcm`/`.raw` (already s16le 16 kHz mono). Other formats: convert
 * first, e.g. `ffmpeg -i in.mp3 -ar 16000 -ac 1 out.wav`.
 */
async function pcmFromFile(filePath) {
  const data = await fsp.readFile(filePath);
  const ext = path.extname(String(filePath)).toLowerCase();
  if (ext === '.pcm' || ext === '.raw') return data;
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') {
    throw new TypeError(
      `${path.basename(String(filePath))}: streamFile reads WAV or raw PCM only; convert it first ` +
        '(e.g. ffmpeg -i in.mp3 -ar 16000 -ac 1 out.wav) or send your own PCM with session.transcribe()',
    );
  }
  return wavToPcm16(data);
}

function wavToPcm16(data) {
  let offset = 12;
  let fmt = null;
  let samples = null;
  while (offset + 8 <= data.length) {
    const id = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    const start = offset + 8;
    if (id === 'fmt ') {
      let format = data.readUInt16LE(start);
      if (format === 0xfffe) format = data.readUInt16LE(start + 24); // WAVE_FORMAT_EXTENSIBLE
      fmt = { format, channels: data.readUInt16LE(start + 2), rate: data.readUInt32LE(start + 4), bits: data.readUInt16LE(start + 14) };
    } else if (id === 'data') {
      samples = data.subarray(start, Math.min(data.length, start + size));
    }
    offset = start + size + (size % 2);
  }
  if (!fmt || !samples) throw new TypeError('not a valid WAV file (no fmt or data chunk)');
  const { format, channels, rate, bits } = fmt;
  const width = bits / 8;
  const read = {
    '1:8': (i) => (samples[i] - 128) / 128,
    '1:16': (i) => samples.readInt16LE(i) / 32768,
    '1:24': (i) => samples.readIntLE(i, 3) / 8388608,
    '1:32': (i) => samples.readInt32LE(i) / 2147483648,
    '3:32': (i) => samples.readFloatLE(i),
    '3:64': (i) => samples.readDoubleLE(i),
  }[`${format}:${bits}`];
  if (!read) throw new TypeError(`unsupported WAV encoding (format ${format}, ${bits} bits)`);
  const frames = Math.floor(samples.length / (width * channels));
  const mono = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read((f * channels + c) * width);
    mono[f] = sum / channels;
  }
  const outLength = Math.floor((frames * SAMPLE_RATE) / rate);
  const out = Buffer.alloc(outLength * 2);
  const step = rate / SAMPLE_RATE;
  for (let i = 0; i < outLength; i++) {
    const pos = i * step; // linear interpolation
    const j = Math.floor(pos);
    const a = mono[j];
    const b = j + 1 < frames ? mono[j + 1] : a;
    const v = a + (b - a) * (pos - j);
    out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32767))), i * 2);
  }
  return out;
}

/** Split PCM bytes into chunks of `chunkMs` milliseconds. */
function* pcmChunks(pcm, chunkMs = 100) {
  const size = Math.max(2, Math.floor((BYTES_PER_SECOND * chunkMs) / 1000 / 2) * 2);
  for (let i = 0; i < pcm.length; i += size) yield pcm.subarray(i, i + size);
}

/** Yield PCM chunks no faster than `speed` × real time (as a microphone would). */
async function* paced(chunks, speed = 1.0) {
  const started = performance.now();
  let sent = 0;
  for await (const chunk of chunks) {
    const delay = started + (sent / BYTES_PER_SECOND / speed) * 1000 - performance.now();
    if (delay > 0) await sleep(delay);
    yield chunk;
    sent += chunk.byteLength;
  }
}

module.exports = {
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
};
module.exports.default = Vocable;
