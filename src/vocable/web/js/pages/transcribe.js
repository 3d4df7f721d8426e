// Upload a file and transcribe it: model, language and diarization options; upload progress, then
// a waiting state; the result with downloads. The running job outlives the page view, so leaving
// and coming back shows where it is.

import { api, keyStore, saveBlob } from '../api.js';
import {
  LOCAL_FORMATS,
  copyTextButton,
  formatLabel,
  renderTranscript,
} from '../transcript-view.js';
import { bytes, capitalize, clock, errorBox, h, pageHeader, toast } from '../ui.js';

const OPTIONS_STORAGE = 'vocable.transcribeOptions';
const ACCEPT =
  'audio/*,video/*,.mp3,.wav,.flac,.ogg,.oga,.m4a,.aac,.opus,.wma,.mp4,.webm,.mkv,.avi,.mov,.mpg,.mpeg';

// The one transcription this tab runs (state survives navigation between pages).
const job = {
  state: 'idle', // idle | uploading | waiting | done | failed
  file: null,
  audioUrl: null,
  loaded: 0,
  total: 0,
  startedAt: 0,
  waitingSince: 0,
  model: '',
  result: null,
  transcriptId: null,
  keyed: false,
  error: null,
  abort: null,
  listeners: new Set(),
};

function update(changes) {
  Object.assign(job, changes);
  job.listeners.forEach((fn) => fn());
}

function savedOptions() {
  try {
    return JSON.parse(localStorage.getItem(OPTIONS_STORAGE) || '{}');
  } catch {
    return {};
  }
}

function start(file, fields) {
  if (job.audioUrl) URL.revokeObjectURL(job.audioUrl);
  const { promise, abort } = api.transcribe(file, fields, {
    onUploadProgress: (loaded, total) => update({ loaded, total }),
    onUploaded: () => update({ state: 'waiting', waitingSince: Date.now() }),
  });
  update({
    state: 'uploading',
    file,
    audioUrl: URL.createObjectURL(file),
    loaded: 0,
    total: file.size,
    startedAt: Date.now(),
    model: fields.model,
    result: null,
    transcriptId: null,
    keyed: Boolean(keyStore.get()),
    error: null,
    abort,
  });
  promise.then(
    ({ result, transcriptId }) => update({ state: 'done', result, transcriptId, abort: null }),
    (error) => {
      if (error.name === 'AbortError') {
        update({ state: 'idle', abort: null });
        toast('Transcription cancelled.');
      } else update({ state: 'failed', error, abort: null });
    },
  );
}

function modelSelect(models, selected) {
  const installed = models.filter((m) => m.installed);
  const others = models.filter((m) => !m.installed);
  const fallback = installed.find((m) => m.default)?.id || installed[0]?.id || '';
  const value = installed.some((m) => m.id === selected) ? selected : fallback;
  const label = (m) =>
    `${m.name} (${m.id})${m.default ? ' — default' : ''}${m.speed ? ` · ${m.speed.replace('_', ' ')}` : ''}`;
  return h(
    'select',
    { id: 'model', name: 'model', 'aria-describedby': 'model-help' },
    installed.map((m) => h('option', { value: m.id, selected: m.id === value }, label(m))),
    others.length
      ? h(
          'optgroup',
          { label: 'Not installed (vocable models pull <id>)' },
          others.map((m) => h('option', { value: m.id, disabled: true }, `${m.name} (${m.id})`)),
        )
      : null,
  );
}

function languageSelect(languages, selected) {
  const sorted = [...languages].sort((a, b) => a.name.localeCompare(b.name));
  return h(
    'select',
    { id: 'language', name: 'language' },
    h('option', { value: 'auto', selected: !selected || selected === 'auto' }, 'Detect automatically'),
    sorted.map((l) =>
      h('option', { value: l.code, selected: l.code === selected }, `${capitalize(l.name)} (${l.code})`),
    ),
  );
}

function downloads() {
  const formats = ['txt', 'srt', 'vtt', 'json'];
  const base = (job.file?.name || 'transcript').replace(/\.[^.]+$/, '');
  const download = async (format) => {
    // A kept transcript comes from the server's own formatter; an anonymous one (not kept) is
    // formatted here from the JSON already on screen.
    if (job.transcriptId && keyStore.get()) {
      try {
        const { blob, filename } = await api.exportTranscript(job.transcriptId, format);
        saveBlob(blob, filename);
        return;
      } catch (error) {
        toast(`Server export failed (${error.message}); saving the copy in this page.`);
      }
    }
    const { type, render } = LOCAL_FORMATS[format];
    saveBlob(new Blob([render(job.result)], { type }), `${base}.${format}`);
  };
  return h(
    'div',
    { class: 'button-row', role: 'group', 'aria-label': 'Download the transcript' },
    h('span', { class: 'muted' }, 'Download'),
    formats.map((format) =>
      h('button', { type: 'button', onclick: () => download(format) }, formatLabel(format)),
    ),
    copyTextButton(job.result),
  );
}

