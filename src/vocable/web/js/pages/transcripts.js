// "My transcripts": the account's stored transcripts (paginated, filtered by status) and one
// transcript's detail with its exports and deletion.

import { api, keyStore, saveBlob } from '../api.js';
import { features } from '../features.js';
import { transcriptEditor } from '../editor.js';
import { formatLabel, copyTextButton } from '../transcript-view.js';
import {
  duration,
  errorBox,
  h,
  languageName,
  needsKey,
  pageHeader,
  statusBadge,
  timeEl,
  toast,
} from '../ui.js';
import { aiPanel } from './ai.js';

const PAGE_SIZE = 20;
const EXPORTS = ['txt', 'srt', 'vtt', 'json', 'csv', 'docx', 'pdf'];
const STATUSES = ['completed', 'processing', 'queued', 'failed'];
const POLL_MS = 2500;

// List filters kept in the URL (so a filtered list can be bookmarked and the back button works).
const FILTERS = ['language', 'created_after', 'created_before', 'min_duration', 'max_duration'];

function listHref(page, status, filters = {}) {
  const query = new URLSearchParams();
  if (page > 1) query.set('page', String(page));
  if (status) query.set('status', status);
  for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
  const text = query.toString();
  return `#/transcripts${text ? `?${text}` : ''}`;
}

