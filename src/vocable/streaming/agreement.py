"""LocalAgreement-2 between two consecutive hypotheses of a stream's buffer (whisper_streaming,
Macháček et al. 2023): the words both say are committed. Here "both say" means the same words,
aligned and nearest in time, not only the same spelling (see ``agree``)."""

from __future__ import annotations

import difflib

from vocable.results import Word
from vocable.streaming.decode import normalize_word

_PUNCTUATION = ".,;:!?…。，、？！"

MAX_DROPPED = 4  # words of the previous hypothesis a decode may drop and still agree past them
MIN_AFTER_DROP = 3  # ... if this many words after them agree (and at least as many as dropped)
MIN_DROPPED_P = 0.5  # ... and Whisper was this sure of each (guesses in overlaps are below 0.5)


def agree(old: list[Word], new: list[Word]) -> tuple[list[Word], int]:
    """LocalAgreement-2 between the previous hypothesis and the new one: the words to commit and
    how many of the new hypothesis' words they cover.

    The words agreed are the common prefix, taken as *the same words*, not only the same text:
    the best alignment of the two maps them onto each other, and each is, of the words spelled
    alike in the other hypothesis, the one nearest in time. A decode that skipped a phrase ("I
    heard a beep" where the other has "I thought, you know, I heard") shares a first word with its
    neighbour by chance; agreeing on it would fix the skip for good. Whisper, forced to continue
    fixed words, also drops a word or two the previous decode heard ("Okay," in "Okay, I thought,
    you know"): when at least ``MIN_AFTER_DROP`` words agree after at most ``MAX_DROPPED`` such
    words, each heard with probability ``MIN_DROPPED_P`` or more, those are kept too."""
    a, b = [normalize_word(w.word) for w in old], [normalize_word(w.word) for w in new]

    def nearest(words: list[str], timed: list[Word], word: str, at: float) -> int:
        return min((k for k, w in enumerate(words) if w == word),
                   key=lambda k: abs(timed[k].start - at))

    agreed: list[Word] = []
    ia = ib = 0
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        dropped = block.a - ia
        if not block.size or block.b != ib or dropped > MAX_DROPPED or \
                (dropped and (block.size < max(MIN_AFTER_DROP, dropped)
                              or min(w.probability for w in old[ia:block.a]) < MIN_DROPPED_P
                              or a[ia:block.a] == a[block.a:block.a + dropped])):
            break  # (dropped words that only stutter the next ones: "At least, at least, you know")
        if block.size == 1 and ia == block.a == 0 and (a.count(a[0]) > 1 or b.count(b[0]) > 1):
            break  # one common word that the other hypothesis says twice: which one is it?
        before = len(agreed)
        agreed += old[ia:block.a]
        for i, j in zip(range(block.a, block.a + block.size), range(block.b, block.b + block.size)):
            if nearest(a, old, a[i], new[j].start) != i or nearest(b, new, b[j], old[i].start) != j:
                if dropped and i - block.a < MIN_AFTER_DROP:  # too few agreed to carry them
                    return agreed[:before], ib
                return agreed, j
            cur = new[j]
            # Whisper ends a cut-off hypothesis with a period: punctuation on a hypothesis' last
            # word is a guess, on a word followed by others it is informed.
            if old[i].word != cur.word and j == len(new) - 1:
                text = old[i].word if i < len(old) - 1 else cur.word.rstrip(_PUNCTUATION)
                cur = Word(text, cur.start, cur.end, cur.probability)
            agreed.append(cur)
        ia, ib = block.a + block.size, block.b + block.size
    return agreed, ib
