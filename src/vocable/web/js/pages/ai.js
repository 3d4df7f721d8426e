// AI over a stored transcript, on the server's local models: a summary (POST /v1/summarize),
// questions answered from the transcript with cited segments (POST .../chat/), the six analyses
// (POST .../analyze/), the ten generated documents (POST .../generate/) and translation with
// subtitles to download (POST /v1/translate). Each takes the transcript as it is now (edits
// included) from `getT()`.

import { api, saveBlob } from '../api.js';
import { ANALYSIS_TYPES, GENERATE_TYPES, renderAnalysis, renderGeneration } from '../ai-render.js';
import { features } from '../features.js';
import { toSrt, toTxt, toVtt } from '../transcript-view.js';
import { clock, errorBox, h, languageName } from '../ui.js';

const STYLES = [
  ['brief', 'Brief'],
  ['detailed', 'Detailed'],
  ['bullet_points', 'Bullet points'],
  ['action_items', 'Action items'],
];

function busy(button, text) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = text;
  return () => {
    button.disabled = false;
    button.textContent = label;
  };
}

function summaryPart(getT) {
  const errors = errorBox();
  const style = h('select', { id: 'summary-style' },
    STYLES.map(([value, label]) => h('option', { value }, label)));
  const output = h('div', { class: 'ai-output', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Summarize');
  const form = h('form', { class: 'stack', 'aria-labelledby': 'summary-title' },
    h('h3', { id: 'summary-title' }, 'Summary'),
    h('div', { class: 'row' },
      h('div', { class: 'field field-inline' }, h('label', { for: 'summary-style' }, 'Style'), style),
      button),
    errors.el,
    output);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    const done = busy(button, 'Summarizing…');
    output.setAttribute('aria-busy', 'true');
    try {
      // Speaker labels help only when there are several speakers.
      const t = getT();
      const text = (t.speakers || []).length > 1 ? toTxt(t) : t.text;
      const result = await api.summarize(text, style.value);
      output.replaceChildren(
        h('p', { class: 'ai-text' }, result.summary),
        h('p', { class: 'muted small' }, `Written by ${result.model} on this server.`),
      );
    } catch (error) {
      errors.show(error);
    } finally {
      output.setAttribute('aria-busy', 'false');
      done();
    }
  });
  return form;
}

