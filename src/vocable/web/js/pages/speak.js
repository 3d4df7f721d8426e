// Text to speech (POST /v1/tts): type text, optionally upload 3-10 s of a voice to match, pick a
// voice and format; hear the answer, read what was done (bundled / matched / cloned and the
// achieved speaker similarity), download it.

import { getJSON, request, saveBlob } from '../api.js';
import { errorBox, h, pageHeader } from '../ui.js';

const FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'aac'];
let lastUrl = null;

async function speak(form) {
  const response = await request('v1/tts', { method: 'POST', form });
  return { blob: await response.blob(), headers: response.headers };
}

function describe(headers) {
  const mode = headers.get('X-Voice') || '';
  const parts = [`Voice ${headers.get('X-Vocable-Voice') || '?'} (${mode})`];
  const duration = headers.get('X-Duration');
  const took = headers.get('X-Generation-Time');
  if (duration) parts.push(`${Number(duration).toFixed(1)} s of speech`);
  if (took) parts.push(`made in ${Number(took).toFixed(1)} s`);
  const similarity = headers.get('X-Speaker-Similarity');
  if (similarity) parts.push(`speaker similarity to the reference ${Number(similarity).toFixed(2)}`);
  if (mode === 'matched') {
    parts.push('matched: the closest voice here, moved toward the reference (not a clone)');
  }
  return parts.join(' · ');
}

export async function render(main) {
  const errors = errorBox();
  const text = h('textarea', { id: 'tts-text', name: 'text', rows: 6, required: true, maxlength: 20000 });
  const reference = h('input', { id: 'tts-reference', name: 'reference', type: 'file', accept: 'audio/*,video/*' });
  const voice = h('select', { id: 'tts-voice', name: 'voice' }, h('option', { value: '' }, 'Default'));
  const format = h('select', { id: 'tts-format', name: 'format' },
    FORMATS.map((f) => h('option', { value: f }, f.toUpperCase())));
  const speed = h('input', { id: 'tts-speed', name: 'speed', type: 'number', min: 0.25, max: 4, step: 0.05, value: 1 });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'tts-submit' }, 'Speak');
  const result = h('section', { class: 'card', id: 'tts-result', hidden: true, 'aria-live': 'polite' });

  const formEl = h('form', { class: 'card' },
    h('div', { class: 'field' }, h('label', { for: 'tts-text' }, 'Text'), text,
      h('p', { class: 'help' }, 'Numbers, dates and abbreviations are read out; long text is spoken sentence by sentence.')),
    h('div', { class: 'field' }, h('label', { for: 'tts-reference' }, 'Reference voice (optional)'), reference,
      h('p', { class: 'help' }, '3 to 10 seconds of one person speaking, any audio format.')),
    h('div', { class: 'field field-inline field-small' }, h('label', { for: 'tts-voice' }, 'Voice'), voice),
    h('div', { class: 'field field-inline field-small' }, h('label', { for: 'tts-format' }, 'Format'), format),
    h('div', { class: 'field field-inline field-small' }, h('label', { for: 'tts-speed' }, 'Speed'), speed),
    h('div', { class: 'actions' }, submit));

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    const body = new FormData();
    body.append('text', text.value);
    if (voice.value) body.append('voice', voice.value);
    body.append('format', format.value);
    body.append('speed', speed.value || '1');
    if (reference.files[0]) body.append('reference', reference.files[0]);
    submit.disabled = true;
    submit.textContent = 'Speaking…';
    try {
      const { blob, headers } = await speak(body);
      if (lastUrl) URL.revokeObjectURL(lastUrl);
      lastUrl = URL.createObjectURL(blob);
      result.replaceChildren(
        h('h2', {}, 'Speech'),
        h('audio', { controls: true, src: lastUrl, class: 'player', id: 'tts-audio' }),
        h('p', { class: 'muted', id: 'tts-info' }, describe(headers)),
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => saveBlob(blob, `speech.${format.value}`) }, 'Download')),
      );
      result.hidden = false;
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Speak';
    }
  });

  main.replaceChildren(pageHeader('Speak', 'Text to speech, in a bundled voice or matched to yours.'),
    errors.el, formEl, result);
  try {
    const models = await getJSON('v1/models', { key: '' });
    for (const m of models.models.filter((x) => x.family === 'tts' && x.installed)) {
      voice.append(h('option', { value: m.id }, m.name));
    }
  } catch {
    // the default voice still speaks
  }
  return () => {
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = null;
  };
}
