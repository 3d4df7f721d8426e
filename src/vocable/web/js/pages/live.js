// Live transcription from the microphone over WS /v1/stream: 16 kHz PCM Int16 frames out,
// partial (interim) and final segments back.

import { api, keyStore, wsUrl } from '../api.js';
import { capitalize, clock, errorBox, h, pageHeader, toast } from '../ui.js';

// Close codes of /v1/stream (4000 + the HTTP status) when no {"error"} message said more.
const CLOSE_MESSAGES = {
  1006: 'The connection to the server was lost.',
  1011: 'The server failed while transcribing.',
  4400: 'The server refused the stream configuration.',
  4401: 'Your API key (or its stream ticket) was refused.',
  4402: 'No credits or minutes remaining. Upgrade your plan.',
  4408: 'The stream was closed after a period without audio.',
  4429: 'Too many streams or requests right now. Try again shortly.',
  4503: 'The server is busy (too many open streams or the model is unavailable).',
};

const MAX_PENDING_CHUNKS = 300; // 30 s of audio kept while the model loads

function micError(error) {
  if (!window.isSecureContext) {
    return 'The browser allows the microphone only on HTTPS or on localhost.';
  }
  if (error?.name === 'NotAllowedError') return 'Microphone access was denied. Allow it in the browser and try again.';
  if (error?.name === 'NotFoundError') return 'No microphone was found.';
  return `The microphone could not be opened: ${error?.message || error}`;
}

