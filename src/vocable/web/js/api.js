// The HTTP client of the page: the stored API key, the {"error": ...} shape, uploads with progress.
// Every URL is relative to the page, so the interface also works behind a path prefix.

import { SESSION_KEY, session } from './session.js';

const KEY_STORAGE = 'vocable.apiKey';
const keyListeners = new Set();

export const keyStore = {
  get() {
    const signedIn = session.active ? SESSION_KEY : ''; // a signed-in browser (session.js)
    try {
      return localStorage.getItem(KEY_STORAGE) || signedIn;
    } catch {
      return signedIn; // storage disabled: anonymous unless signed in
    }
  },
  set(key) {
    localStorage.setItem(KEY_STORAGE, key);
    keyListeners.forEach((fn) => fn(key));
  },
  clear() {
    localStorage.removeItem(KEY_STORAGE);
    keyListeners.forEach((fn) => fn(''));
  },
  onChange(fn) {
    keyListeners.add(fn);
    return () => keyListeners.delete(fn);
  },
};

// Another tab saved or forgot the key.
window.addEventListener('storage', (event) => {
  if (event.key === KEY_STORAGE) keyListeners.forEach((fn) => fn(event.newValue || ''));
});

export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function apiUrl(path) {
  return new URL(path, document.baseURI).href;
}

export function wsUrl(path, params = {}) {
  const url = new URL(path, document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [name, value] of Object.entries(params)) {
    if (value) url.searchParams.set(name, value);
  }
  return url.href;
}

function withRetryHint(message, status, retryAfter) {
  if (status === 429 && retryAfter && !/try again/i.test(message)) {
    return `${message} Try again in ${retryAfter} s.`;
  }
  return message;
}

function messageFrom(status, statusText, bodyText) {
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // not JSON (a proxy's HTML page, say): fall back to the status line
  }
  if (status === 413) return 'The file is too large for your plan.';
  if (status === 502 || status === 504) return 'The server did not answer in time. Try again.';
  return `The server answered ${status}${statusText ? ` ${statusText}` : ''}.`;
}

async function errorFrom(response) {
  const text = await response.text().catch(() => '');
  const retryAfter = response.headers.get('Retry-After');
  const message = messageFrom(response.status, response.statusText, text);
  return new ApiError(response.status, withRetryHint(message, response.status, retryAfter), retryAfter);
}

const OFFLINE = 'Could not reach the Vocable server. Check that it is running and try again.';
const INTERRUPTED =
  'The upload was interrupted: the server closed the connection. The file may be larger than ' +
  'your plan allows, or the server went away.';

/** One call to the server: the caller's key or session (with its CSRF token on calls that change
 * state), a JSON body or a FormData one (`form`: uploads), the server's `{error}` as an ApiError. */