function progressView() {
  const bar = h('progress', { max: '100', 'aria-labelledby': 'progress-label' });
  const text = h('span');
  const elapsed = h('span', { class: 'muted', 'aria-hidden': 'true' });
  const hint = h('p', { class: 'muted small' });
  const section = h(
    'section',
    { class: 'card progress-card', 'aria-busy': 'true' },
    h('p', { id: 'progress-label', class: 'progress-label' }, text, elapsed),
    bar,
    hint,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => job.abort && job.abort() }, 'Cancel')),
  );
  section.refresh = () => {
    const uploading = job.state === 'uploading';
    section.dataset.state = job.state;
    if (uploading) {
      const percent = job.total ? Math.round((job.loaded / job.total) * 100) : 0;
      bar.value = percent;
      text.textContent = `Uploading ${job.file.name} — ${percent}% (${bytes(job.loaded)} of ${bytes(job.total)})`;
      hint.textContent = 'Keep this tab open until the upload finishes.';
    } else {
      bar.removeAttribute('value'); // indeterminate while the server works
      text.textContent = `Transcribing ${job.file.name}${job.model ? ` with ${job.model}` : ''}…`;
      hint.textContent = 'The file is on the server. Recognition runs locally; long files take a while.';
    }
    const since = uploading ? job.startedAt : job.waitingSince;
    elapsed.textContent = ` ${clock((Date.now() - since) / 1000, { tenths: false })}`;
  };
  section.refresh();
  return section;
}

function resultView() {
  const audio = job.audioUrl
    ? h('audio', { controls: true, src: job.audioUrl, preload: 'metadata', class: 'player' })
    : null;
  const onSeek = audio
    ? (seconds) => {
        audio.currentTime = seconds;
        audio.play().catch(() => {});
      }
    : undefined;
  const kept = job.transcriptId && job.keyed
    ? h('p', { class: 'muted' }, 'Saved to ',
        h('a', { href: `#/transcripts/${encodeURIComponent(job.transcriptId)}` }, 'My transcripts'), '.')
    : h('p', { class: 'muted' }, 'Anonymous result: it is not kept on the server. Download it now if you need it.');
  return h(
    'section',
    { class: 'card result', 'aria-labelledby': 'result-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'result-title', tabindex: '-1' }, `Transcript of ${job.file?.name || 'your file'}`),
      kept),
    downloads(),
    audio,
    renderTranscript(job.result, { onSeek }),
  );
}

