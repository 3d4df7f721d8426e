// Results of /analyze (six types) and /generate (ten types) drawn the way a person reads them:
// sentiment per speaker over time, topics with their share, entities marked in the text, action
// items as a checklist, quiz and flashcards to play with, quotes and chapters that play the
// audio. API text reaches the page only as text nodes.

import { clock, h } from './ui.js';

export const ANALYSIS_TYPES = [
  ['sentiment', 'Sentiment'],
  ['topics', 'Topics'],
  ['entities', 'Entities'],
  ['action_items', 'Action items'],
  ['questions', 'Questions'],
  ['pii_redact', 'Redact personal data'],
];

export const GENERATE_TYPES = [
  ['meeting_notes', 'Meeting notes'],
  ['blog_post', 'Blog post'],
  ['social_media', 'Social media posts'],
  ['newsletter', 'Newsletter'],
  ['key_quotes', 'Key quotes'],
  ['show_notes', 'Show notes'],
  ['study_guide', 'Study guide'],
  ['flashcards', 'Flashcards'],
  ['quiz', 'Quiz'],
  ['chapter_markers', 'Chapter markers'],
];

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

function seekButton(seconds, seek, label) {
  if (seconds === null || seconds === undefined || !seek) return seconds !== null && seconds !== undefined ? h('span', { class: 'timestamp' }, clock(seconds)) : null;
  return h('button', { type: 'button', class: 'timestamp', 'aria-label': `${clock(seconds)}, ${(label || 'play').toLowerCase()}`,
    onclick: () => seek(seconds) }, clock(seconds));
}

function empty(text) {
  return h('p', { class: 'muted' }, text);
}

// -- analysis ------------------------------------------------------------------------------------
function tone(score) {
  if (score > 0.05) return 'positive';
  if (score < -0.05) return 'negative';
  return 'neutral';
}

function sentiment(result, t, seek) {
  const total = Math.max(1, t.duration || Math.max(0, ...(result.segments || []).map((s) => s.end || 0)));
  const speakers = result.speakers || [];
  const segments = result.segments || [];
  const rows = (speakers.length ? speakers : [{ speaker: null, label: result.label, score: result.score }]).map((sp) => {
    const track = h('div', { class: 'timeline', role: 'img',
      'aria-label': `${sp.speaker || 'Everyone'} over time: ${segments.filter((s) => !sp.speaker || s.speaker === sp.speaker).map((s) => `${clock(s.start)} ${s.label}`).join(', ')}` });
    for (const s of segments) {
      if (sp.speaker && s.speaker !== sp.speaker) continue;
      const cell = h('span', { class: `cell ${tone(s.score)}`, title: `${clock(s.start)} ${s.label} (${s.score.toFixed(2)})` });
      cell.style.left = `${(100 * (s.start || 0)) / total}%`;
      cell.style.width = `${Math.max(0.8, (100 * ((s.end || 0) - (s.start || 0))) / total)}%`;
      cell.style.opacity = String(0.35 + Math.min(1, Math.abs(s.score)) * 0.65);
      track.append(cell);
    }
    return h('div', { class: 'sentiment-row' },
      h('div', { class: 'sentiment-who' }, h('strong', {}, sp.speaker || 'Overall'), ' ',
        h('span', { class: `badge tone-${tone(sp.score)}` }, sp.label), ' ',
        h('span', { class: 'muted small' }, sp.score.toFixed(2))),
      track);
  });
  const negative = [...(result.sentences || [])].sort((a, b) => a.score - b.score)[0];
  const positive = [...(result.sentences || [])].sort((a, b) => b.score - a.score)[0];
  return h('div', { class: 'sentiment' },
    h('p', {}, 'Overall: ', h('span', { class: `badge tone-${tone(result.score)}` }, result.label),
      ` (${result.score.toFixed(2)} on −1…1; ${Object.entries(result.counts || {}).map(([k, v]) => `${v} ${k}`).join(', ')} sentences)`),
    h('div', { class: 'sentiment-chart' }, rows,
      h('div', { class: 'chart-axis muted small' }, h('span', {}, '0:00'), h('span', {}, clock(total, { tenths: false })))),
    h('p', { class: 'legend-line small muted' },
      h('span', { class: 'swatch positive' }), ' positive ', h('span', { class: 'swatch neutral' }), ' neutral ',
      h('span', { class: 'swatch negative' }), ' negative'),
    positive && positive.score > 0.05 ? h('p', { class: 'small' }, h('strong', {}, 'Most positive: '), positive.text) : null,
    negative && negative.score < -0.05 ? h('p', { class: 'small' }, h('strong', {}, 'Most negative: '), negative.text) : null);
}