export async function request(path, { method = 'GET', json, form, key, signal } = {}) {
  const token = key === undefined ? keyStore.get() : key;
  const headers = {};
  if (token && token !== SESSION_KEY) headers.Authorization = `Bearer ${token}`;
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser writes the multipart boundary
  }
  let response;
  try {
    response = await fetch(apiUrl(path), { method, headers, body, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, OFFLINE);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function getJSON(path, options) {
  return (await request(path, options)).json();
}

function filenameFrom(disposition, fallback) {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // malformed: try the plain one
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}

export const api = {
  // /v1/models lists every model family; the pages choose among the speech (Whisper) models.
  speechModels: () => getJSON('v1/models').then((body) => ({
    ...body, models: body.models.filter((m) => (m.family || 'speech') === 'speech'),
  })),
  languages: () => getJSON('v1/languages'),
  health: () => getJSON('health'),
  account: (key) => getJSON('api/v1/account/', { key }),
  usage: (days = 30) => getJSON(`api/v1/usage/?days=${days}`),
  keys: () => getJSON('api/v1/keys/'),
  createKey: (name) => getJSON('api/v1/keys/', { method: 'POST', json: { name } }),
  revokeKey: (id) => getJSON(`api/v1/keys/${encodeURIComponent(id)}/`, { method: 'DELETE' }),
  transcripts({ page = 1, pageSize = 20, status = '', filters = {} } = {}) {
    const query = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
    if (status) query.set('status', status);
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    return getJSON(`api/v1/transcripts/?${query}`);
  },
  // PATCH: {operations: [...], speakers: {old: new}, segments: [...], version}
  editTranscript: (id, body) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/`, { method: 'PATCH', json: body }),
  // A short-lived token an <audio> element sends in its URL (it cannot send the key's header).
  audioToken: (id) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/audio/token`, { method: 'POST' }),
  search(q, { mode = 'all', limit = 30, filters = {} } = {}) {
    const query = new URLSearchParams({ q, mode, limit: String(limit) });
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    return getJSON(`api/v1/search/?${query}`);
  },
  analyzeTranscript: (id, type) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/analyze/`, { method: 'POST', json: { type } }),
  generateTranscript: (id, type) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/generate/`, { method: 'POST', json: { type } }),
  translate: (texts, target, source = 'auto') =>
    getJSON('v1/translate', { method: 'POST', json: { texts, target, source } }),
  translateLanguages: () => getJSON('v1/translate/languages'),
  transcript: (id, signal) => getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/`, { signal }),
  deleteTranscript: (id) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/`, { method: 'DELETE' }),
  async exportTranscript(id, format) {
    const response = await request(
      `api/v1/transcripts/${encodeURIComponent(id)}/export/${encodeURIComponent(format)}/`,
    );
    const blob = await response.blob();
    const filename = filenameFrom(response.headers.get('Content-Disposition'), `transcript.${format}`);
    return { blob, filename };
  },
  // A one-use ticket for WS /v1/stream (within a minute): the key itself never goes in a URL.
  streamTicket: () => getJSON('v1/stream/ticket', { method: 'POST' }),
  summarize: (text, style) => getJSON('v1/summarize', { method: 'POST', json: { text, style } }),
  chat: (id, question, sessionId) =>
    getJSON(`api/v1/transcripts/${encodeURIComponent(id)}/chat/`, {
      method: 'POST',
      json: sessionId ? { question, session_id: sessionId } : { question },
    }),

  /**
   * POST /v1/transcribe with upload progress (fetch cannot report it, XMLHttpRequest can).
   * Returns { promise, abort }; the promise resolves to { result, transcriptId }.
   */
  transcribe(file, fields, { onUploadProgress, onUploaded } = {}) {
    const xhr = new XMLHttpRequest();
    const promise = new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) {
        if (value !== undefined && value !== null && value !== '') form.append(name, String(value));
      }
      form.append('file', file, file.name);
      xhr.open('POST', apiUrl('v1/transcribe'));
      const token = keyStore.get();
      if (token && token !== SESSION_KEY) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      if (session.csrf) xhr.setRequestHeader('X-CSRF-Token', session.csrf);
      let sent = 0;
      let uploaded = false;
      xhr.upload.addEventListener('progress', (event) => {
        sent = event.loaded;
        if (event.lengthComputable && onUploadProgress) onUploadProgress(event.loaded, event.total);
      });
      xhr.upload.addEventListener('load', () => {
        uploaded = true;
        if (onUploaded) onUploaded();
      });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            const result = JSON.parse(xhr.responseText);
            resolve({ result, transcriptId: result.id || xhr.getResponseHeader('X-Transcript-Id') });
          } catch {
            reject(new ApiError(xhr.status, 'The server sent a response that is not JSON.'));
          }
          return;
        }
        const retryAfter = xhr.getResponseHeader('Retry-After');
        const message = messageFrom(xhr.status, xhr.statusText, xhr.responseText);
        reject(new ApiError(xhr.status, withRetryHint(message, xhr.status, retryAfter), retryAfter));
      });
      // The server may refuse (413...) and close before the upload is done: browsers then report a
      // network error and the JSON answer is lost, so say what most likely happened.
      xhr.addEventListener('error', () => reject(new ApiError(0, sent > 0 && !uploaded ? INTERRUPTED : OFFLINE)));
      xhr.addEventListener('abort', () => reject(new DOMException('Cancelled', 'AbortError')));
      xhr.send(form);
    });
    return { promise, abort: () => xhr.abort() };
  },
};

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
