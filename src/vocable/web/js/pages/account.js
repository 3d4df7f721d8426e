// The account: plan and allowance, 30-day usage, and API keys (create: the raw key is shown once;
// revoke).

import { api, keyStore } from '../api.js';
import {
  capitalize,
  errorBox,
  fill,
  h,
  needsKey,
  pageHeader,
  timeEl,
  toast,
  when,
} from '../ui.js';

function stat(label, value, detail) {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    detail ? h('div', { class: 'stat-detail muted' }, detail) : null);
}

function size(mb) {
  if (mb === null || mb === undefined) return '—';
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`;
}

function planCard(account) {
  const limits = account.limits || {};
  let allowance;
  if (account.uses_credits) {
    allowance = stat('Credits', String(account.credits), '1 credit = 1 minute of audio');
  } else {
    const total = account.monthly_minutes || 0;
    const used = account.minutes_used || 0;
    allowance = h('div', { class: 'stat' },
      h('div', { class: 'stat-label', id: 'minutes-label' }, `Minutes this month (${account.month})`),
      h('div', { class: 'stat-value' }, `${account.minutes_left} left`),
      h('meter', { min: '0', max: String(total), value: String(used), 'aria-labelledby': 'minutes-label',
        low: String(total * 0.7), high: String(total * 0.9), optimum: '0' }),
      h('div', { class: 'stat-detail muted' }, `${used} of ${total} used`));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'plan-title' },
    h('h2', { id: 'plan-title' }, 'Plan'),
    h('div', { class: 'stats' },
      stat('Plan', capitalize(account.plan), account.email),
      allowance,
      account.uses_credits ? stat('Minutes this month', String(account.minutes_used), account.month) : null,
      stat('Limits', `${size(limits.max_upload_mb)} per file`,
        `${limits.concurrent_jobs ?? '—'} concurrent jobs · ${limits.requests_per_minute ?? '—'} requests/min`)));
}

function usageCard(usage) {
  const days = usage.days || [];
  const max = Math.max(1, ...days.map((d) => d.audio_minutes));
  const totals = usage.totals || {};
  // The bars are a picture of the table below them (which screen readers get instead).
  const chart = h('div', { class: 'chart', 'aria-hidden': 'true' },
    days.map((d) => {
      const bar = h('div', { class: 'bar', title: `${d.date}: ${d.audio_minutes} min, ${d.transcriptions} transcriptions` });
      bar.style.height = `${Math.round((d.audio_minutes / max) * 100)}%`;
      if (!d.audio_minutes && d.requests) bar.classList.add('bar-requests');
      return h('div', { class: 'bar-slot' }, bar);
    }));
  const active = days.filter((d) => d.requests || d.audio_minutes || d.transcriptions);
  return h('section', { class: 'card', 'aria-labelledby': 'usage-title' },
    h('h2', { id: 'usage-title' }, 'Usage, last 30 days'),
    h('div', { class: 'stats' },
      stat('Audio minutes', String(totals.audio_minutes ?? 0)),
      stat('Transcriptions', String(totals.transcriptions ?? 0)),
      stat('Credits spent', String(totals.credits_spent ?? 0)),
      stat('API requests', String(totals.requests ?? 0))),
    chart,
    h('div', { class: 'chart-axis muted small', 'aria-hidden': 'true' },
      h('span', {}, usage.start), h('span', {}, usage.end)),
    h('details', {},
      h('summary', {}, 'Daily numbers'),
      active.length
        ? h('table', { class: 'table compact' },
            h('thead', {}, h('tr', {}, ['Day', 'Audio min', 'Transcriptions', 'Credits', 'Requests']
              .map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, active.map((d) => h('tr', {},
              h('th', { scope: 'row' }, d.date), h('td', { class: 'num' }, d.audio_minutes),
              h('td', { class: 'num' }, d.transcriptions), h('td', { class: 'num' }, d.credits_spent),
              h('td', { class: 'num' }, d.requests)))))
        : h('p', { class: 'muted' }, 'No activity in this period.')));
}

function keysCard(reload) {
  const errors = errorBox();
  const list = h('div', { 'aria-live': 'polite' });
  const reveal = h('div');
  const name = h('input', { id: 'key-name', name: 'name', type: 'text', maxlength: '200', placeholder: 'e.g. laptop, CI' });
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create key');
  const form = h('form', { class: 'row', 'aria-label': 'Create an API key' },
    h('div', { class: 'field field-inline' }, h('label', { for: 'key-name' }, 'Name'), name),
    create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hide();
    create.disabled = true;
    try {
      const created = await api.createKey(name.value.trim());
      name.value = '';
      reveal.replaceChildren(newKeyCallout(created, () => reveal.replaceChildren()));
      reveal.querySelector('input').select();
      await reload();
    } catch (error) {
      errors.show(error);
    } finally {
      create.disabled = false;
    }
  });

  const current = keyStore.get();
  const paint = (keys) => {
    if (!keys.length) {
      list.replaceChildren(h('p', { class: 'muted' }, 'No keys.'));
      return;
    }
    const rows = keys.map((k) => {
      const mine = current && current.startsWith(k.prefix) && k.active;
      const actions = h('td', { class: 'actions-cell' });
      const revoke = async (button) => {
        button.disabled = true;
        try {
          await api.revokeKey(k.id);
          toast(`Revoked ${k.name || k.prefix}.`);
          if (mine) keyStore.clear(); // this browser's key no longer works
          else await reload();
        } catch (error) {
          button.disabled = false;
          errors.show(error);
        }
      };
      const ask = () => {
        actions.replaceChildren(
          h('span', { class: 'small' }, mine ? 'Revoke the key this browser uses?' : 'Revoke?'), ' ',
          h('button', { type: 'button', class: 'danger small-button', 'aria-label': `Confirm revoking ${k.name || k.prefix}`,
            onclick: (e) => revoke(e.currentTarget) }, 'Revoke'), ' ',
          h('button', { type: 'button', class: 'small-button', onclick: idle }, 'Cancel'));
        actions.querySelector('button').focus();
      };
      const idle = () => actions.replaceChildren(k.active
        ? h('button', { type: 'button', class: 'small-button', 'aria-label': `Revoke ${k.name || k.prefix}`, onclick: ask }, 'Revoke')
        : h('span', { class: 'muted small' }, `revoked ${when(k.revoked_at)}`));
      idle();
      return h('tr', { dataset: { keyId: k.id }, class: k.active ? null : 'revoked' },
        h('th', { scope: 'row' }, k.name || h('span', { class: 'muted' }, 'unnamed'),
          mine ? h('span', { class: 'badge badge-current' }, 'this browser') : null),
        h('td', {}, h('code', {}, `${k.prefix}…`)),
        h('td', {}, timeEl(k.created_at)),
        h('td', {}, k.last_used_at ? timeEl(k.last_used_at) : 'never'),
        h('td', {}, h('span', { class: `badge ${k.active ? 'badge-completed' : 'badge-failed'}` }, k.active ? 'active' : 'revoked')),
        actions);
    });
    list.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'table', id: 'keys-table' },
      h('caption', { class: 'visually-hidden' }, 'API keys'),
      h('thead', {}, h('tr', {}, ['Name', 'Key', 'Created', 'Last used', 'Status', 'Actions']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows))));
  };

  const section = h('section', { class: 'card', 'aria-labelledby': 'keys-title' },
    h('h2', { id: 'keys-title' }, 'API keys'),
    h('p', { class: 'muted' }, 'Keys are stored hashed: a new key is shown once, when it is created.'),
    form, errors.el, reveal, list);
  section.paint = paint;
  return section;
}

function newKeyCallout(created, dismiss) {
  const field = h('input', { id: 'new-key', type: 'text', readonly: true, value: created.key, spellcheck: 'false',
    'aria-describedby': 'new-key-help' });
  return h('div', { class: 'callout', role: 'status' },
    h('p', { id: 'new-key-help' }, h('strong', {}, `New key "${created.name || created.prefix}" created. `),
      'Copy it now: it will not be shown again.'),
    h('div', { class: 'row row-fill' },
      h('label', { for: 'new-key', class: 'visually-hidden' }, 'New API key'),
      field,
      h('button', { type: 'button', onclick: async () => {
        try {
          await navigator.clipboard.writeText(created.key);
          toast('Key copied.');
        } catch {
          field.select();
          toast('Press Ctrl+C to copy the selected key.');
        }
      } }, 'Copy')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => {
        keyStore.set(created.key);
        toast('This browser now uses the new key.');
      } }, 'Use in this browser'),
      h('button', { type: 'button', class: 'ghost', onclick: dismiss }, 'Done')));
}

export async function render(main) {
  if (!keyStore.get()) {
    main.replaceChildren(pageHeader('Account'), needsKey('Plans, usage and keys'));
    return;
  }
  const errors = errorBox();
  const top = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  const keys = keysCard(async () => {
    try {
      keys.paint((await api.keys()).keys);
    } catch (error) {
      errors.show(error);
    }
  });
  main.replaceChildren(pageHeader('Account'), errors.el, top, keys);
  const [account, usage, keyList] = await Promise.allSettled([api.account(), api.usage(30), api.keys()]);
  top.setAttribute('aria-busy', 'false');
  fill(
    top,
    account.status === 'fulfilled' ? planCard(account.value) : null,
    usage.status === 'fulfilled' ? usageCard(usage.value) : null,
  );
  if (keyList.status === 'fulfilled') keys.paint(keyList.value.keys);
  const failed = [account, usage, keyList].find((r) => r.status === 'rejected');
  if (failed) errors.show(failed.reason);
}