function topics(result) {
  const list = (result.topics || []).map((topic) => h('li', {},
    h('div', { class: 'topic-head' }, h('strong', {}, topic.label),
      h('span', { class: 'muted small' }, ` ${Math.round(topic.score * 100)}% of sentences`)),
    h('meter', { min: '0', max: '1', value: String(topic.score), 'aria-label': `${topic.label}: share of sentences` }),
    topic.related?.length ? h('p', { class: 'muted small' }, `Also: ${topic.related.join(', ')}`) : null));
  return h('div', {},
    list.length ? h('ol', { class: 'topic-list' }, list) : empty('No topics found.'),
    (result.keyphrases || []).length
      ? h('div', {}, h('h4', {}, 'Key phrases'),
        h('ul', { class: 'chips' }, result.keyphrases.map((k) => h('li', {}, k.phrase,
          k.count > 1 ? h('span', { class: 'muted small' }, ` ×${k.count}`) : null))))
      : null);
}

/** The segments with each entity's mentions marked (by the segment the API names). */
function entities(result, t, seek) {
  const bySegment = new Map();
  for (const e of result.entities || []) {
    if (e.segment === null || e.segment === undefined) continue;
    if (!bySegment.has(e.segment)) bySegment.set(e.segment, []);
    bySegment.get(e.segment).push(e);
  }
  const marked = [...bySegment.keys()].sort((a, b) => a - b).map((index) => {
    const seg = t.segments[index];
    if (!seg) return null;
    const text = seg.text.trim();
    const spans = [];
    for (const e of bySegment.get(index)) {
      let at = text.indexOf(e.text);
      while (at >= 0 && spans.some(([a, b]) => at < b && at + e.text.length > a)) at = text.indexOf(e.text, at + 1);
      if (at >= 0) spans.push([at, at + e.text.length, e.type]);
    }
    spans.sort((a, b) => a[0] - b[0]);
    const p = h('p', { class: 'entity-text' });
    let pos = 0;
    for (const [a, b, type] of spans) {
      p.append(text.slice(pos, a), h('mark', { class: `ent ent-${type}` }, text.slice(a, b), h('span', { class: 'ent-type' }, ` ${type}`)));
      pos = b;
    }
    p.append(text.slice(pos));
    return h('li', {}, seekButton(seg.start, seek), ' ', seg.speaker ? h('span', { class: 'speaker' }, `${seg.speaker} `) : null, p);
  });
  return h('div', {},
    (result.unique || []).length
      ? h('ul', { class: 'chips' }, result.unique.map((e) => h('li', { class: `ent-${e.type}` }, e.text,
        h('span', { class: 'muted small' }, ` ${e.type}${e.count > 1 ? ` ×${e.count}` : ''}`))))
      : empty('No names, places, dates or amounts found.'),
    marked.length ? h('ol', { class: 'entity-segments' }, marked) : null);
}

function actionItems(result, t, seek) {
  const items = result.action_items || [];
  if (!items.length) return empty('No action items: nobody committed to a task.');
  return h('ul', { class: 'checklist' }, items.map((item) => {
    const id = nextId('task');
    const seg = item.segment !== null && item.segment !== undefined ? t.segments[item.segment] : null;
    return h('li', {},
      h('input', { type: 'checkbox', id }),
      h('label', { for: id }, item.task),
      h('div', { class: 'muted small' },
        [item.owner ? `Owner: ${item.owner}` : 'No owner named', item.due ? `Due: ${item.due}` : null].filter(Boolean).join(' · '),
        seg ? [' · ', seekButton(seg.start, seek, 'Play the quote')] : null),
      item.quote ? h('blockquote', { class: 'small' }, item.quote) : null);
  }));
}

function questions(result, t, seek) {
  const list = result.questions || [];
  if (!list.length) return empty('No questions were asked.');
  return h('div', {},
    h('p', { class: 'muted small' }, `${result.answered} of ${result.total} answered.`),
    h('ol', { class: 'qa-list' }, list.map((q) => {
      const seg = q.segment !== null && q.segment !== undefined ? t.segments[q.segment] : null;
      return h('li', {},
        h('p', { class: 'question' }, seg ? seekButton(seg.start, seek) : null, ' ',
          q.speaker ? h('span', { class: 'speaker' }, `${q.speaker}: `) : null, q.text),
        q.answer
          ? h('p', { class: 'answer' }, h('span', { class: 'visually-hidden' }, 'Answer: '),
            q.answer.speaker ? h('span', { class: 'speaker' }, `${q.answer.speaker}: `) : null, q.answer.text)
          : h('p', { class: 'answer muted' }, 'Not answered.'));
    })));
}

function pii(result) {
  const items = result.items || [];
  return h('div', {},
    h('p', { class: 'muted small' }, items.length ? `${items.length} item${items.length === 1 ? '' : 's'} redacted.` : 'No personal data found.'),
    items.length ? h('ul', { class: 'chips' }, items.map((i) => h('li', {}, i.text, h('span', { class: 'muted small' }, ` ${i.type}`)))) : null,
    h('h4', {}, 'Redacted text'),
    h('p', { class: 'ai-text redacted' }, result.redacted_text || ''));
}

