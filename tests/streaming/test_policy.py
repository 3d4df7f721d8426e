"""The streaming policy's parts that need no Whisper decode: silence handling, odd byte counts,
agreement between two given hypotheses. (Decoding is tested end to end in tests/api/test_stream.py.)"""

from __future__ import annotations

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.results import Word
from vocable.streaming.agreement import agree
from vocable.streaming.client import pcm16_from_file
from vocable.streaming.decode import DecodeResult
from vocable.streaming.policy import Done, Final, StreamOptions, StreamTranscriber


def test_silence_needs_no_decode_and_keeps_no_audio():
    """Ten minutes of faint noise, in odd-sized pieces: no decode is ever asked for, the buffer
    stays at the pre-roll, every sample is counted, and the end is reported."""
    opts = StreamOptions()
    stream = StreamTranscriber("base", "en", opts)
    rng = np.random.default_rng(0)
    pcm = (rng.normal(0, 0.002, 600 * SAMPLE_RATE) * 32767).astype("<i2").tobytes()
    offset, largest_buffer = 0, 0.0
    while offset < len(pcm):
        size = int(rng.integers(1, 20_000)) | 1  # odd sizes: a byte waits for the next piece
        stream.push_pcm16(pcm[offset:offset + size])
        offset += size
        request, events = stream.prepare()
        assert request is None and not events
        largest_buffer = max(largest_buffer, stream.buffer_s)
    stream.close_input()
    request, events = stream.prepare()
    assert request is None
    assert events == [Done(duration=600.0, language="en")]
    assert largest_buffer <= opts.speech_pad_s + 0.1


def _words(text: str, start: float, step: float = 0.3) -> list[Word]:
    return [Word(" " + w, start + i * step, start + (i + 1) * step) for i, w in enumerate(text.split())]


def test_a_decode_that_skipped_a_phrase_agrees_on_nothing(data_dir):
    """Two real decodes seen on call-2spk under load: the first skipped "I thought, you know,"
    and shares only its first word "I" with the next, which heard the phrase. The two "I"s are
    different words: nothing is committed, so the next decodes can still keep the phrase
    (LocalAgreement on the bare common prefix committed "I", and the phrase was lost for good)."""
    pcm = pcm16_from_file(data_dir / "call-2spk.wav")[int(10.7 * 32000):int(14.2 * 32000)]
    stream = StreamTranscriber("base", "en", StreamOptions())
    stream.push_pcm16(pcm[:int(1.3 * 32000)])
    first, _ = stream.prepare()
    assert first is not None and not first.flush
    stream.apply(first, DecodeResult(words=_words("I heard a beep.", 0.9), language="en"))
    stream.push_pcm16(pcm[int(1.3 * 32000):int(2.2 * 32000)])
    second, _ = stream.prepare()
    assert second is not None
    heard = "I thought, you know, I heard a beep. This is"
    events = stream.apply(second, DecodeResult(words=_words(heard, 0.1), language="en"))
    assert stream._committed == [] and not [e for e in events if isinstance(e, Final)]
    # The same words in the next decode are agreed on as usual.
    stream.push_pcm16(pcm[int(2.2 * 32000):])
    third, _ = stream.prepare()
    assert third is not None
    events = stream.apply(third, DecodeResult(words=_words(heard, 0.1), language="en"))
    said = [w for e in events if isinstance(e, Final) for w in e.text.split()] + \
        [w.word.strip() for w in stream._committed]
    assert said[:4] == ["I", "thought,", "you", "know,"]


def test_a_decode_that_skips_a_phrase_after_one_that_heard_it_agrees_on_nothing(data_dir):
    """The other way round, also seen under load: "I thought, you know, I" and then "I heard a
    beep." The second "I" is the first one's last word (nearest in time), not its first."""
    pcm = pcm16_from_file(data_dir / "call-2spk.wav")[int(10.7 * 32000):int(14.2 * 32000)]
    stream = StreamTranscriber("base", "en", StreamOptions())
    stream.push_pcm16(pcm[:int(1.3 * 32000)])
    first, _ = stream.prepare()
    assert first is not None
    stream.apply(first, DecodeResult(words=_words("I thought, you know, I", 0.3), language="en"))
    stream.push_pcm16(pcm[int(1.3 * 32000):int(2.2 * 32000)])
    second, _ = stream.prepare()
    assert second is not None
    stream.apply(second, DecodeResult(words=_words("I heard a beep.", 1.5), language="en"))
    assert stream._committed == []


