// The operator console (#/admin, admin accounts only): accounts (search, plan, credits, disable,
// delete), usage across accounts, the server's models and workers. Every change is one call to
// /api/v1/admin/...; the answer repaints the row.

import { getJSON } from '../api.js';
import { errorBox, h, pageHeader, toast } from '../ui.js';

const call = (path, method = 'GET', json) => getJSON(`api/v1/admin/${path}`, { method, json });

function accountRow(account, plans, repaint, errors) {
  const act = (promise, done) => promise.then((a) => { toast(done); repaint(a); }).catch((e) => errors.show(e));
  const plan = h('select', { 'aria-label': `Plan of ${account.email}`, class: 'field-small',
    onchange: (e) => act(call(`accounts/${account.id}/`, 'PATCH', { plan: e.target.value }), 'Plan changed.') },
  plans.map((p) => h('option', { value: p, selected: p === account.plan }, p)));
  const credits = h('input', { type: 'number', value: '60', class: 'field-small',
    'aria-label': `Credits to grant to ${account.email}` });
  return h('tr', { 'data-account': account.email },
    h('th', { scope: 'row' }, account.email, account.role === 'admin' ? h('span', { class: 'badge badge-current' }, 'admin') : null),
    h('td', {}, plan),
    h('td', { class: 'account-credits' }, String(account.credits)),
    h('td', {}, account.monthly_minutes ? `${account.minutes_used}/${account.monthly_minutes}` : '—'),
    h('td', {}, String(account.transcripts)),
    h('td', {}, h('span', { class: `badge ${account.disabled ? 'badge-failed' : 'badge-completed'}` },
      account.disabled ? 'disabled' : 'active')),
    h('td', { class: 'actions-cell' },
      credits,
      h('button', { type: 'button', class: 'small-button', onclick: () => act(
        call(`accounts/${account.id}/credits/`, 'POST', { credits: Number(credits.value) }), 'Credits granted.') }, 'Grant'),
      h('button', { type: 'button', class: 'small-button', onclick: () => act(
        call(`accounts/${account.id}/`, 'PATCH', { disabled: !account.disabled }),
        account.disabled ? 'Enabled.' : 'Disabled.') }, account.disabled ? 'Enable' : 'Disable'),
      h('button', { type: 'button', class: 'small-button', onclick: () => {
        if (!window.confirm(`Delete ${account.email} with its transcripts and keys?`)) return;
        call(`accounts/${account.id}/`, 'DELETE').then(() => { toast('Deleted.'); repaint(null); })
          .catch((e) => errors.show(e));
      } }, 'Delete')));
}

export async function render(main) {
  const errors = errorBox();
  const [server, usage] = await Promise.all([call('server/'), call('usage/?days=30')]);
  const plans = ['free', 'paid'];
  const body = h('tbody');
  const search = h('input', { type: 'search', id: 'admin-search', placeholder: 'email, name or plan',
    'aria-label': 'Search accounts' });
  const load = async () => {
    const listing = await call(`accounts/?q=${encodeURIComponent(search.value)}`);
    body.replaceChildren(...listing.accounts.map(function row(account) {
      const tr = accountRow(account, plans, (changed) => {
        if (changed) tr.replaceWith(row(changed));
        else tr.remove();
      }, errors);
      return tr;
    }));
  };
  search.addEventListener('input', () => load().catch((e) => errors.show(e)));
  const t = usage.totals;
  main.replaceChildren(
    pageHeader('Admin', `${t.accounts} accounts · ${t.transcriptions} transcriptions and `
      + `${t.audio_minutes} audio minutes in 30 days`),
    errors.el,
    h('section', { class: 'card table-card' }, h('h2', {}, 'Accounts'), search,
      h('div', { class: 'table-scroll' }, h('table', { class: 'table', id: 'admin-accounts' },
        h('thead', {}, h('tr', {}, ['Account', 'Plan', 'Credits', 'Minutes', 'Transcripts', 'Status', 'Actions']
          .map((c) => h('th', { scope: 'col' }, c)))), body))),
    h('section', { class: 'card' }, h('h2', {}, 'Server'),
      h('p', {}, `${server.workers.length} worker(s), ${server.queued_jobs} queued job(s), `
        + `${server.open_streams} open stream(s); sign-up ${server.signup.signup}; mail `
        + `${server.mail.enabled ? 'on' : 'off'}.`),
      h('ul', {}, server.models.filter((m) => m.installed).map((m) =>
        h('li', {}, `${m.family}: ${m.name} (${m.id})${m.loaded ? ' — loaded' : ''}`)))));
  await load();
}
