// Search every transcript of the account (GET /api/v1/search/): by words and by meaning. Each hit
// shows its segment with the matched words marked and opens the transcript at that moment.

import { api, keyStore } from '../api.js';
import { clock, errorBox, h, needsKey, pageHeader, timeEl } from '../ui.js';

const MODES = [
  ['all', 'Words and meaning'],
  ['words', 'Exact words'],
  ['meaning', 'Meaning only'],
];

function marked(text, ranges) {
  const p = h('p', { class: 'hit-text' });
  let pos = 0;
  for (const [a, b] of [...(ranges || [])].sort((x, y) => x[0] - y[0])) {
    if (a < pos) continue;
    p.append(text.slice(pos, a), h('mark', {}, text.slice(a, b)));
    pos = b;
  }
  p.append(text.slice(pos));
  return p;
}

function hitHref(hit) {
  const query = new URLSearchParams({ t: String(hit.start), seg: String(hit.segment) });
  return `#/transcripts/${encodeURIComponent(hit.transcript_id)}?${query}`;
}

function results(body) {
  if (!body.results.length) {
    return h('section', { class: 'card empty' }, h('h2', {}, 'Nothing found'),
      h('p', {}, 'No transcript says this, in these words or in others.'));
  }
  const groups = new Map();
  for (const hit of body.results) {
    if (!groups.has(hit.transcript_id)) groups.set(hit.transcript_id, []);
    groups.get(hit.transcript_id).push(hit);
  }
  return h('div', { class: 'search-results' },
    h('p', { class: 'muted', role: 'status' }, `${body.count} match${body.count === 1 ? '' : 'es'} in ${groups.size} transcript${groups.size === 1 ? '' : 's'}.`),
    [...groups.values()].map((hits) => h('section', { class: 'card hit-group' },
      h('h2', {}, h('a', { href: `#/transcripts/${encodeURIComponent(hits[0].transcript_id)}` }, hits[0].filename || hits[0].transcript_id)),
      h('p', { class: 'muted small' }, timeEl(hits[0].created_at)),
      h('ol', { class: 'hits' }, hits.map((hit) => h('li', { class: 'hit', dataset: { match: hit.match } },
        h('a', { class: 'hit-link', href: hitHref(hit) },
          h('span', { class: 'visually-hidden' }, 'Open at '),
          h('span', { class: 'timestamp' }, clock(hit.start)),
          hit.speaker ? h('span', { class: 'speaker' }, hit.speaker) : null,
          h('span', { class: `badge badge-${hit.match === 'words' ? 'completed' : 'current'}` },
            hit.match === 'words' ? 'words' : `meaning ${Math.round(hit.score * 100)}%`)),
        marked(hit.text, hit.highlights)))))));
}

export async function render(main, { query }) {
  if (!keyStore.get()) {
    main.replaceChildren(pageHeader('Search'), needsKey('Transcripts'));
    return undefined;
  }
  const q = query.get('q') || '';
  const mode = MODES.some(([m]) => m === query.get('mode')) ? query.get('mode') : 'all';
  const errors = errorBox();
  const input = h('input', { id: 'search-q', type: 'search', name: 'q', value: q, required: true,
    maxlength: '500', autocomplete: 'off', placeholder: 'what did we decide about the budget?' });
  const modeSelect = h('select', { id: 'search-mode', name: 'mode' },
    MODES.map(([value, label]) => h('option', { value, selected: value === mode }, label)));
  const form = h('form', { class: 'search-form', role: 'search' },
    h('div', { class: 'field search-field' }, h('label', { for: 'search-q' }, 'Search all transcripts'), input),
    h('div', { class: 'field' }, h('label', { for: 'search-mode' }, 'Match'), modeSelect),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ q: input.value.trim() });
    if (modeSelect.value !== 'all') params.set('mode', modeSelect.value);
    location.hash = `#/search?${params}`;
  });
  const out = h('div', { id: 'search-results' });
  main.replaceChildren(pageHeader('Search', 'Finds the words, and what was meant in other words, across every transcript.'),
    form, errors.el, out);
  if (!q) return undefined;
  // Results arrive when they arrive (a first search by meaning loads the embedding model): the
  // page and its form are usable at once.
  let stopped = false;
  out.setAttribute('aria-busy', 'true');
  out.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Searching…'));
  api.search(q, { mode }).then((body) => {
    if (!stopped) out.replaceChildren(results(body));
  }).catch((error) => {
    if (stopped) return;
    out.replaceChildren();
    errors.show(error);
  }).finally(() => out.setAttribute('aria-busy', 'false'));
  return () => {
    stopped = true;
  };
}