export async function render(main) {
  const errors = errorBox();
  const model = h('select', { id: 'live-model', disabled: true }, h('option', { value: '' }, 'Loading…'));
  const language = h('select', { id: 'live-language', disabled: true }, h('option', { value: '' }, 'Loading…'));
  const diarize = h('input', { id: 'live-diarize', type: 'checkbox' });
  const save = h('input', { id: 'live-save', type: 'checkbox', checked: Boolean(keyStore.get()) });
  const saved = h('p', { id: 'live-saved', hidden: true });
  const startButton = h('button', { type: 'button', class: 'primary', id: 'live-start' }, 'Start');
  const stopButton = h('button', { type: 'button', id: 'live-stop', disabled: true }, 'Stop');
  const statusText = h('span', { id: 'live-status-text' }, 'Not recording');
  const status = h('p', { class: 'live-status', 'data-state': 'idle', role: 'status' },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }), statusText);
  const level = h('meter', { class: 'level', min: '0', max: '1', value: '0', 'aria-label': 'Input level' });
  const finals = h('div', { id: 'live-finals' });
  const partial = h('p', { class: 'partial', id: 'live-partial', 'aria-live': 'off' });
  const output = h('div', { class: 'live-text', 'aria-live': 'polite', 'aria-relevant': 'additions' }, finals, partial);
  const copy = h('button', { type: 'button', disabled: true, onclick: async () => {
    const text = [...finals.querySelectorAll('.final-text')].map((p) => p.textContent).join('\n');
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied.');
    } catch {
      toast('The browser refused to copy.');
    }
  } }, 'Copy text');

  main.replaceChildren(
    pageHeader('Live transcription', 'Speak into your microphone; text appears as you talk.'),
    h('p', { class: 'notice' }, keyStore.get()
      ? 'Streamed audio is charged like uploaded audio, per started minute.'
      : 'Anonymous: a live session counts as one of your daily transcriptions.'),
    errors.el,
    h('section', { class: 'card stack', 'aria-label': 'Controls' },
      h('div', { class: 'grid-2' },
        h('div', { class: 'field' }, h('label', { for: 'live-model' }, 'Model'), model),
        h('div', { class: 'field' }, h('label', { for: 'live-language' }, 'Language'), language)),
      h('div', { class: 'row' },
        h('label', { class: 'check' }, diarize, ' Label speakers'),
        keyStore.get() ? h('label', { class: 'check' }, save, ' Save as a transcript') : null),
      h('div', { class: 'row' }, startButton, stopButton, copy),
      status,
      level),
    h('section', { class: 'card', 'aria-labelledby': 'live-title' },
      h('h2', { id: 'live-title' }, 'Transcript'), output, saved),
  );

  Promise.all([api.speechModels(), api.languages()]).then(([{ models }, { languages }]) => {
    const installed = models.filter((m) => m.installed);
    model.replaceChildren(...installed.map((m) =>
      h('option', { value: m.id, selected: m.default }, `${m.name} (${m.id})${m.default ? ' — default' : ''}`)));
    language.replaceChildren(
      h('option', { value: 'auto' }, 'Detect automatically'),
      ...[...languages].sort((a, b) => a.name.localeCompare(b.name))
        .map((l) => h('option', { value: l.code }, `${capitalize(l.name)} (${l.code})`)));
    model.disabled = false;
    language.disabled = false;
  }, (error) => errors.show(`Could not load the model and language lists: ${error.message}`));

  let session = null;

  const setState = (state, text) => {
    status.dataset.state = state;
    statusText.textContent = text;
    const running = state === 'connecting' || state === 'live' || state === 'finishing';
    startButton.disabled = running;
    stopButton.disabled = state !== 'live';
    model.disabled = running;
    language.disabled = running;
  };

  const stopAudio = (which = session) => {
    if (!which) return;
    which.stream?.getTracks().forEach((t) => t.stop());
    which.context?.close().catch(() => {});
    which.stream = null;
    which.context = null;
    level.value = 0;
  };

  const end = () => {
    stopAudio();
    if (session?.ws && session.ws.readyState <= WebSocket.OPEN) session.ws.close(1000);
    session = null;
  };

  const start = async () => {
    errors.hide();
    finals.replaceChildren();
    partial.textContent = '';
    copy.disabled = true;
    setState('connecting', 'Opening the microphone…');
    const current = { ws: null, stream: null, context: null, ready: false, failed: false, startedAt: 0 };
    session = current;
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('no mediaDevices');
      current.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
      try {
        current.context = new AudioContext({ sampleRate: 16000 });
      } catch {
        current.context = new AudioContext(); // the worklet resamples
      }
      await current.context.audioWorklet.addModule(new URL('web/js/pcm-worklet.js', document.baseURI));
    } catch (error) {
      stopAudio(current);
      if (session !== current) return;
      errors.show(micError(error));
      session = null;
      setState('idle', 'Not recording');
      return;
    }
    if (session !== current) {
      stopAudio(current); // the visitor left while the browser asked for the microphone
      return;
    }
    // Capture starts now; what is said while the model loads is kept and sent once it is ready.
    const pending = [];
    const node = new AudioWorkletNode(current.context, 'pcm-writer');
    node.port.onmessage = ({ data }) => {
      if (session !== current || !current.stream) return;
      level.value = Math.min(1, data.level * 4);
      if (current.ready && current.ws.readyState === WebSocket.OPEN) current.ws.send(data.pcm);
      else if (!current.ready && pending.length < MAX_PENDING_CHUNKS) pending.push(data.pcm);
    };
    // A silent path to the output keeps the graph (and so the worklet) running everywhere.
    const mute = current.context.createGain();
    mute.gain.value = 0;
    current.context.createMediaStreamSource(current.stream).connect(node).connect(mute)
      .connect(current.context.destination);

    setState('connecting', 'Connecting…');
    // With a key, trade it for a one-use stream ticket: a WebSocket URL is no place for the key
    // (browsers cannot send the Authorization header there, and URLs end up in logs).
    const params = {};
    if (keyStore.get()) {
      try {
        params.ticket = (await api.streamTicket()).ticket;
      } catch (error) {
        stopAudio(current);
        if (session !== current) return;
        errors.show(`Could not start the stream: ${error.message}`);
        session = null;
        setState('idle', 'Not recording');
        return;
      }
      if (session !== current) {
        stopAudio(current); // the visitor left meanwhile
        return;
      }
    }
    const ws = new WebSocket(wsUrl('v1/stream', params));
    ws.binaryType = 'arraybuffer';
    current.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({
        model: model.value || undefined,
        language: language.value || 'auto',
        diarize: diarize.checked,
        save: Boolean(keyStore.get()) && save.checked,
      }));
      setState('connecting', 'Loading the model…');
    });
    ws.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.error) {
        current.failed = true;
        errors.show(message.error);
        return;
      }
      if (message.status === 'ready') {
        current.ready = true;
        current.startedAt = Date.now();
        for (const pcm of pending.splice(0)) ws.send(pcm);
        setState('live', 'Listening');
        return;
      }
      if (typeof message.partial === 'string') {
        partial.textContent = message.partial;
        return;
      }
      if (typeof message.text === 'string') {
        partial.textContent = '';
        if (message.text.trim()) {
          finals.append(h('p', { class: 'final' },
            typeof message.start === 'number' ? h('span', { class: 'timestamp' }, clock(message.start), ' ') : null,
            message.speaker ? h('span', { class: 'speaker' }, message.speaker, ' ') : null,
            h('span', { class: 'final-text' }, message.text.trim())));
          copy.disabled = false;
        }
      }
      if (message.is_final) {
        const seconds = message.duration ?? (Date.now() - current.startedAt) / 1000;
        setState('idle', `Finished — ${clock(seconds, { tenths: false })} of audio`);
        if (message.transcript_id) {
          saved.replaceChildren('Saved: ', h('a', { href: `#/transcripts/${message.transcript_id}` },
            'open the transcript'), ' (listen, edit, export).');
          saved.hidden = false;
        }
        current.finished = true;
      }
    });
    ws.addEventListener('close', (event) => {
      stopAudio(current);
      if (!current.finished && !current.failed) {
        const reason = event.reason ? ` (${event.reason})` : '';
        errors.show(CLOSE_MESSAGES[event.code] || `The stream closed unexpectedly: code ${event.code}${reason}.`);
      }
      if (!current.finished) setState('idle', 'Not recording');
      if (session === current) session = null;
    });
  };

  const stop = () => {
    if (!session?.ws) return;
    stopAudio(); // no more audio; the server finalizes what it has
    if (session.ws.readyState === WebSocket.OPEN) session.ws.send(JSON.stringify({ action: 'stop' }));
    setState('finishing', 'Finishing…');
  };

  startButton.addEventListener('click', start);
  stopButton.addEventListener('click', stop);
  return end;
}