export async function render(main) {
  const saved = savedOptions();
  const errors = errorBox();
  const fileInput = h('input', {
    id: 'file', name: 'file', type: 'file', accept: ACCEPT, class: 'file-input',
    'aria-describedby': 'file-help',
  });
  const fileName = h('span', { class: 'file-name' }, 'No file chosen');
  const drop = h(
    'div',
    { class: 'dropzone' },
    fileInput,
    h('div', { class: 'dropzone-text', 'aria-hidden': 'true' },
      h('strong', {}, 'Choose a file'), ' or drop it here'),
    fileName,
  );
  const showFile = () => {
    const file = fileInput.files[0];
    fileName.textContent = file ? `${file.name} · ${bytes(file.size)}` : 'No file chosen';
    drop.classList.toggle('has-file', Boolean(file));
  };
  fileInput.addEventListener('change', () => {
    showFile();
    errors.hide();
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    if (event.dataTransfer?.files?.length) {
      fileInput.files = event.dataTransfer.files;
      showFile();
    }
  });

  const modelField = h('div', { class: 'field' },
    h('label', { for: 'model' }, 'Model'),
    h('select', { id: 'model', name: 'model', disabled: true }, h('option', { value: '' }, 'Loading…')),
    h('p', { id: 'model-help', class: 'help' }, 'Installed speech models on this server.'));
  const languageField = h('div', { class: 'field' },
    h('label', { for: 'language' }, 'Language'),
    h('select', { id: 'language', name: 'language', disabled: true }, h('option', { value: '' }, 'Loading…')));
  const diarize = h('input', { id: 'diarize', name: 'diarize', type: 'checkbox', checked: saved.diarize !== false });
  const speakers = h('input', {
    id: 'speakers', name: 'speakers', type: 'number', min: '0', max: '32', step: '1',
    value: String(saved.speakers ?? 0), inputmode: 'numeric',
  });
  const speakersField = h('div', { class: 'field field-inline field-small' },
    h('label', { for: 'speakers' }, 'Expected speakers'),
    speakers,
    h('span', { class: 'help' }, '0 = detect'));
  const syncSpeakers = () => {
    speakersField.hidden = !diarize.checked;
  };
  diarize.addEventListener('change', syncSpeakers);
  syncSpeakers();

  const submit = h('button', { type: 'submit', class: 'primary', id: 'transcribe-submit' }, 'Transcribe');
  const form = h(
    'form',
    { class: 'card stack', novalidate: true, 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title', class: 'visually-hidden' }, 'Upload'),
    h('div', { class: 'field' },
      h('label', { for: 'file' }, 'Audio or video file'),
      drop,
      h('p', { id: 'file-help', class: 'help' },
        'MP3, WAV, FLAC, OGG, M4A, AAC, OPUS, WMA, MP4, WebM, MKV, AVI, MOV, MPEG.')),
    h('div', { class: 'grid-2' }, modelField, languageField),
    h('div', { class: 'row row-center' },
      h('label', { class: 'check' }, diarize, ' Identify speakers (diarization)'),
      speakersField),
    h('div', { class: 'actions' }, submit),
  );

  const anon = h('p', { class: 'notice' });
  const syncNotice = () => {
    anon.replaceChildren(
      keyStore.get()
        ? 'Transcripts made here are saved to your account.'
        : 'You are anonymous: a few transcriptions a day, with a smaller file size limit, and nothing is kept. ',
    );
    if (!keyStore.get()) {
      anon.append(h('button', { type: 'button', class: 'link', onclick: () =>
        document.dispatchEvent(new CustomEvent('vocable:open-key-dialog')) }, 'Add an API key'),
      ' to keep your transcripts.');
    }
  };
  syncNotice();
  const stopKeyWatch = keyStore.onChange(syncNotice);

  const live = h('div', { class: 'job-view' });
  main.replaceChildren(
    pageHeader('Transcribe a file', 'Speech to text with timestamps, languages and speakers — on this server.'),
    anon,
    errors.el,
    form,
    live,
  );

  // Options from the server (no key needed).
  Promise.all([api.speechModels(), api.languages()]).then(
    ([{ models }, { languages }]) => {
      modelField.querySelector('select').replaceWith(modelSelect(models, saved.model));
      languageField.querySelector('select').replaceWith(languageSelect(languages, saved.language));
      if (!models.some((m) => m.installed)) {
        errors.show('No speech model is installed on this server. Run `vocable models pull base` first.');
      }
    },
    (error) => {
      // Without the lists the server's defaults still work: say why the choice is missing.
      modelField.querySelector('select').replaceWith(
        h('select', { id: 'model', name: 'model' }, h('option', { value: '' }, 'Server default')));
      languageField.querySelector('select').replaceWith(languageSelect([], 'auto'));
      errors.show(`Could not load the model and language lists: ${error.message}`);
    },
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    errors.hide();
    const file = fileInput.files[0];
    if (!file) {
      errors.show('Choose an audio or video file first.');
      fileInput.focus();
      return;
    }
    const fields = {
      model: form.querySelector('#model').value,
      language: form.querySelector('#language').value || 'auto',
      diarize: diarize.checked ? 'true' : 'false',
      speakers: diarize.checked ? String(Math.max(0, Number(speakers.value) || 0)) : '0',
      response_format: 'json',
    };
    localStorage.setItem(OPTIONS_STORAGE, JSON.stringify({
      model: fields.model, language: fields.language, diarize: diarize.checked,
      speakers: Number(fields.speakers),
    }));
    start(file, fields);
  });

  let timer = null;
  let shown = null;
  const paint = () => {
    const busy = job.state === 'uploading' || job.state === 'waiting';
    submit.disabled = busy;
    form.inert = busy;
    if (job.state === 'failed' && job.error) {
      errors.show(job.error);
      job.error = null; // shown once; the form is ready for another try
      update({ state: 'idle' });
      return;
    }
    if (busy) {
      if (!shown?.refresh) {
        shown = progressView();
        live.replaceChildren(shown);
        shown.scrollIntoView({ block: 'nearest' });
      } else shown.refresh();
      if (!timer) timer = setInterval(() => shown?.refresh?.(), 1000);
    } else {
      clearInterval(timer);
      timer = null;
      if (job.state === 'done' && shown?.dataset.result !== 'yes') {
        const view = resultView();
        view.dataset.result = 'yes';
        live.replaceChildren(view);
        shown = view;
        view.querySelector('#result-title').focus({ preventScroll: true });
        view.scrollIntoView({ block: 'start' });
      } else if (job.state === 'idle') {
        live.replaceChildren();
        shown = null;
      }
    }
  };
  job.listeners.add(paint);
  paint();

  return () => {
    job.listeners.delete(paint);
    clearInterval(timer);
    stopKeyWatch();
  };
}
