// AI over a stored transcript, on the server's local LLM: a summary (POST /v1/summarize) and
// questions answered from the transcript with cited segments (POST .../chat/).

import { api } from '../api.js';
import { features } from '../features.js';
import { toTxt } from '../transcript-view.js';
import { clock, errorBox, h } from '../ui.js';

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

function summaryPart(t) {
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

function chatPart(t) {
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
      const answer = await api.chat(t.id, text, sessionId);
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

export function aiPanel(t) {
  return h('section', { class: 'card ai', 'aria-labelledby': 'ai-title' },
    h('h2', { id: 'ai-title' }, 'AI on this transcript'),
    h('p', { class: 'muted small' }, 'Runs on the local language model: nothing leaves this server.'),
    features.ai.summarize ? summaryPart(t) : null,
    features.ai.chat ? chatPart(t) : null);
}