def test_a_word_the_next_decode_drops_is_kept_when_the_words_after_itagree(data_dir):
    """Seen under load: "the design. Okay, I thought, you know, I heard", then "the design. I
    thought, you know, I heard a beep." (the second decode dropped "Okay,"; later ones dropped the
    whole phrase). The words agreed after the dropped one carry it: all of them are committed."""
    pcm = pcm16_from_file(data_dir / "call-2spk.wav")[int(10.0 * 32000):int(14.2 * 32000)]
    stream = StreamTranscriber("base", "en", StreamOptions())
    stream.push_pcm16(pcm[:int(2.0 * 32000)])
    first, _ = stream.prepare()
    assert first is not None
    stream.apply(first, DecodeResult(
        words=_words("the design. Okay, I thought, you know, I heard", 0.0, 0.25), language="en"))
    stream.push_pcm16(pcm[int(2.0 * 32000):int(2.7 * 32000)])
    second, _ = stream.prepare()
    assert second is not None
    events = stream.apply(second, DecodeResult(
        words=_words("the design.", 0.0, 0.25) + _words("I thought, you know, I heard a beep.", 0.75, 0.25),
        language="en"))
    said = [w for e in events if isinstance(e, Final) for w in e.text.split()] + \
        [w.word.strip() for w in stream._committed]
    assert said == ["the", "design.", "Okay,", "I", "thought,", "you", "know,", "I", "heard"]


def test_a_phrase_said_again_is_speech_but_a_repeated_tail_is_not():
    """"And I'm Sheila in Texas, originally from Chicago. Oh, I'm" is followed by "originally
    from Chicago also": a phrase said twice, kept. A decode that says the fixed words' tail again
    ("... from Chicago." then "originally from Chicago.") is Whisper repeating itself: dropped.
    A stutter the next decode does not hear ("At least, at least, you know," then "At least,
    you know, they") is not agreed on twice."""
    stream = StreamTranscriber("base", "en", StreamOptions())
    stream._committed = _words("And I'm Sheila and Texas originally from Chicago. Oh, I'm", 0.0, 0.3)
    again = _words("originally from Chicago also.", 3.3, 0.3)
    assert stream._plausible(again) == again
    stream._committed = stream._committed[:-2]
    assert stream._plausible(_words("originally from Chicago.", 3.3, 0.3)) == []
    # After a long pause only the prompt holds what was said: the 10-minute bench saw a "Hello?"
    # after one decoded as the sentence before the pause.
    stream._committed, stream._prompt = [], "a Yankee down here. So I don't hear that New Jersey now."
    assert stream._plausible(_words("I don't hear that New Jersey now.", 0.0)) == []
    assert len(stream._plausible(_words("Hello? Hello?", 0.0))) == 2
    old = _words("At least, at least, you know,", 0.0, 0.3)
    new = _words("At least, you know, they are", 0.0, 0.4)
    agreed, covered = agree(old, new)
    assert [w.word.strip() for w in agreed] == [] and covered == 0


def test_one_common_word_said_twice_is_not_agreed_on():
    """"I start, you know, I" then "I heard a beep.": the common "I" may be either "I"."""
    agreed, covered = agree(_words("I start, you know, I", 0.0), _words("I heard a beep.", 0.2))
    assert agreed == [] and covered == 0
    agreed, covered = agree(_words("I need", 0.0), _words("I need the design.", 0.0))
    assert [w.word.strip() for w in agreed] == ["I", "need"] and covered == 2


def test_a_restarted_buffer_does_not_repeat_the_word_it_was_cut_after():
    """After a restart the buffer may open on the tail of the last fixed word ("Chicago"):
    Whisper writing it again is dropped; the same word later on is kept."""
    stream = StreamTranscriber("base", "en", StreamOptions())
    stream._committed = _words("originally from Chicago", 0.0, 0.5)
    stream._tentative = _words("Oh, I'm", 1.7, 0.3)
    stream._restart_after_fixed()
    assert [w.word.strip() for w in stream._plausible(_words("Chicago? Oh, I'm", 1.5))] == ["Oh,", "I'm"]
    assert len(stream._plausible(_words("Oh, I'm from Chicago", 1.6))) == 4


def test_dropped_words_need_the_words_after_them_agreed():
    """A dropped word is kept only with MIN_AFTER_DROP words agreed after it: when the next
    word is not the same word (the "I" nearest in time to the new one is the old's last), neither
    the dropped word nor what follows is committed."""
    old = _words("the design. Okay, I thought, you know, I", 0.0, 0.3)
    new = _words("the design.", 0.0, 0.3) + _words("I thought, you know,", 2.1, 0.3)
    agreed, covered = agree(old, new)
    assert [w.word.strip() for w in agreed] == ["the", "design."] and covered == 2
