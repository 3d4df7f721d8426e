// The page shell: hash routes (#/, #/transcripts/<id>, ...), the API key dialog, the navigation.

import { ApiError, api, keyStore } from './api.js';
import { features, loadFeatures } from './features.js';
import { loadSession } from './session.js';
import { h, pageHeader, toast } from './ui.js';

const main = document.getElementById('main');

const routes = [
  { pattern: /^\/?$/, nav: 'transcribe', load: () => import('./pages/transcribe.js').then((m) => m.render) },
  { pattern: /^\/live$/, nav: 'live', feature: 'stream', load: () => import('./pages/live.js').then((m) => m.render) },
  { pattern: /^\/transcripts$/, nav: 'transcripts', load: () => import('./pages/transcripts.js').then((m) => m.renderList) },
  {
    pattern: /^\/transcripts\/(?<id>[^/]+)$/,
    nav: 'transcripts',
    load: () => import('./pages/transcripts.js').then((m) => m.renderDetail),
  },
  { pattern: /^\/speak$/, nav: 'speak', load: () => import('./pages/speak.js').then((m) => m.render) },
  { pattern: /^\/enhance$/, nav: 'enhance', load: () => import('./pages/enhance.js').then((m) => m.render) },
  { pattern: /^\/search$/, nav: 'search', load: () => import('./pages/search.js').then((m) => m.render) },
  { pattern: /^\/account$/, nav: 'account', load: () => import('./pages/account.js').then((m) => m.render) },
  // sign-up, sign-in, email links and the operator console (pages/auth.js, pages/admin.js)
  { pattern: /^\/signin$/, nav: 'signin', load: () => import('./pages/auth.js').then((m) => m.renderSignin) },
  { pattern: /^\/signup$/, nav: 'signin', load: () => import('./pages/auth.js').then((m) => m.renderSignup) },
  { pattern: /^\/verify$/, nav: 'signin', load: () => import('./pages/auth.js').then((m) => m.renderVerify) },
  { pattern: /^\/reset$/, nav: 'signin', load: () => import('./pages/auth.js').then((m) => m.renderReset) },
  { pattern: /^\/admin$/, nav: 'admin', load: () => import('./pages/admin.js').then((m) => m.render) },
];

let cleanup = null;
let firstRender = true;
let generation = 0;

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [path, search = ''] = raw.split('?');
  return { path: decodeURI(path), query: new URLSearchParams(search) };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function notFound() {
  main.replaceChildren(
    pageHeader('Page not found'),
    h('p', {}, 'There is nothing at this address. ', h('a', { href: '#/' }, 'Transcribe a file'), ' instead?'),
  );
}

async function route() {
  const mine = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // a page's cleanup must not block the next page
    }
    cleanup = null;
  }
  const { path, query } = parseHash();
  const match = routes
    .filter((r) => !r.feature || features[r.feature])
    .map((r) => ({ r, m: r.pattern.exec(path) }))
    .find((x) => x.m);

  document.querySelectorAll('[data-nav]').forEach((link) => {
    if (match && link.dataset.nav === match.r.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  });

  if (!match) {
    notFound();
  } else {
    try {
      const render = await match.r.load();
      if (mine !== generation) return; // the visitor went elsewhere meanwhile
      const result = await render(main, { params: match.m.groups || {}, query, navigate });
      if (mine !== generation) {
        if (typeof result === 'function') result();
        return;
      }
      cleanup = typeof result === 'function' ? result : null;
    } catch (error) {
      main.replaceChildren(pageHeader('Something went wrong'), h('p', { role: 'alert' }, error.message));
    }
  }
  const title = main.querySelector('h1')?.textContent;
  document.title = title ? `${title} · Vocable` : 'Vocable';
  // Move focus to the new page's heading, except on first load (the visitor has not acted yet).
  if (!firstRender) (main.querySelector('h1') || main).focus({ preventScroll: false });
  firstRender = false;
}

// -- API key -------------------------------------------------------------------------------------
const dialog = document.getElementById('key-dialog');
const keyInput = document.getElementById('key-input');
const keyError = document.getElementById('key-error');
const keyButton = document.getElementById('key-button');
const keyLabel = document.getElementById('key-label');

function openKeyDialog() {
  keyInput.value = keyStore.get();
  keyInput.type = 'password';
  document.getElementById('key-reveal').textContent = 'Show';
  document.getElementById('key-reveal').setAttribute('aria-pressed', 'false');
  keyError.textContent = '';
  dialog.showModal();
  keyInput.focus();
}

async function showKeyState(key) {
  keyButton.dataset.state = key ? 'checking' : 'anonymous';
  keyLabel.textContent = key ? `Key ${key.slice(0, 12)}…` : 'Anonymous';
  keyButton.setAttribute('aria-label', key ? 'API key: checking. Change the key' : 'Anonymous. Add an API key');
  if (!key) return;
  try {
    const account = await api.account(key);
    if (keyStore.get() !== key) return;
    keyButton.dataset.state = 'ok';
    keyLabel.textContent = account.email || `Key ${key.slice(0, 12)}…`;
    keyButton.setAttribute('aria-label', `Using the API key of ${account.email}. Change the key`);
  } catch (error) {
    if (keyStore.get() !== key) return;
    if (error instanceof ApiError && error.status === 401) {
      keyButton.dataset.state = 'bad';
      keyLabel.textContent = 'Key refused';
      keyButton.setAttribute('aria-label', 'The stored API key was refused. Change the key');
    }
  }
}

document.getElementById('key-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) {
    keyError.textContent = 'Paste a key, or choose "Use anonymously".';
    keyInput.focus();
    return;
  }
  const save = document.getElementById('key-save');
  save.disabled = true;
  keyError.textContent = '';
  try {
    const account = await api.account(key); // only a key the server accepts is kept
    keyStore.set(key);
    dialog.close();
    toast(`Using the key of ${account.email}.`);
  } catch (error) {
    keyError.textContent = error.message;
    keyInput.focus();
  } finally {
    save.disabled = false;
  }
});
document.getElementById('key-forget').addEventListener('click', () => {
  keyStore.clear();
  dialog.close();
  toast('Anonymous: no key is stored in this browser.');
});
document.getElementById('key-cancel').addEventListener('click', () => dialog.close());
document.getElementById('key-reveal').addEventListener('click', (event) => {
  const show = keyInput.type === 'password';
  keyInput.type = show ? 'text' : 'password';
  event.currentTarget.setAttribute('aria-pressed', String(show));
  event.currentTarget.textContent = show ? 'Hide' : 'Show';
});
keyButton.addEventListener('click', openKeyDialog);
document.addEventListener('vocable:open-key-dialog', openKeyDialog);

keyStore.onChange((key) => {
  showKeyState(key);
  route(); // pages show different things with and without a key
});

// Skip link: focus the content without touching the route in the hash.
document.querySelector('[data-skip]').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  if (location.hash === '' || location.hash.startsWith('#/')) route();
});

await Promise.all([loadFeatures(), loadSession()]);
(await import('./pages/auth.js')).installNav();
document.querySelectorAll('[data-feature]').forEach((el) => {
  el.hidden = !features[el.dataset.feature];
});
showKeyState(keyStore.get());
await route();
document.documentElement.dataset.ready = 'true';