function chatPart(getT) {
  const errors = errorBox();
  let sessionId = null;
  const log = h('ol', { class: 'chat-log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const question = h('input', {
    id: 'chat-question', type: 'text', required: true, maxlength: '2000', autocomplete: 'off',
    placeholder: 'What did they decide about…?',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Ask');
  const form = h('form', { class: 'stack', 'aria-labelledby': 'chat-title' },
    h('h3', { id: 'chat-title' }, 'Ask about this transcript'),
    log,
    errors.el,
    h('div', { class: 'row row-fill' },
      h('label', { for: 'chat-question', class: 'visually-hidden' }, 'Question'),
      question,
      button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    errors.hide();
    log.append(h('li', { class: 'chat-question' }, text));
    question.value = '';
    const done = busy(button, 'Thinking…');
    try {
      const answer = await api.chat(getT().id, text, sessionId);
      sessionId = answer.session_id || sessionId;
      const sources = (answer.sources || []).map((s) =>
        h('li', {}, s.start !== undefined && s.start !== null ? h('span', { class: 'timestamp' }, clock(s.start)) : null,
          s.speaker ? h('span', { class: 'speaker' }, s.speaker) : null, ' ', s.text));
      log.append(h('li', { class: 'chat-answer' },
        h('p', { class: 'ai-text' }, answer.answer),
        sources.length ? h('details', {}, h('summary', {}, `Sources (${sources.length})`), h('ul', { class: 'sources' }, sources)) : null));
    } catch (error) {
      errors.show(error);
    } finally {
      done();
      question.focus();
    }
  });
  return form;
}

/** A form with a type select whose result is drawn below it, one result per type kept. */
function typedPart({ id, title, types, run, draw, getT, seek, busyText }) {
  const errors = errorBox();
  const select = h('select', { id: `${id}-type` }, types.map(([value, label]) => h('option', { value }, label)));
  const output = h('div', { class: 'ai-output-rich', id: `${id}-output`, 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, title.button);
  const form = h('form', { class: 'stack', 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, title.heading),
    h('div', { class: 'row' },
      h('div', { class: 'field field-inline' }, h('label', { for: `${id}-type` }, 'Type'), select),
      button),
    errors.el,
    output);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    const type = select.value;
    const done = busy(button, busyText);
    output.setAttribute('aria-busy', 'true');
    try {
      const t = getT();
      const body = await run(t.id, type);
      const label = types.find(([value]) => value === type)[1];
      output.replaceChildren(h('h4', { class: 'result-title' }, label), draw(type, body, t, seek));
    } catch (error) {
      errors.show(error);
    } finally {
      output.setAttribute('aria-busy', 'false');
      done();
    }
  });
  return form;
}

const TRANSLATE_BATCH = 32;

function translatePart(getT) {
  const errors = errorBox();
  const target = h('select', { id: 'translate-target' }, h('option', { value: '' }, 'Loading…'));
  const button = h('button', { type: 'submit', class: 'primary' }, 'Translate');
  const output = h('div', { id: 'translate-output', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack', 'aria-labelledby': 'translate-title' },
    h('h3', { id: 'translate-title' }, 'Translate'),
    h('div', { class: 'row' },
      h('div', { class: 'field field-inline' }, h('label', { for: 'translate-target' }, 'Into'), target),
      button),
    errors.el,
    output);
  api.translateLanguages().then((body) => {
    const backend = (body.backends || []).find((b) => b.default) || (body.backends || [])[0];
    const source = getT().language;
    const languages = (backend?.languages || []).filter((l) => l.code !== source);
    target.replaceChildren(...languages.map((l) => h('option', { value: l.code }, `${languageName(l.code)} (${l.code})`)));
  }).catch((error) => errors.show(error));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!target.value) return;
    errors.hide();
    const t = getT();
    const done = busy(button, 'Translating…');
    output.setAttribute('aria-busy', 'true');
    try {
      const texts = t.segments.map((s) => s.text.trim());
      const translated = [];
      for (let i = 0; i < texts.length; i += TRANSLATE_BATCH) {
        const body = await api.translate(texts.slice(i, i + TRANSLATE_BATCH), target.value, t.language || 'auto');
        translated.push(...body.translations.map((x) => x.translated_text));
      }
      const result = { ...t, text: translated.join(' '), language: target.value,
        segments: t.segments.map((s, i) => ({ ...s, text: translated[i], words: [] })) };
      const base = (t.filename || 'transcript').replace(/\.[^.]+$/, '');
      const download = (fmt, render, type) => h('button', { type: 'button', dataset: { format: fmt }, onclick: () => {
        saveBlob(new Blob([render(result)], { type }), `${base}.${target.value}.${fmt}`);
      } }, `Download ${fmt.toUpperCase()}`);
      output.replaceChildren(
        h('div', { class: 'button-row' },
          download('srt', toSrt, 'application/x-subrip;charset=utf-8'),
          download('vtt', toVtt, 'text/vtt;charset=utf-8'),
          download('txt', toTxt, 'text/plain;charset=utf-8')),
        h('ol', { class: 'translated', lang: target.value }, result.segments.map((s) =>
          h('li', {}, h('span', { class: 'timestamp' }, clock(s.start)), ' ',
            s.speaker ? h('span', { class: 'speaker' }, `${s.speaker}: `) : null, s.text))));
    } catch (error) {
      errors.show(error);
    } finally {
      output.setAttribute('aria-busy', 'false');
      done();
    }
  });
  return form;
}

/** `getT()`: the transcript as it is now; `editor` (optional): seeks its audio. */
export function aiPanel(getT, editor) {
  const seek = editor ? (seconds) => {
    editor.audio.currentTime = seconds;
    editor.audio.play().catch(() => {});
  } : null;
  return h('section', { class: 'card ai', 'aria-labelledby': 'ai-title' },
    h('h2', { id: 'ai-title' }, 'AI on this transcript'),
    h('p', { class: 'muted small' }, 'Runs on the local models: nothing leaves this server.'),
    features.ai.summarize ? summaryPart(getT) : null,
    features.ai.analyze ? typedPart({ id: 'analyze', title: { heading: 'Analyze', button: 'Analyze' },
      types: ANALYSIS_TYPES, run: api.analyzeTranscript, draw: renderAnalysis, getT, seek, busyText: 'Analyzing…' }) : null,
    features.ai.generate ? typedPart({ id: 'generate', title: { heading: 'Write from it', button: 'Generate' },
      types: GENERATE_TYPES, run: api.generateTranscript, draw: renderGeneration, getT, seek, busyText: 'Writing…' }) : null,
    features.ai.translate ? translatePart(getT) : null,
    features.ai.chat ? chatPart(getT) : null);
}
