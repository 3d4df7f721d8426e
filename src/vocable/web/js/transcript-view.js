// A transcription result on screen (speaker-coloured segments with timestamps) and, for results
// the server does not keep (anonymous ones), the txt/srt/vtt/json downloads made in the page.

import { clock, duration, h, languageName, toast } from './ui.js';

const PALETTE_SIZE = 8;

/** speaker label → colour index, in the order the result lists them (else first appearance). */
export function speakerIndex(result) {
  const order = new Map();
  for (const speaker of result.speakers || []) if (!order.has(speaker)) order.set(speaker, order.size);
  for (const segment of result.segments || []) {
    if (segment.speaker && !order.has(segment.speaker)) order.set(segment.speaker, order.size);
  }
  return order;
}

export function speakerClass(order, speaker) {
  return speaker && order.has(speaker) ? `spk-${order.get(speaker) % PALETTE_SIZE}` : 'spk-none';
}

function metaList(result) {
  const items = [
    ['Language', result.language ? `${languageName(result.language)} (${result.language})` : '—'],
    ['Duration', duration(result.duration)],
    ['Model', result.model || '—'],
    ['Speakers', String((result.speakers || []).length || '—')],
  ];
  return h(
    'dl',
    { class: 'meta' },
    items.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
  );
}

/**
 * The transcript element. `onSeek(seconds)`, when given, turns each timestamp into a button that
 * plays the audio from there.
 */
export function renderTranscript(result, { onSeek } = {}) {
  const order = speakerIndex(result);
  const segments = result.segments || [];
  const legend = order.size
    ? h(
        'ul',
        { class: 'legend', 'aria-label': 'Speakers' },
        [...order.keys()].map((speaker) =>
          h('li', { class: ['speaker', speakerClass(order, speaker)] }, speaker),
        ),
      )
    : null;

  const list = h(
    'ol',
    { class: 'segments', 'aria-label': 'Transcript segments' },
    segments.map((segment) => {
      const span = `${clock(segment.start)} – ${clock(segment.end)}`;
      const stamp = onSeek
        ? h(
            'button',
            {
              type: 'button',
              class: 'timestamp',
              'aria-label': `${span}, play from here`,
              onclick: () => onSeek(segment.start),
            },
            span,
          )
        : h('span', { class: 'timestamp' }, span);
      return h(
        'li',
        { class: ['segment', speakerClass(order, segment.speaker)] },
        h(
          'div',
          { class: 'segment-head' },
          segment.speaker ? h('span', { class: 'speaker' }, segment.speaker) : null,
          stamp,
        ),
        h('p', { class: 'segment-text' }, segment.text.trim()),
      );
    }),
  );

  const empty = segments.length
    ? null
    : h('p', { class: 'muted' }, 'No speech was found in this file.');

  return h('div', { class: 'transcript' }, metaList(result), legend, empty, list);
}

/** `result`: the transcript, or a function that returns it (an edited one changes). */
export function copyTextButton(result) {
  return h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(toTxt(typeof result === 'function' ? result() : result));
          toast('Transcript copied to the clipboard.');
        } catch {
          toast('The browser refused to copy; use a download instead.');
        }
      },
    },
    'Copy text',
  );
}

// -- formats for results the server did not keep ------------------------------------------------

function labelled(segment, result) {
  const text = segment.text.trim();
  return (result.speakers || []).length && segment.speaker ? `${segment.speaker}: ${text}` : text;
}

export function toTxt(result) {
  if (!(result.speakers || []).length) return `${(result.text || '').trim()}\n`;
  const paragraphs = [];
  for (const segment of result.segments || []) {
    const last = paragraphs[paragraphs.length - 1];
    if (last && last.speaker === segment.speaker) last.texts.push(segment.text.trim());
    else paragraphs.push({ speaker: segment.speaker, texts: [segment.text.trim()] });
  }
  return `${paragraphs
    .map((p) => (p.speaker ? `${p.speaker}: ${p.texts.join(' ')}` : p.texts.join(' ')))
    .join('\n\n')}\n`;
}

function stamp(seconds, separator) {
  const ms = Math.round(Math.max(0, seconds) * 1000);
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const secs = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(hours)}:${pad(minutes)}:${pad(secs)}${separator}${pad(rest, 3)}`;
}

export function toSrt(result) {
  return (result.segments || [])
    .map(
      (segment, i) =>
        `${i + 1}\n${stamp(segment.start, ',')} --> ${stamp(segment.end, ',')}\n${labelled(segment, result)}\n`,
    )
    .join('\n');
}

export function toVtt(result) {
  const cues = (result.segments || []).map(
    (segment) => `${stamp(segment.start, '.')} --> ${stamp(segment.end, '.')}\n${labelled(segment, result)}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}

export const LOCAL_FORMATS = {
  txt: { type: 'text/plain;charset=utf-8', render: toTxt },
  srt: { type: 'application/x-subrip;charset=utf-8', render: toSrt },
  vtt: { type: 'text/vtt;charset=utf-8', render: toVtt },
  json: { type: 'application/json', render: (result) => JSON.stringify(result, null, 2) },
};

export function formatLabel(format) {
  return format === 'json' ? 'JSON' : format.toUpperCase();
}
