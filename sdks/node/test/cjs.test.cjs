// require() and import give the same SDK (one copy of every class).
const assert = require('node:assert/strict');
const { test } = require('node:test');

test('CommonJS and ESM entry points share one implementation', async () => {
  const cjs = require('..');
  const esm = await import('../index.mjs');
  assert.equal(typeof cjs.Vocable, 'function');
  assert.equal(esm.Vocable, cjs.Vocable);
  assert.equal(esm.default, cjs.Vocable);
  assert.equal(esm.VocableError, cjs.VocableError);
  for (const name of Object.keys(cjs)) {
    if (name !== 'default') assert.ok(name in esm, `${name} is exported to ESM too`);
  }
  const err = new cjs.RateLimitError('slow down', { status: 429, headers: { 'retry-after': '7' } });
  assert.ok(err instanceof esm.VocableError);
  assert.equal(err.retryAfter, 7);
  assert.equal(err.name, 'RateLimitError');
});