const ANALYSIS_RENDERERS = { sentiment, topics, entities, action_items: actionItems, questions, pii_redact: pii };

export function renderAnalysis(type, body, t, seek) {
  const render = ANALYSIS_RENDERERS[type];
  return h('div', { class: `analysis analysis-${type}`, dataset: { type } },
    render ? render(body.result || {}, t, seek) : h('pre', {}, JSON.stringify(body.result, null, 2)));
}

// -- generation ----------------------------------------------------------------------------------
/** A small, safe Markdown reading (headings, lists, bold, paragraphs) into elements. */
export function markdown(text) {
  const root = h('div', { class: 'markdown' });
  let list = null;
  const inline = (line) => {
    const out = [];
    const parts = line.split(/(\*\*[^*]+\*\*)/g);
    for (const part of parts) {
      if (/^\*\*[^*]+\*\*$/.test(part)) out.push(h('strong', {}, part.slice(2, -2)));
      else if (part) out.push(part.replace(/(^|\s)[*_]([^*_]+)[*_](?=\s|$|[.,;:!?])/g, '$1$2'));
    }
    return out;
  };
  for (const raw of String(text || '').split('\n')) {
    const line = raw.trimEnd();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*(?:[-*•]|\d+[.)])\s+(.*)$/.exec(line);
    if (heading) {
      list = null;
      root.append(h(`h${Math.min(6, heading[1].length + 3)}`, {}, inline(heading[2])));
    } else if (bullet) {
      if (!list) {
        list = h(/^\s*\d/.test(line) ? 'ol' : 'ul', {});
        root.append(list);
      }
      list.append(h('li', {}, inline(bullet[1])));
    } else if (line.trim()) {
      list = null;
      root.append(h('p', {}, inline(line)));
    } else list = null;
  }
  return root;
}

function flashcards(result) {
  const cards = result.flashcards || [];
  return h('ul', { class: 'flashcards' }, cards.map((card, i) => {
    const back = h('p', { class: 'card-back', hidden: true }, card.back);
    const button = h('button', { type: 'button', class: 'flashcard', 'aria-expanded': 'false',
      'aria-label': `${card.front} (card ${i + 1}: show the answer)` }, h('span', { class: 'card-front' }, card.front));
    button.addEventListener('click', () => {
      const open = back.hidden;
      back.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      button.setAttribute('aria-label', `${card.front} (card ${i + 1}: ${open ? 'hide' : 'show'} the answer)`);
      button.classList.toggle('flipped', open);
    });
    return h('li', {}, button, back);
  }));
}

function quiz(result) {
  const questionsList = result.questions || [];
  return h('ol', { class: 'quiz' }, questionsList.map((q, i) => {
    const name = nextId('quiz');
    const feedback = h('p', { class: 'quiz-feedback', role: 'status' });
    const options = q.options.map((option, k) => {
      const id = `${name}-${k}`;
      return h('div', { class: 'check' }, h('input', { type: 'radio', name, id, value: String(k) }), h('label', { for: id }, option));
    });
    const form = h('form', { class: 'quiz-question' },
      h('fieldset', {}, h('legend', {}, `${i + 1}. ${q.question}`), options),
      h('button', { type: 'submit', class: 'small-button' }, 'Check'),
      feedback);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const chosen = form.querySelector('input:checked');
      if (!chosen) {
        feedback.textContent = 'Choose an answer first.';
        return;
      }
      const right = Number(chosen.value) === q.answer_index;
      feedback.className = `quiz-feedback ${right ? 'right' : 'wrong'}`;
      feedback.textContent = `${right ? 'Right.' : `Not quite: the answer is “${q.options[q.answer_index]}”.`} ${q.explanation || ''}`;
    });
    return h('li', {}, form);
  }));
}

function keyQuotes(result, t, seek) {
  return h('ul', { class: 'quotes' }, (result.quotes || []).map((q) => h('li', {},
    h('blockquote', {}, q.quote),
    h('p', { class: 'muted small' }, q.speaker ? `— ${q.speaker} ` : '', seekButton(q.start, seek, 'Play the quote')))));
}

function chapters(result, t, seek) {
  return h('ol', { class: 'chapters' }, (result.chapters || []).map((c) => h('li', {},
    h('p', {}, seekButton(c.start, seek, `Play chapter ${c.title}`), ' ', h('strong', {}, c.title)),
    c.summary ? h('p', { class: 'muted small' }, c.summary) : null)));
}

const STRUCTURED = { flashcards, quiz, key_quotes: keyQuotes, chapter_markers: chapters };

export function renderGeneration(type, body, t, seek) {
  const render = STRUCTURED[type];
  return h('div', { class: `generation generation-${type}`, dataset: { type } },
    render && body.result ? render(body.result, t, seek) : markdown(body.content),
    h('p', { class: 'muted small' }, `Written by ${body.model} on this server.`));
}
