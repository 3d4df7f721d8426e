// The official `openai` npm package against Vocable's OpenAI-compatible routes. Run by
// tests/api/openai/test_node_openai.py, which starts the server and passes, in the environment:
// VOCABLE_BASE_URL, VOCABLE_API_KEY, VOCABLE_JFK (an English clip), VOCABLE_GERMAN (a German one).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: process.env.VOCABLE_API_KEY,
  baseURL: `${process.env.VOCABLE_BASE_URL}/v1`,
  maxRetries: 0,
  timeout: 300_000,
});
const jfk = () => fs.createReadStream(process.env.VOCABLE_JFK);

test('transcription: json, text and verbose_json with word timestamps', async () => {
  const { data, response } = await client.audio.transcriptions
    .create({ file: jfk(), model: 'large-v3-turbo' })
    .withResponse();
  assert.equal(response.headers.get('x-vocable-model'), 'base'); // the fallback says so
  assert.match(data.text.toLowerCase(), /ask not what your country can do for you/);

  const text = await client.audio.transcriptions.create({
    file: jfk(), model: 'whisper-1', response_format: 'text',
  });
  assert.equal(typeof text, 'string');
  assert.match(text.toLowerCase(), /my fellow americans/);

  const verbose = await client.audio.transcriptions.create({
    file: jfk(), model: 'whisper-1', response_format: 'verbose_json',
    timestamp_granularities: ['word', 'segment'],
  });
  assert.equal(verbose.language, 'english');
  assert.ok(verbose.segments.length >= 1 && verbose.words.length >= 20);
  for (const [a, b] of verbose.words.slice(1).map((w, i) => [verbose.words[i], w])) {
    assert.ok(a.start <= b.start && a.start <= a.end);
  }
});

test('streamed transcription events', async () => {
  const stream = await client.audio.transcriptions.create({
    file: jfk(), model: 'gpt-4o-transcribe', stream: true,
  });
  const events = [];
  for await (const event of stream) events.push(event);
  const done = events.pop();
  assert.equal(done.type, 'transcript.text.done');
  assert.ok(events.length >= 1 && events.every((e) => e.type === 'transcript.text.delta'));
  assert.equal(events.map((e) => e.delta).join(''), done.text);
  assert.match(done.text.toLowerCase(), /ask what you can do for your country/);
});

test('translation of German speech to English', async () => {
  const translated = await client.audio.translations.create({
    file: fs.createReadStream(process.env.VOCABLE_GERMAN), model: 'whisper-1',
  });
  const english = translated.text.toLowerCase();
  assert.match(english, /good morning/);
  assert.match(english, /coffee/);
  assert.doesNotMatch(english, /kaffee|morgen/);
});

test('embeddings, base64 by default and float', async () => {
  const input = ['The cat sat on the mat.', 'Stock markets fell.'];
  const encoded = await client.embeddings.create({ model: 'text-embedding-3-small', input });
  const floats = await client.embeddings.create({ model: 'x', input, encoding_format: 'float' });
  assert.equal(encoded.model, 'all-MiniLM-L6-v2');
  assert.equal(encoded.data.length, 2);
  for (const [i, item] of encoded.data.entries()) {
    assert.equal(item.embedding.length, 384);
    item.embedding.forEach((x, j) => assert.ok(Math.abs(x - floats.data[i].embedding[j]) < 1e-6));
  }
  assert.ok(encoded.usage.prompt_tokens > 0);
});

test('chat completion: plain, streamed and JSON-schema constrained', async () => {
  const messages = [{ role: 'user', content: 'What is the capital of France? One word.' }];
  const plain = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages, max_tokens: 8, temperature: 0,
  });
  assert.match(plain.choices[0].message.content.toLowerCase(), /paris/);
  assert.equal(plain.usage.total_tokens, plain.usage.prompt_tokens + plain.usage.completion_tokens);

  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages, max_tokens: 8, temperature: 0, stream: true,
  });
  let streamed = '';
  let finish = null;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.match(streamed.toLowerCase(), /paris/);
  assert.equal(finish, 'stop');

  const schema = {
    type: 'object',
    properties: { country: { type: 'string' }, capital: { type: 'string' } },
    required: ['country', 'capital'],
    additionalProperties: false,
  };
  const structured = await client.chat.completions.create({
    model: 'gpt-4o-mini', temperature: 0, max_tokens: 40,
    messages: [{ role: 'user', content: 'Give the capital of Italy.' }],
    response_format: { type: 'json_schema', json_schema: { name: 'capital', schema, strict: true } },
  });
  const answer = JSON.parse(structured.choices[0].message.content);
  assert.deepEqual(Object.keys(answer).sort(), ['capital', 'country']);
  assert.equal(answer.capital.toLowerCase(), 'rome');
});

test('models.list() and errors in OpenAI shape', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  for (const id of ['base', 'qwen2.5-coder-1.5b-instruct', 'all-MiniLM-L6-v2']) {
    assert.ok(ids.includes(id), `${id} in ${ids}`);
  }
  await assert.rejects(
    client.audio.transcriptions.create({ file: jfk(), model: 'large-v9' }),
    (err) => err instanceof OpenAI.BadRequestError && err.code === 'model_not_found',
  );
});
