// The Node SDK against a live Vocable server (started by tests/sdk/test_python_sdk.py, which
// passes its URL and keys in the environment). Run: node --test test/
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import Vocable, {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PaymentRequiredError,
  RateLimitError,
  VocableError,
  pcmChunks,
  pcmFromFile,
} from '../index.mjs';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: these tests need a live server (see tests/sdk/test_python_sdk.py)`);
  return value;
}

const baseURL = env('VOCABLE_BASE_URL');
const data = env('VOCABLE_TEST_DATA');
const jfk = path.join(data, 'jfk.wav');
const client = (apiKey, options = {}) => new Vocable({ apiKey, baseURL, ...options });
const words = (text) => text.toLowerCase().match(/[a-z']+/g) || [];

describe('transcription', () => {
  let result;
  before(async () => {
    result = await client(env('VOCABLE_API_KEY')).transcribe(jfk, { model: 'base', language: 'en' });
  });

  test('a path gives the documented JSON', () => {
    assert.equal(result.language, 'en');
    assert.ok(Math.abs(result.duration - 11) < 0.2, `duration ${result.duration}`);
    assert.ok(result.text.toLowerCase().includes('ask not what your country can do for you'), result.text);
    assert.deepEqual(result.speakers, ['Speaker 1']);
    assert.ok(result.segments.length > 0);
    for (const segment of result.segments) {
      assert.equal(segment.speaker, 'Speaker 1');
      assert.ok(segment.words.length > 0);
      for (const w of segment.words) assert.ok(segment.start <= w.start && w.start <= w.end && w.end <= segment.end);
    }
    assert.match(result.id, /^\w+$/);
  });

  test('stored transcript: get, list, export, delete', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const stored = await vocable.transcripts.get(result.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.text, result.text);
    const page = await vocable.transcripts.list({ status: 'completed', language: 'en' });
    assert.ok(page.results.some((t) => t.id === result.id));
    const srt = (await vocable.transcripts.export(result.id, 'srt')).toString('utf8');
    assert.match(srt, /^1\r?\n\d\d:\d\d:\d\d,\d\d\d --> /);
    const dir = await mkdtemp(path.join(tmpdir(), 'vocable-sdk-'));
    try {
      const docx = await vocable.transcripts.export(result.id, 'docx', { path: path.join(dir, 'a.docx') });
      assert.deepEqual(await readFile(path.join(dir, 'a.docx')), docx);
      assert.equal(docx.subarray(0, 2).toString(), 'PK');
    } finally {
      await rm(dir, { recursive: true });
    }
    await vocable.transcripts.delete(result.id);
    await assert.rejects(vocable.transcripts.get(result.id), (err) => {
      assert.ok(err instanceof NotFoundError && err instanceof VocableError);
      assert.equal(err.status, 404);
      assert.equal(err.message, 'No such transcript.');
      return true;
    });
  });

  test('async job from a Node stream, then wait', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const job = await vocable.transcribe(createReadStream(jfk), { model: 'base', diarize: false, async: true });
    assert.equal(job.status, 'queued');
    const done = await vocable.transcripts.wait(job.id, { timeout: 300_000, pollInterval: 200 });
    assert.equal(done.status, 'completed');
    assert.equal(done.filename, 'jfk.wav');
    assert.deepEqual(done.speakers, []);
    assert.ok(words(done.text).includes('country'));
  });
});

describe('account API', () => {
  test('account, keys, usage', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const account = await vocable.account.get();
    assert.equal(account.plan, 'paid');
    const updated = await vocable.account.update({ name: 'Node SDK', emailPreferences: { newsletter: true } });
    assert.equal(updated.name, 'Node SDK');
    assert.equal(updated.email_preferences.newsletter, true);

    const created = await vocable.keys.create('node');
    assert.ok(created.key && created.active);
    assert.ok((await vocable.keys.list()).some((k) => k.id === created.id));
    assert.equal((await client(created.key).account.get()).id, account.id);
    await vocable.keys.revoke(created.id);
    await assert.rejects(client(created.key).account.get(), AuthenticationError);

    const usage = await vocable.usage.get({ days: 3 });
    assert.equal(usage.days.length, 3);
    assert.equal(usage.days.at(-1).date, usage.end);
  });

  test('pagination follows pages to the end', async () => {
    const vocable = client(env('VOCABLE_LISTER_KEY'));
    const all = await vocable.transcripts.list({ pageSize: 100 });
    assert.ok(all.count >= 5, `count ${all.count}`);
    const first = await vocable.transcripts.list({ page: 1, pageSize: 2 });
    assert.equal(first.count, all.count);
    assert.equal(first.results.length, 2);
    assert.ok(first.next);
    const seen = [];
    for await (const item of vocable.transcripts.iter({ pageSize: 2 })) seen.push(item.id);
    assert.deepEqual(seen, all.results.map((t) => t.id));
    const failed = [];
    for await (const item of vocable.transcripts.iter({ pageSize: 1, status: ['failed'] })) failed.push(item.status);
    assert.ok(failed.length > 0 && failed.every((s) => s === 'failed'));
  });

  test('meta endpoints need no key', async () => {
    const vocable = client(null);
    assert.equal((await vocable.health()).status, 'ok');
    assert.ok((await vocable.models()).some((m) => m.id === 'base' && m.installed));
    assert.ok((await vocable.languages()).some((l) => l.code === 'en'));
  });
});

describe('errors', () => {
  test('401 invalid key, and the account API without one', async () => {
    await assert.rejects(client('voc_wrong').account.get(), (err) => {
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.message, 'Invalid or revoked API key.');
      assert.deepEqual(err.body, { error: 'Invalid or revoked API key.' });
      return true;
    });
    await assert.rejects(client(null).transcripts.list(), /API key is required/);
  });

  test('402 no credits', async () => {
    await assert.rejects(client(env('VOCABLE_BROKE_KEY')).transcribe(jfk), (err) => {
      assert.ok(err instanceof PaymentRequiredError);
      assert.equal(err.status, 402);
      assert.equal(err.message, 'No credits remaining. Upgrade your plan.');
      return true;
    });
  });

  test('404 unknown ids', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    await assert.rejects(vocable.transcripts.export('0'.repeat(32), 'txt'), NotFoundError);
    await assert.rejects(vocable.keys.revoke('nope'), NotFoundError);
  });

  test('413 file over the plan limit', async () => {
    const big = Buffer.concat(Array(4).fill(await readFile(jfk))); // 1.4 MB, anonymous cap 1 MB
    const anonymous = client(null, { headers: { 'X-Forwarded-For': '10.78.0.1' } });
    await assert.rejects(anonymous.transcribe(big, { filename: 'big.wav' }), (err) => {
      assert.ok(err instanceof PayloadTooLargeError);
      assert.equal(err.status, 413);
      assert.match(err.message, /1 MB/);
      return true;
    });
  });

  test('429 with Retry-After', async () => {
    const limited = client(env('VOCABLE_LIMITED_KEY'));
    await limited.account.get();
    await limited.account.get();
    await assert.rejects(limited.account.get(), (err) => {
      assert.ok(err instanceof RateLimitError);
      assert.equal(err.status, 429);
      assert.ok(err.retryAfter > 0 && err.retryAfter <= 61, `retryAfter ${err.retryAfter}`);
      return true;
    });
  });

  test('400 bad parameters and undecodable audio', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    await assert.rejects(vocable.transcribe(jfk, { language: 'xx' }), (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.match(err.message, /unknown language 'xx'/);
      return true;
    });
    await assert.rejects(vocable.transcribe(new Blob(['not audio '.repeat(50)]), { filename: 'x.mp3' }), BadRequestError);
    await assert.rejects(vocable.transcripts.export('0'.repeat(32), 'xls'), BadRequestError);
  });

  test('no server: connection error without status', async () => {
    await assert.rejects(new Vocable({ baseURL: 'http://127.0.0.1:9' }).health(), (err) => {
      assert.ok(err instanceof APIConnectionError);
      assert.equal(err.status, null);
      return true;
    });
  });
});

function wavHeader(format, channels, rate, bits, dataLength) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataLength, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataLength, 40);
  return h;
}

describe('text AI', () => {
  const speech =
    'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';

  test('embed, analyze', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const out = await vocable.embed(['Hello world', 'Hello world']);
    assert.equal(out.dimensions, 384);
    assert.equal(out.embeddings.length, 2);
    const dot = out.embeddings[0].reduce((sum, v, i) => sum + v * out.embeddings[1][i], 0);
    assert.ok(Math.abs(dot - 1) < 1e-4, `dot ${dot}`);
    const sentiment = await vocable.analyze(speech, 'sentiment');
    assert.equal(sentiment.type, 'sentiment');
    assert.equal(sentiment.language, 'en');
    assert.ok(sentiment.result);
    await assert.rejects(vocable.analyze(speech, 'horoscope'), BadRequestError);
  });

  test('summarize on the local LLM', async () => {
    const summary = await client(env('VOCABLE_API_KEY')).summarize(speech, { style: 'brief' });
    assert.equal(summary.style, 'brief');
    assert.ok(summary.model);
    assert.ok(words(summary.summary).includes('country'), summary.summary);
  });
});

describe('streaming', () => {
  test('streamFile: paced WAV, partial/final events, then done', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const events = [];
    for await (const event of vocable.streamFile(jfk, { language: 'en', model: 'base', speed: 2 })) events.push(event);
    const finals = events.filter((e) => e.type === 'final');
    assert.equal(events.at(-1).type, 'done');
    assert.ok(Math.abs(events.at(-1).duration - 11) < 0.1, `duration ${events.at(-1).duration}`);
    assert.equal(events.filter((e) => e.type === 'done').length, 1);
    assert.ok(finals.length > 0 && finals.every((e) => e.words.length > 0 && e.end >= e.start));
    const text = finals.map((e) => e.text).join(' ');
    for (const word of ['fellow', 'americans', 'country']) assert.ok(words(text).includes(word), text);
  });

  test('other options go into the config: vocabulary steers spelling, save stores the session', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const events = [];
    const options = { language: 'en', speed: null, vocabulary: ['Amerikans'], save: true };
    for await (const event of vocable.streamFile(jfk, options)) events.push(event);
    const done = events.at(-1);
    assert.equal(done.type, 'done');
    assert.ok(done.raw.transcript_id, JSON.stringify(done.raw));
    const stored = await vocable._request('GET', `/api/v1/transcripts/${done.raw.transcript_id}/`);
    assert.ok(words(stored.text).includes('country'), stored.text);
  });

  test('refused streams reject with the HTTP error classes', async () => {
    await assert.rejects(client('voc_wrong').stream(), (err) => {
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.closeCode, 4401);
      return true;
    });
    await assert.rejects(client(env('VOCABLE_BROKE_KEY')).stream(), (err) => {
      assert.ok(err instanceof PaymentRequiredError);
      assert.equal(err.closeCode, 4402);
      return true;
    });
    await assert.rejects(client(env('VOCABLE_API_KEY')).stream({ language: 'xx' }), (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.match(err.message, /unknown language 'xx'/);
      return true;
    });
  });

  test('a failing audio source ends the stream with its error', async () => {
    const session = await client(env('VOCABLE_API_KEY')).stream({ language: 'en' });
    async function* microphone() {
      yield new Uint8Array(32000); // one second of silence, then the device fails
      throw new Error('microphone unplugged');
    }
    await assert.rejects(async () => {
      for await (const _event of session.transcribe(microphone())) {
        // no speech: nothing expected
      }
    }, /microphone unplugged/);
    assert.equal(session.finals.length, 0);
  });
});

describe('PCM helpers', () => {
  test('WAV to 16 kHz mono int16 chunks', async () => {
    const pcm = await pcmFromFile(jfk); // jfk.wav is 16 kHz mono s16 already: the samples as-is
    const wav = await readFile(jfk);
    assert.ok(Math.abs(pcm.length / 32000 - 11) < 0.05);
    assert.deepEqual(pcm.subarray(0, 64), wav.subarray(wav.indexOf('data') + 8, wav.indexOf('data') + 72));
    const chunks = [...pcmChunks(pcm, 100)];
    assert.equal(chunks[0].length, 3200);
    assert.equal(chunks.reduce((n, c) => n + c.length, 0), pcm.length);
    await assert.rejects(pcmFromFile(path.join(data, 'jfk.mp3')), /WAV or raw PCM only/);
  });

  test('48 kHz stereo and float WAV are converted', async () => {
    const pcm = await pcmFromFile(jfk);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    const dir = await mkdtemp(path.join(tmpdir(), 'vocable-sdk-'));
    try {
      // Each sample three times, on both channels: the same sound at 48 kHz stereo.
      const body = Buffer.alloc(samples.length * 3 * 2 * 2);
      samples.forEach((v, i) => {
        for (let k = 0; k < 6; k++) body.writeInt16LE(v, (i * 6 + k) * 2);
      });
      const file = path.join(dir, 'stereo48k.wav');
      await writeFile(file, Buffer.concat([wavHeader(1, 2, 48000, 16, body.length), body]));
      const back = await pcmFromFile(file);
      assert.equal(back.length, pcm.length);
      const got = new Int16Array(back.buffer, back.byteOffset, back.length / 2);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - samples[i]));
      assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
    } finally {
      await rm(dir, { recursive: true });
    }
    const float = await pcmFromFile(path.join(data, 'ami', 'dev00.wav')); // 32-bit float WAV
    assert.ok(Math.abs(float.length / 32000 - 30) < 0.05);
    const f = new Int16Array(float.buffer, float.byteOffset, float.length / 2);
    assert.ok(f.some((v) => Math.abs(v) > 1000), 'speech, not silence');
  });
});


describe('speech synthesis', () => {
  test('tts speaks text; a bad reference is a BadRequestError', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const speech = await vocable.tts('Hello from the Node SDK.', { format: 'wav' });
    assert.equal(speech.contentType, 'audio/wav');
    assert.equal(speech.voice, 'bundled');
    assert.equal(speech.voiceId, 'joe');
    assert.ok(speech.duration > 0.5, `duration ${speech.duration}`);
    assert.equal(speech.audio.subarray(0, 4).toString('latin1'), 'RIFF');
    await assert.rejects(vocable.tts('Hi.', { reference: Buffer.from('not audio at all') }), BadRequestError);
  });
});

describe('audio tools', () => {
  test('enhanceAudio returns a WAV as long as the input, with measurements', async () => {
    const vocable = client(env('VOCABLE_API_KEY'));
    const out = await vocable.enhanceAudio(jfk);
    assert.equal(out.contentType, 'audio/wav');
    assert.equal(out.audio.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(out.audio.readUInt32LE(24), 16000); // sample rate in the header
    assert.ok(Math.abs(out.duration - 11) < 0.05);
    assert.ok(Math.abs(out.loudness + 16) <= 1 && out.truePeak <= -0.9);
    assert.equal(out.denoise, 'dtln');
    const flac = await vocable.enhanceAudio(await readFile(jfk), { format: 'flac', denoise: false });
    assert.equal(flac.contentType, 'audio/flac');
    assert.equal(flac.denoise, 'off');
    await assert.rejects(vocable.enhanceAudio(Buffer.from('not audio '.repeat(50))), (err) => {
      assert.ok(err instanceof BadRequestError);
      return true;
    });
  });
});
