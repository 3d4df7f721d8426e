// Transcript editing, stored audio with ranges and search (issue 17), against a live server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import Vocable, { ConflictError } from '../index.mjs';

const baseURL = process.env.VOCABLE_BASE_URL;
const data = process.env.VOCABLE_TEST_DATA;
const jfk = path.join(data, 'jfk.wav');

describe('editing, audio, search', () => {
  const client = new Vocable({ apiKey: process.env.VOCABLE_API_KEY, baseURL });
  let made;
  before(async () => {
    made = await client.transcribe(jfk, { model: 'base', language: 'en', diarize: false });
  });

  test('edit a segment, then rename, split and merge; a stale version is refused', async () => {
    const edited = await client.transcripts.editSegment(made.id, 0, `${made.segments[0].text} Edited.`);
    assert.equal(edited.version, 1);
    assert.deepEqual(edited.changed_segments, [0]);
    assert.ok(edited.text.includes('Edited.'));
    await assert.rejects(client.transcripts.edit(made.id, { operations: [{ op: 'merge', segment: 0 }], version: 0 }), ConflictError);
    const split = await client.transcripts.splitSegment(made.id, 0, { word: 2 });
    assert.equal(split.segments.length, made.segments.length + 1);
    const merged = await client.transcripts.mergeSegments(made.id, 0);
    assert.equal(merged.segments.length, made.segments.length);
    const history = await client.transcripts.edits(made.id);
    assert.deepEqual(history.map((e) => e.version), [1, 2, 3]);
    const srt = (await client.transcripts.export(made.id, 'srt')).toString();
    assert.ok(srt.includes('Edited.'), srt);
  });

  test('audio ranges and a media token', async () => {
    const original = await readFile(jfk);
    const part = await client.transcripts.audio(made.id, { start: 100, end: 199 });
    assert.ok(part.equals(original.subarray(100, 200)));
    const token = await client.transcripts.audioToken(made.id);
    assert.ok(token.token.startsWith('vat_') && token.expires_in > 0);
    const viaToken = await fetch(new URL(token.url, `${baseURL}/`), { headers: { Range: 'bytes=0-3' } });
    assert.equal(viaToken.status, 206);
    assert.equal(Buffer.from(await viaToken.arrayBuffer()).toString('latin1'), 'RIFF');
  });

  test('search by words and by meaning', async () => {
    const found = await client.search('what your country can do', { mode: 'words' });
    const hit = found.results.find((h) => h.transcript_id === made.id);
    assert.ok(hit, JSON.stringify(found));
    const [a, b] = hit.highlights[0];
    assert.equal(hit.text.slice(a, b).toLowerCase().replace(',', ''), 'what your country can do');
    const meaning = await client.search('serve the nation', { mode: 'meaning', minDuration: 5 });
    assert.ok(meaning.results.length && meaning.results[0].match === 'meaning');
  });
});
