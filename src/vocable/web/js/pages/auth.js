// Sign-up, sign-in, sign-out, address verification and password reset (#/signup, #/signin,
// #/verify?token=, #/reset[?token=]), and the nav entries for them. A signed-in browser holds an
// HttpOnly session cookie; session.js keeps its CSRF token for the calls that change state.

import { ApiError, apiUrl, getJSON } from '../api.js';
import { session } from '../session.js';
import { errorBox, h, pageHeader, toast } from '../ui.js';

// After signing in or out, start the page again: every page then sees the new caller.
function restart(hash = '#/') {
  location.hash = hash;
  location.reload();
}

function field(id, label, attrs = {}) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, required: true, ...attrs }));
}

function form(id, fields, submitLabel, onSubmit) {
  const errors = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, submitLabel);
  const el = h('form', { class: 'card stack', id, novalidate: false },
    fields, errors.el, h('div', { class: 'actions' }, submit));
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    submit.disabled = true;
    try {
      await onSubmit(new FormData(el));
    } catch (error) {
      errors.show(error instanceof ApiError || error instanceof Error ? error : String(error));
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

const post = (path, json) => getJSON(path, { method: 'POST', json, key: '' });

/** The account's first API key, shown once (sign-up without verification, or a verified link). */
function firstKey(main, answer) {
  const key = answer.key?.key;
  const input = h('input', { id: 'first-key', type: 'text', readonly: true, value: key || '',
    spellcheck: 'false', 'aria-describedby': 'first-key-help' });
  main.replaceChildren(
    pageHeader('Welcome to Vocable', `Signed in as ${answer.account.email}.`),
    h('section', { class: 'card stack', 'data-first-key': '' },
      h('h2', {}, 'Your API key'),
      h('p', { id: 'first-key-help' }, h('strong', {}, 'Copy it now: it will not be shown again. '),
        'Programs (the SDKs, curl) use it as "Authorization: Bearer <key>"; this browser is '
        + 'signed in and needs no key.'),
      h('div', { class: 'row row-fill' },
        h('label', { for: 'first-key', class: 'visually-hidden' }, 'API key'), input,
        h('button', { type: 'button', onclick: async () => {
          try {
            await navigator.clipboard.writeText(key);
            toast('Key copied.');
          } catch {
            input.select();
            toast('Press Ctrl+C to copy the selected key.');
          }
        } }, 'Copy')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'first-key-done',
          onclick: () => restart('#/') }, 'Start transcribing'))));
}

