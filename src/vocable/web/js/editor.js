// A stored transcript with its audio: the player in sync with the text (the word being spoken is
// highlighted, a click on a word seeks there), keyboard shortcuts, and corrections through
// PATCH /api/v1/transcripts/:id/ (segment text, speaker names, merge and split).
//
// The <audio> element cannot send the API key's header: it plays from a short-lived media token
// (POST .../audio/token), asked again when it expires.

import { ApiError, api } from './api.js';
import { speakerClass, speakerIndex } from './transcript-view.js';
import { clock, errorBox, h, toast } from './ui.js';

const SKIP_S = 5;

export const SHORTCUTS = [
  ['k', 'Play or pause'],
  ['j', `Back ${SKIP_S} seconds`],
  ['l', `Forward ${SKIP_S} seconds`],
  ['n', 'Next segment'],
  ['p', 'Previous segment'],
];

function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest('input, textarea, select, [contenteditable="true"]'));
}

/**
 * The editor for transcript `t`. Options: `onChange(t)` after every saved edit; `startAt`
 * (seconds) and `segment` (index) to open at, as search results do. Returns {el, destroy}.
 */
export function transcriptEditor(initial, { onChange, startAt = null, segment = null } = {}) {
  let t = initial;
  let words = []; // {start, end, el, segment}, in time order
  let segmentEls = [];
  let current = null;
  let currentSegment = null;
  let selected = null; // {segment, word} chosen by a click, for "split before"
  let raf = 0;
  let tokenAsked = 0;
  const errors = errorBox();

  // -- the player ------------------------------------------------------------------------------
  const audio = h('audio', { id: 'player', class: 'player', controls: true, preload: 'metadata' });
  audio.setAttribute('aria-label', `Audio of ${t.filename || 'the transcript'}`);
  const clockEl = h('span', { class: 'timestamp', id: 'player-time', 'aria-live': 'off' }, clock(0));
  const playButton = h('button', { type: 'button', id: 'play-toggle', 'aria-keyshortcuts': 'k',
    onclick: () => toggle() }, 'Play');
  const back = h('button', { type: 'button', 'aria-keyshortcuts': 'j', onclick: () => skip(-SKIP_S) }, `−${SKIP_S} s`);
  const forward = h('button', { type: 'button', 'aria-keyshortcuts': 'l', onclick: () => skip(SKIP_S) }, `+${SKIP_S} s`);
  const nextButton = h('button', { type: 'button', 'aria-keyshortcuts': 'n', onclick: () => jumpSegment(1) }, 'Next segment');
  const help = h('details', { class: 'shortcuts' },
    h('summary', {}, 'Keyboard shortcuts'),
    h('dl', {}, SHORTCUTS.map(([key, what]) => h('div', {}, h('dt', {}, h('kbd', {}, key)), h('dd', {}, what)))),
    h('p', { class: 'muted small' }, 'Shortcuts work when the focus is not in a text field. In a text field, Ctrl+Enter saves and Escape cancels.'));

  const playerCard = h('section', { class: 'card player-card', 'aria-label': 'Player' },
    audio,
    h('div', { class: 'button-row player-buttons' }, playButton, back, forward, nextButton,
      h('span', { class: 'spacer' }), clockEl),
    help);

  async function loadAudio(resume) {
    tokenAsked = Date.now();
    try {
      const { url } = await api.audioToken(t.id);
      audio.src = url;
      if (resume) {
        audio.addEventListener('loadedmetadata', () => {
          audio.currentTime = resume.time;
          if (resume.playing) audio.play().catch(() => {});
        }, { once: true });
      }
    } catch (error) {
      errors.show(error);
    }
  }

  audio.addEventListener('error', () => {
    // An expired token (or a server restart): ask for a new one, at most every few seconds.
    if (audio.src && Date.now() - tokenAsked > 5_000) {
      loadAudio({ time: audio.currentTime, playing: !audio.paused });
    }
  });

  function toggle() {
    if (!audio.src) return;
    if (audio.paused) audio.play().catch((error) => errors.show(`The audio cannot play: ${error.message}`));
    else audio.pause();
  }
  function skip(seconds) {
    audio.currentTime = Math.max(0, Math.min((audio.duration || Infinity), audio.currentTime + seconds));
    paint();
  }
  function seek(seconds) {
    audio.currentTime = Math.max(0, seconds);
    paint();
  }
  function jumpSegment(direction) {
    const segments = t.segments || [];
    if (!segments.length) return;
    const now = audio.currentTime + (direction > 0 ? 0.05 : -0.5);
    let index;
    if (direction > 0) {
      index = segments.findIndex((s) => s.start > now);
      if (index < 0) index = segments.length - 1;
    } else {
      index = -1;
      segments.forEach((s, i) => {
        if (s.start < now) index = i;
      });
      index = Math.max(0, index);
    }
    seek(segments[index].start);
    const stamp = segmentEls[index]?.querySelector('.timestamp');
    stamp?.focus();
    segmentEls[index]?.scrollIntoView({ block: 'nearest' });
  }

  audio.addEventListener('play', () => {
    playButton.textContent = 'Pause';
    const loop = () => {
      paint();
      raf = requestAnimationFrame(loop);
    };
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(loop);
  });
  audio.addEventListener('pause', () => {
    playButton.textContent = 'Play';
    cancelAnimationFrame(raf);
    paint();
  });
  audio.addEventListener('seeked', paint);
  audio.addEventListener('timeupdate', () => {
    if (audio.paused) paint();
  });

  /** Highlight the word (and segment) at the audio's time. */
  function paint() {
    const now = audio.currentTime;
    clockEl.textContent = clock(now);
    let lo = 0;
    let hi = words.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (words[mid].start <= now + 0.001) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const word = found >= 0 && now <= words[found].end + 0.35 ? words[found] : null;
    if (word !== current) {
      current?.el.classList.remove('current');
      word?.el.classList.add('current');
      current = word;
    }
    const segIndex = (t.segments || []).findIndex((s) => s.start <= now && now <= s.end + 0.2);
    const segEl = segIndex >= 0 ? segmentEls[segIndex] : null;
    if (segEl !== currentSegment) {
      currentSegment?.classList.remove('playing');
      segEl?.classList.add('playing');
      currentSegment = segEl;
      if (segEl && !audio.paused) segEl.scrollIntoView({ block: 'nearest' });
    }
  }

  // -- edits -----------------------------------------------------------------------------------
  async function save(body, { focus } = {}) {
    errors.hide();
    try {
      t = await api.editTranscript(t.id, { ...body, version: t.version });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        errors.show(error, h('button', { type: 'button', class: 'link', onclick: () => location.reload() }, 'Reload'));
      } else errors.show(error);
      return false;
    }
    render();
    if (onChange) onChange(t);
    if (focus) focus();
    return true;
  }

  // -- speakers --------------------------------------------------------------------------------
  const speakersCard = h('section', { class: 'card speakers-card', 'aria-labelledby': 'speakers-title' });
  function renderSpeakers() {
    const order = speakerIndex(t);
    if (!order.size) {
      speakersCard.hidden = true;
      return;
    }
    speakersCard.hidden = false;
    speakersCard.replaceChildren(
      h('h2', { id: 'speakers-title' }, 'Speakers'),
      h('ul', { class: 'speaker-list' }, [...order.keys()].map((name, i) => {
        const id = `speaker-name-${i}`;
        const input = h('input', { type: 'text', id, value: name, maxlength: '80', autocomplete: 'off',
          dataset: { speaker: name } });
        const form = h('form', { class: 'row row-center speaker-form' },
          h('label', { for: id, class: ['speaker', speakerClass(order, name)] }, `Rename ${name}`),
          input,
          h('button', { type: 'submit' }, 'Rename'));
        form.addEventListener('submit', async (event) => {
          event.preventDefault();
          const to = input.value.trim();
          if (!to || to === name) return;
          if (await save({ speakers: { [name]: to } })) {
            toast(`${name} is now ${to}.`);
            speakersCard.querySelector(`input[data-speaker="${CSS.escape(to)}"]`)?.focus();
          }
        });
        return h('li', {}, form);
      })),
    );
  }

  // -- segments --------------------------------------------------------------------------------
  const list = h('ol', { class: 'segments editable', 'aria-label': 'Transcript segments' });

  function segmentItem(segment, index, order) {
    const stamp = h('button', {
      type: 'button', class: 'timestamp',
      'aria-label': `${clock(segment.start)} – ${clock(segment.end)}, play segment ${index + 1}`,
      onclick: () => {
        seek(segment.start);
        if (audio.paused) toggle();
      },
    }, `${clock(segment.start)} – ${clock(segment.end)}`);
    const text = h('p', { class: 'segment-text' });
    const segWords = segment.words || [];
    if (segWords.length) {
      segWords.forEach((w, i) => {
        const el = h('span', { class: 'word', dataset: { start: w.start, end: w.end, index: i } }, w.word);
        el.addEventListener('click', () => {
          seek(w.start);
          selectWord(index, i, el);
        });
        words.push({ start: w.start, end: w.end, el, segment: index });
        text.append(el, i < segWords.length - 1 ? ' ' : '');
      });
    } else text.textContent = segment.text.trim();

    const item = h('li', { class: ['segment', speakerClass(order, segment.speaker)], dataset: { index } });
    const editButton = h('button', { type: 'button', class: 'small-button', 'aria-label': `Edit segment ${index + 1}`,
      onclick: () => editText(item, segment, index) }, 'Edit');
    const merge = index < t.segments.length - 1
      ? h('button', { type: 'button', class: 'small-button', 'aria-label': `Merge with next, segment ${index + 1}`,
        onclick: () => save({ operations: [{ op: 'merge', segment: index }] },
          { focus: () => segmentEls[index]?.querySelector('.timestamp')?.focus() }) }, 'Merge with next')
      : null;
    const split = segWords.length > 1
      ? h('button', { type: 'button', class: 'small-button split-button', 'aria-label': `Split before selected word, segment ${index + 1}`,
        disabled: true, onclick: () => {
          if (!selected || selected.segment !== index) return;
          save({ operations: [{ op: 'split', segment: index, word: selected.word }] },
            { focus: () => segmentEls[index + 1]?.querySelector('.timestamp')?.focus() });
        } }, 'Split before selected word')
      : null;
    item.append(
      h('div', { class: 'segment-head' },
        segment.speaker ? h('span', { class: 'speaker' }, segment.speaker) : null,
        stamp,
        h('span', { class: 'segment-tools' }, editButton, merge, split)),
      text,
    );
    return item;
  }

  function selectWord(segmentIndex, wordIndex, el) {
    list.querySelectorAll('.word.selected').forEach((w) => w.classList.remove('selected'));
    list.querySelectorAll('.split-button').forEach((b) => {
      b.disabled = true;
    });
    selected = { segment: segmentIndex, word: wordIndex };
    el.classList.add('selected');
    const button = segmentEls[segmentIndex]?.querySelector('.split-button');
    if (button) button.disabled = wordIndex < 1;
  }

  function editText(item, segment, index) {
    const id = `segment-edit-${index}`;
    const area = h('textarea', { id, rows: '3', class: 'segment-input' });
    area.value = segment.text.trim();
    const saveButton = h('button', { type: 'submit', class: 'primary small-button' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'small-button' }, 'Cancel');
    const form = h('form', { class: 'segment-edit stack' },
      h('label', { for: id, class: 'visually-hidden' }, `Text of segment ${index + 1}`),
      area,
      h('div', { class: 'actions' }, saveButton, cancel,
        h('span', { class: 'muted small' }, 'Ctrl+Enter saves, Escape cancels.')));
    const text = item.querySelector('.segment-text');
    text.hidden = true;
    item.append(form);
    area.focus();
    const close = () => {
      form.remove();
      text.hidden = false;
      item.querySelector('.segment-tools button')?.focus();
    };
    cancel.addEventListener('click', close);
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        close();
      } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = area.value.trim();
      if (value === segment.text.trim()) {
        close();
        return;
      }
      saveButton.disabled = true;
      const ok = await save({ segments: [{ index, text: value }] }, {
        focus: () => segmentEls[index]?.querySelector('.segment-tools button')?.focus(),
      });
      if (!ok) saveButton.disabled = false;
      else toast(`Segment ${index + 1} saved.`);
    });
  }

  function render() {
    const order = speakerIndex(t);
    words = [];
    current = null;
    currentSegment = null;
    selected = null;
    segmentEls = (t.segments || []).map((segment, index) => segmentItem(segment, index, order));
    list.replaceChildren(...segmentEls);
    renderSpeakers();
    paint();
  }

  // -- shortcuts -------------------------------------------------------------------------------
  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector('dialog[open]')) return;
    const actions = { k: toggle, j: () => skip(-SKIP_S), l: () => skip(SKIP_S), n: () => jumpSegment(1), p: () => jumpSegment(-1) };
    const key = event.key.toLowerCase();
    if (actions[key]) {
      event.preventDefault();
      actions[key]();
    } else if (event.key === ' ' && !(event.target instanceof Element && event.target.closest('button, a, summary, audio'))) {
      event.preventDefault();
      toggle();
    }
  }
  document.addEventListener('keydown', onKey);

  render();
  const hasAudio = t.has_audio !== false;
  if (hasAudio) {
    loadAudio(startAt !== null ? { time: startAt, playing: false } : null);
  } else {
    playerCard.replaceChildren(h('p', { class: 'muted' }, 'No audio is kept for this transcript.'));
  }
  if (segment !== null && segmentEls[segment]) {
    segmentEls[segment].classList.add('found');
    requestAnimationFrame(() => segmentEls[segment]?.scrollIntoView({ block: 'center' }));
  }

  const el = h('div', { class: 'editor' },
    playerCard,
    errors.el,
    speakersCard,
    h('section', { class: 'card transcript-card', 'aria-labelledby': 'segments-title' },
      h('h2', { id: 'segments-title' }, 'Transcript'),
      h('p', { class: 'muted small' }, 'Click a word to play from there. Edit, merge or split segments with the buttons beside them; every change is saved on the server.'),
      list));

  return {
    el,
    audio,
    get transcript() {
      return t;
    },
    destroy() {
      document.removeEventListener('keydown', onKey);
      cancelAnimationFrame(raf);
      audio.pause();
      audio.removeAttribute('src');
    },
  };
}
