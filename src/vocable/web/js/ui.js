// DOM helpers. Text from the API only ever reaches the page as text nodes (never innerHTML).

/**
 * h('button', {class: 'primary', onclick: fn}, 'Save') → an element.
 * Attributes: `class`, `dataset`, `on<event>` handlers, booleans (true → present, false → absent),
 * everything else via setAttribute. Children: strings, numbers, nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' || name === 'checked' || name === 'selected') el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children; like h(), skips null/false children (replaceChildren would
 * print them as text). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A region for one error message, announced to screen readers when it appears. */
export function errorBox() {
  const box = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  return {
    el: box,
    show(error, extra) {
      const message = typeof error === 'string' ? error : error?.message || 'Something went wrong.';
      box.replaceChildren(h('strong', {}, 'Error: '), message);
      if (extra) box.append(' ', extra);
      else if (error?.status === 401) {
        box.append(' ', h('button', { type: 'button', class: 'link', onclick: openKeyDialog }, 'Change the API key'));
      }
      box.hidden = false;
    },
    hide() {
      box.hidden = true;
      box.replaceChildren();
    },
  };
}

let toastTimer;
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

/** 3.2 → "0:03.2"; 3725 → "1:02:05.0". */
export function clock(seconds, { tenths = true } = {}) {
  const total = Math.max(0, Number(seconds) || 0);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const s = tenths ? secs.toFixed(1).padStart(4, '0') : String(Math.floor(secs)).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${s}` : `${minutes}:${s}`;
}

/** 125.4 → "2 min 5 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const total = Math.round(Number(seconds));
  if (total < 60) return `${total} s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours) return `${hours} h ${minutes} min`;
  return secs ? `${minutes} min ${secs} s` : `${minutes} min`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function timeEl(iso) {
  return iso ? h('time', { datetime: iso }, when(iso)) : '—';
}

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' });
  } catch {
    return null;
  }
})();

export function languageName(code) {
  if (!code) return '—';
  try {
    const name = languageNames?.of(code);
    if (name && name !== code) return name;
  } catch {
    // not a code Intl knows
  }
  return code;
}

export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** A status pill: queued, processing, completed, failed. */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}

/** A page heading that receives focus after navigation, for screen readers and keyboards. */
export function pageHeader(title, subtitle) {
  return h(
    'div',
    { class: 'page-header' },
    h('h1', { tabindex: '-1' }, title),
    subtitle ? h('p', { class: 'muted' }, subtitle) : null,
  );
}

export function openKeyDialog() {
  document.dispatchEvent(new CustomEvent('vocable:open-key-dialog'));
}

/** What pages that need a key show to an anonymous visitor. */
export function needsKey(what) {
  return h(
    'section',
    { class: 'card empty' },
    h('h2', {}, 'An API key is needed'),
    h('p', {}, `${what} belong to an account. Paste one of its API keys to continue.`),
    h('p', { class: 'muted' }, 'An operator creates accounts and first keys with ',
      h('code', {}, 'vocable accounts create'), ' and ', h('code', {}, 'vocable keys create'), '.'),
    h('button', { type: 'button', class: 'primary', onclick: openKeyDialog }, 'Add API key'),
  );
}