export async function renderSignup(main) {
  const config = await getJSON('api/v1/auth/config', { key: '' });
  main.replaceChildren(pageHeader('Create an account',
    config.verification ? 'We will mail you a link to confirm the address.' : null));
  if (config.signup === 'closed') {
    main.append(h('section', { class: 'card' },
      h('p', {}, 'Sign-up is closed on this server: ask its operator for an account.')));
    return;
  }
  main.append(form('signup-form', [
    field('signup-email', 'Email', { type: 'email', autocomplete: 'email' }),
    field('signup-password', 'Password', { type: 'password', autocomplete: 'new-password',
      minlength: String(config.password_min_length) }),
    h('p', { class: 'help muted' }, `At least ${config.password_min_length} characters.`),
    config.signup === 'invite' ? field('signup-invite', 'Invite code', { autocomplete: 'off' }) : null,
  ], 'Create account', async (data) => {
    const body = { email: data.get('signup-email'), password: data.get('signup-password') };
    if (config.signup === 'invite') body.invite = data.get('signup-invite');
    const answer = await post('api/v1/auth/signup', body);
    if (answer.status === 'verification_sent') {
      main.replaceChildren(pageHeader('Check your mail'),
        h('section', { class: 'card', role: 'status', id: 'signup-sent' }, h('p', {}, answer.message)));
      return;
    }
    firstKey(main, answer);
  }), h('p', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')));
}

export async function renderSignin(main) {
  main.replaceChildren(pageHeader('Sign in'));
  if (session.active) {
    main.append(h('p', {}, `Signed in as ${session.account?.email}. `,
      h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out')));
    return;
  }
  const config = await getJSON('api/v1/auth/config', { key: '' });
  main.append(form('signin-form', [
    field('signin-email', 'Email', { type: 'email', autocomplete: 'username' }),
    field('signin-password', 'Password', { type: 'password', autocomplete: 'current-password' }),
  ], 'Sign in', async (data) => {
    await post('api/v1/auth/signin',
      { email: data.get('signin-email'), password: data.get('signin-password') });
    restart('#/');
  }), h('p', {},
    config.signup !== 'closed' ? [h('a', { href: '#/signup' }, 'Create an account'), ' · '] : null,
    config.password_reset ? h('a', { href: '#/reset' }, 'Forgot your password?')
      : h('span', { class: 'muted' }, 'Forgot your password? Ask the server\'s operator.'),
    config.verification ? [' · ', h('a', { href: '#/verify', id: 'resend-link' },
      'Send a new confirmation link')] : null));
}

/** #/verify without a token: ask for a new confirmation link. */
function renderResend(main) {
  main.replaceChildren(pageHeader('Send a new confirmation link'), form('resend-form', [
    field('resend-email', 'Email', { type: 'email', autocomplete: 'email' }),
  ], 'Send me a link', async (data) => {
    const answer = await post('api/v1/auth/verify/resend', { email: data.get('resend-email') });
    main.replaceChildren(pageHeader('Check your mail'),
      h('section', { class: 'card', role: 'status', id: 'resend-sent' }, h('p', {}, answer.message)));
  }));
}

export async function renderVerify(main, { query }) {
  if (!query.get('token')) {
    renderResend(main);
    return;
  }
  main.replaceChildren(pageHeader('Confirming your address…'));
  try {
    const answer = await post('api/v1/auth/verify', { token: query.get('token') });
    if (!answer.key) { // a new address of an account in use: no first key to show
      toast('Address confirmed.');
      restart('#/');
      return;
    }
    firstKey(main, answer);
  } catch (error) {
    const errors = errorBox();
    main.replaceChildren(pageHeader('This link does not work'), errors.el,
      h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' or ', h('a', { href: '#/signup' }, 'sign up again'), '.'));
    errors.show(error);
  }
}

export async function renderReset(main, { query }) {
  const token = query.get('token');
  if (!token) {
    main.replaceChildren(pageHeader('Reset your password'), form('reset-form', [
      field('reset-email', 'Email', { type: 'email', autocomplete: 'email' }),
    ], 'Send me a link', async (data) => {
      const answer = await post('api/v1/auth/reset', { email: data.get('reset-email') });
      main.replaceChildren(pageHeader('Check your mail'),
        h('section', { class: 'card', role: 'status' }, h('p', {}, answer.message)));
    }));
    return;
  }
  main.replaceChildren(pageHeader('Choose a new password'), form('reset-confirm-form', [
    field('reset-password', 'New password', { type: 'password', autocomplete: 'new-password' }),
  ], 'Save password', async (data) => {
    await post('api/v1/auth/reset/confirm', { token, password: data.get('reset-password') });
    toast('Password changed: sign in with it.');
    restart('#/signin');
  }));
}

export async function signOut() {
  try {
    await fetch(apiUrl('api/v1/auth/signout'), {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrf },
    });
  } finally {
    restart('#/signin');
  }
}

/** Nav entries: "Sign in" or the account's "Sign out" (and "Admin" for operators). */
export function installNav() {
  const nav = document.querySelector('.nav');
  if (!nav) return;
  if (session.active && session.account?.role === 'admin') {
    nav.append(h('li', {}, h('a', { href: '#/admin', 'data-nav': 'admin' }, 'Admin')));
  }
  nav.append(h('li', {}, session.active
    ? h('button', { type: 'button', class: 'link', id: 'signout', onclick: signOut }, 'Sign out')
    : h('a', { href: '#/signin', 'data-nav': 'signin', id: 'signin-link' }, 'Sign in')));
}
