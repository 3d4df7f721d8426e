// The signed-in browser: the session cookie itself is HttpOnly (no script sees it); this module
// keeps what the page may know — whether it is signed in, the account, and the session's CSRF
// token that state-changing calls send back (X-CSRF-Token). Filled by loadSession() at start-up.

// What keyStore.get() answers for a signed-in browser without a pasted key: pages that only ask
// "is there a caller?" see one; api.js sends the cookie (no Authorization) for it.
export const SESSION_KEY = 'session';

export const session = { active: false, csrf: '', account: null };

export async function loadSession() {
  try {
    const response = await fetch(new URL('api/v1/auth/me', document.baseURI), {
      credentials: 'same-origin',
    });
    const body = response.ok ? await response.json() : {};
    session.active = Boolean(body.signed_in && body.via === 'session');
    session.csrf = session.active ? body.csrf_token || '' : '';
    session.account = session.active ? body.account : null;
  } catch {
    session.active = false; // offline: each page says what failed
  }
  return session;
}
