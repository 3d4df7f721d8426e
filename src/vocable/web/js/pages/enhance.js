// Clean up a recording: upload, remove noise and normalise loudness (POST /v1/enhance-audio), hear
// the original and the result side by side, download the result.

import { request, saveBlob } from '../api.js';
import { bytes, errorBox, h, pageHeader } from '../ui.js';

const ACCEPT =
  'audio/*,video/*,.mp3,.wav,.flac,.ogg,.oga,.m4a,.aac,.opus,.wma,.mp4,.webm,.mkv,.avi,.mov,.mpg,.mpeg';
const EXTENSIONS = { 'audio/wav': 'wav', 'audio/flac': 'flac', 'audio/mpeg': 'mp3', 'audio/ogg': 'ogg' };

async function enhance(file, fields, signal) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, file.name);
  const response = await request('v1/enhance-audio', { method: 'POST', form, signal });
  return { blob: await response.blob(), headers: response.headers };
}

export function render(main) {
  const errors = errorBox();
  const urls = [];
  let controller = null;
  const fileInput = h('input', { id: 'enhance-file', type: 'file', accept: ACCEPT, required: true });
  const denoise = h('input', { id: 'enhance-denoise', type: 'checkbox', checked: true });
  const normalize = h('input', { id: 'enhance-normalize', type: 'checkbox', checked: true });
  const format = h('select', { id: 'enhance-format' },
    ['wav', 'flac', 'mp3', 'ogg'].map((f) => h('option', { value: f }, f.toUpperCase())));
  const submit = h('button', { type: 'submit', class: 'primary', id: 'enhance-submit' }, 'Clean up');
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { class: 'card stack', hidden: true, 'aria-labelledby': 'enhance-result' });

  const form = h(
    'form',
    { class: 'card stack', novalidate: true, 'aria-labelledby': 'enhance-upload' },
    h('h2', { id: 'enhance-upload', class: 'visually-hidden' }, 'Upload'),
    h('div', { class: 'field' },
      h('label', { for: 'enhance-file' }, 'Audio or video file'),
      fileInput,
      h('p', { class: 'help' }, 'Any format the transcription page takes, up to your plan\'s size.')),
    h('div', { class: 'row row-center' },
      h('label', { class: 'check' }, denoise, ' Remove background noise'),
      h('label', { class: 'check' }, normalize, ' Normalise loudness (-16 LUFS)')),
    h('div', { class: 'field field-inline field-small' },
      h('label', { for: 'enhance-format' }, 'Format'), format),
    h('div', { class: 'actions' }, submit),
    status,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    const file = fileInput.files[0];
    if (!file) {
      errors.show('Choose an audio or video file first.');
      return;
    }
    controller?.abort();
    controller = new AbortController();
    submit.disabled = true;
    status.textContent = `Uploading and cleaning up ${file.name} (${bytes(file.size)})…`;
    try {
      const fields = { denoise: String(denoise.checked), normalize: String(normalize.checked), format: format.value };
      const { blob, headers } = await enhance(file, fields, controller.signal);
      urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
      const before = URL.createObjectURL(file);
      const after = URL.createObjectURL(blob);
      urls.push(before, after);
      const name = `${file.name.replace(/\.[^.]+$/, '')}.enhanced.${EXTENSIONS[blob.type] || format.value}`;
      const facts = [
        `${Number(headers.get('X-Duration') || 0).toFixed(1)} s of audio`,
        `processed in ${Number(headers.get('X-Processing-Time') || 0).toFixed(1)} s`,
        headers.get('X-Loudness') ? `${headers.get('X-Loudness')} LUFS` : null,
        headers.get('X-True-Peak') ? `true peak ${headers.get('X-True-Peak')} dBTP` : null,
      ].filter(Boolean).join(' · ');
      result.replaceChildren(
        h('h2', { id: 'enhance-result' }, 'Before and after'),
        h('p', { class: 'muted' }, facts),
        h('div', { class: 'grid-2' },
          h('figure', {}, h('figcaption', {}, 'Original'), h('audio', { controls: true, src: before, preload: 'metadata' })),
          h('figure', {}, h('figcaption', {}, 'Cleaned up'), h('audio', { controls: true, src: after, preload: 'metadata' }))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => saveBlob(blob, name) }, `Download ${name}`)),
      );
      result.hidden = false;
      status.textContent = 'Done.';
    } catch (error) {
      if (error.name !== 'AbortError') {
        errors.show(error);
        status.textContent = '';
      }
    } finally {
      submit.disabled = false;
    }
  });

  main.replaceChildren(
    pageHeader('Clean up audio', 'Remove background noise and even out loudness — on this server.'),
    errors.el,
    form,
    result,
  );
  return () => {
    controller?.abort();
    urls.forEach((u) => URL.revokeObjectURL(u));
  };
}