function filterForm(status, filters) {
  const minutes = (name) => (filters[name] ? String(Number(filters[name]) / 60) : '');
  const field = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id }, label), control);
  const statusSelect = h('select', { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'All'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const form = h('form', { class: 'filters', 'aria-label': 'Filter transcripts' },
    field('status-filter', 'Status', statusSelect),
    field('language-filter', 'Language', h('input', { id: 'language-filter', name: 'language', type: 'text',
      value: filters.language || '', placeholder: 'en', maxlength: '8', size: '5', autocomplete: 'off' })),
    field('after-filter', 'From', h('input', { id: 'after-filter', name: 'created_after', type: 'date', value: filters.created_after || '' })),
    field('before-filter', 'To', h('input', { id: 'before-filter', name: 'created_before', type: 'date', value: filters.created_before || '' })),
    field('min-filter', 'Min. minutes', h('input', { id: 'min-filter', name: 'min_duration', type: 'number', min: '0', step: 'any', value: minutes('min_duration') })),
    field('max-filter', 'Max. minutes', h('input', { id: 'max-filter', name: 'max_duration', type: 'number', min: '0', step: 'any', value: minutes('max_duration') })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply'),
      h('a', { class: 'button ghost', href: '#/transcripts' }, 'Clear')));
  form.addEventListener('change', (event) => {
    if (event.target === statusSelect) form.requestSubmit();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = {};
    for (const name of FILTERS) {
      const value = String(data.get(name) || '').trim();
      if (!value) continue;
      next[name] = name.endsWith('_duration') ? String(Math.round(Number(value) * 60)) : value.toLowerCase();
    }
    location.hash = listHref(1, String(data.get('status') || ''), next);
  });
  return form;
}

export async function renderList(main, { query }) {
  if (!keyStore.get()) {
    main.replaceChildren(pageHeader('My transcripts'), needsKey('Transcripts'));
    return undefined;
  }
  const page = Math.max(1, Number(query.get('page')) || 1);
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || '']));
  const errors = errorBox();
  const body = h('div', { class: 'list-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));

  main.replaceChildren(
    pageHeader('My transcripts', 'Everything transcribed with your keys, newest first.'),
    h('div', { class: 'toolbar' },
      filterForm(status, filters),
      h('div', { class: 'actions' },
        h('a', { class: 'button', href: '#/search' }, 'Search transcripts'),
        h('a', { class: 'button primary', href: '#/' }, 'New transcription'))),
    errors.el,
    body,
  );

  let timer = null;
  let stopped = false;
  const load = async () => {
    let data;
    try {
      data = await api.transcripts({ page, pageSize: PAGE_SIZE, status, filters });
    } catch (error) {
      body.setAttribute('aria-busy', 'false');
      body.replaceChildren();
      errors.show(error);
      return;
    }
    if (stopped) return;
    errors.hide();
    body.setAttribute('aria-busy', 'false');
    body.replaceChildren(table(data, page, status, filters));
    // Jobs still running: refresh until they end.
    if (data.results.some((t) => t.status === 'queued' || t.status === 'processing')) {
      timer = setTimeout(load, POLL_MS);
    }
  };
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function table(data, page, status, filters) {
  if (!data.count) {
    return h('section', { class: 'card empty' },
      h('h2', {}, status ? `No ${status} transcripts` : 'No transcripts yet'),
      h('p', {}, 'Files you transcribe with your API key are kept here.'),
      h('a', { class: 'button primary', href: '#/' }, 'Transcribe a file'));
  }
  const lastPage = Math.max(1, Math.ceil(data.count / data.page_size));
  const rows = data.results.map((t) =>
    h(
      'tr',
      { dataset: { id: t.id } },
      h('th', { scope: 'row' },
        h('a', { href: `#/transcripts/${encodeURIComponent(t.id)}`, class: 'transcript-link' },
          t.filename || t.id),
        t.preview ? h('div', { class: 'preview muted' }, t.preview) : null),
      h('td', {}, timeEl(t.created_at)),
      h('td', {}, statusBadge(t.status)),
      h('td', {}, languageName(t.language)),
      h('td', { class: 'num' }, duration(t.duration)),
    ),
  );
  return h(
    'div',
    { class: 'card table-card' },
    h('div', { class: 'table-scroll' },
      h('table', { class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Your transcripts'),
        h('thead', {}, h('tr', {},
          ['File', 'Created', 'Status', 'Language', 'Duration'].map((label) =>
            h('th', { scope: 'col', class: label === 'Duration' ? 'num' : null }, label)))),
        h('tbody', {}, rows))),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      page > 1 ? h('a', { class: 'button', href: listHref(page - 1, status, filters), rel: 'prev' }, '← Newer') : h('span'),
      h('span', { class: 'muted' }, `Page ${page} of ${lastPage} · ${data.count} transcript${data.count === 1 ? '' : 's'}`),
      page < lastPage ? h('a', { class: 'button', href: listHref(page + 1, status, filters), rel: 'next' }, 'Older →') : h('span'),
    ),
  );
}

export async function renderDetail(main, { params, query, navigate }) {
  const id = params.id;
  if (!keyStore.get()) {
    main.replaceChildren(pageHeader('Transcript'), needsKey('Transcripts'));
    return undefined;
  }
  const errors = errorBox();
  const back = h('a', { href: '#/transcripts', class: 'back' }, '← My transcripts');
  const content = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  main.replaceChildren(back, errors.el, content);

  let timer = null;
  let stopped = false;
  let editor = null;
  const controller = new AbortController();
  const startAt = query && query.has('t') ? Number(query.get('t')) : null;
  const segment = query && query.has('seg') ? Number(query.get('seg')) : null;

  const load = async () => {
    let t;
    try {
      t = await api.transcript(id, controller.signal);
    } catch (error) {
      if (error.name === 'AbortError') return;
      content.setAttribute('aria-busy', 'false');
      content.replaceChildren(pageHeader('Transcript'));
      errors.show(error);
      return;
    }
    if (stopped) return;
    content.setAttribute('aria-busy', 'false');
    editor?.destroy();
    const view = detail(t, errors, navigate, { startAt: Number.isFinite(startAt) ? startAt : null,
      segment: Number.isInteger(segment) ? segment : null });
    editor = view.editor;
    content.replaceChildren(view.el);
    if (t.status === 'queued' || t.status === 'processing') timer = setTimeout(load, POLL_MS);
  };
  await load();
  return () => {
    stopped = true;
    controller.abort();
    clearTimeout(timer);
    editor?.destroy();
  };
}

function detail(t, errors, navigate, { startAt, segment }) {
  const state = { t };
  const header = h(
    'div',
    { class: 'page-header' },
    h('h1', { tabindex: '-1' }, t.filename || 'Transcript'),
    h('p', { class: 'muted meta-line' },
      statusBadge(t.status), ' Created ', timeEl(t.created_at),
      t.completed_at ? [' · finished ', timeEl(t.completed_at)] : null),
  );

  const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm deletion' });
  const deleteButton = h('button', { type: 'button', class: 'danger', onclick: () => {
    confirmBox.hidden = false;
    confirmBox.querySelector('button').focus();
  } }, 'Delete');
  confirmBox.append(
    h('span', {}, 'Delete this transcript for good?'),
    h('button', { type: 'button', class: 'danger', id: 'confirm-delete', onclick: async (event) => {
      event.target.disabled = true;
      try {
        await api.deleteTranscript(t.id);
        toast(`Deleted ${t.filename || 'the transcript'}.`);
        navigate('#/transcripts');
      } catch (error) {
        event.target.disabled = false;
        errors.show(error);
      }
    } }, 'Yes, delete'),
    h('button', { type: 'button', onclick: () => {
      confirmBox.hidden = true;
      deleteButton.focus();
    } }, 'Keep it'),
  );

  const parts = [header];
  if (t.status === 'completed') {
    parts.push(h(
      'div',
      { class: 'button-row', role: 'group', 'aria-label': 'Export' },
      h('span', { class: 'muted' }, 'Export'),
      EXPORTS.map((format) => h('button', { type: 'button', dataset: { format }, onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          const { blob, filename } = await api.exportTranscript(t.id, format);
          saveBlob(blob, filename);
        } catch (error) {
          errors.show(error);
        } finally {
          button.disabled = false;
        }
      } }, formatLabel(format))),
      copyTextButton(() => state.t),
      h('span', { class: 'spacer' }),
      deleteButton,
    ));
    parts.push(confirmBox);
    const editor = transcriptEditor(t, { startAt, segment, onChange: (edited) => {
      state.t = edited;
    } });
    parts.push(editor.el);
    if (Object.values(features.ai).some(Boolean)) parts.push(aiPanel(() => state.t, editor));
    return { el: h('div', {}, parts), editor };
  } else {
    const note = {
      queued: 'Waiting for a worker. This page refreshes by itself.',
      processing: 'Transcribing now. This page refreshes by itself.',
      failed: `Transcription failed: ${t.error || 'unknown error'}`,
    }[t.status];
    parts.push(h('div', { class: t.status === 'failed' ? 'alert alert-error' : 'alert', role: 'status' }, note));
    if (t.status === 'failed') parts.push(h('div', { class: 'button-row' }, deleteButton), confirmBox);
  }
  return { el: h('div', {}, parts), editor: null };
}
