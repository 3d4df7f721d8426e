// The Node SDK's sign-up and operator-console calls against a live server, started by
// tests/sdk/test_sdk_auth.py (which passes VOCABLE_BASE_URL and an admin's VOCABLE_ADMIN_KEY).
// Not named *.test.mjs: the main suite (tests/sdk/test_node_sdk.py) runs without an admin key.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import Vocable, { AuthenticationError, BadRequestError, PermissionDeniedError } from '../index.mjs';

const baseURL = process.env.VOCABLE_BASE_URL;
const adminKey = process.env.VOCABLE_ADMIN_KEY;

test('sign up, then the operator manages the account', async () => {
  const anonymous = new Vocable({ apiKey: null, baseURL });
  assert.equal((await anonymous.auth.config()).signup, 'open');
  const opened = await anonymous.auth.signup('node@example.com', 'a long password', { name: 'Nod' });
  await assert.rejects(anonymous.auth.resendVerification('node@example.com'), // no SMTP here
    (err) => err instanceof BadRequestError && /not confirmed by mail/.test(err.message));
  const key = opened.key.key;
  const id = opened.account.id;
  assert.match(key, /^voc_/);
  const user = new Vocable({ apiKey: key, baseURL });
  assert.equal((await user.auth.me()).via, 'key');
  await assert.rejects(user.admin.accounts(), PermissionDeniedError);

  const admin = new Vocable({ apiKey: adminKey, baseURL });
  assert.equal((await admin.admin.accounts('node@')).total, 1);
  assert.equal((await admin.admin.setPlan(id, 'paid')).plan, 'paid');
  assert.equal((await admin.admin.grantCredits(id, 7)).credits, 7);
  assert.equal((await user.account.get()).credits, 7);
  await admin.admin.disable(id);
  await assert.rejects(user.account.get(), (err) => err instanceof PermissionDeniedError && /disabled/.test(err.message));
  await admin.admin.enable(id);
  const invite = await admin.admin.createInvite({ maxUses: 3, note: 'node' });
  assert.match(invite.code, /^inv_/);
  assert.ok((await admin.admin.invites()).some((i) => i.note === 'node'));
  await admin.admin.revokeInvite(invite.id);
  assert.ok((await admin.admin.usage({ days: 2 })).days.length === 2);
  assert.ok((await admin.admin.server()).models.length > 0);
  await admin.admin.deleteAccount(id);
  await assert.rejects(user.account.get(), AuthenticationError);
  assert.throws(() => admin.admin.account(0), TypeError);
});
