"""Speaker diarization on real conversations and meetings, the ONNX path, and the worker's crash
isolation. DER is scored as pyannote.metrics does (collar 0.25 s, the files' UEM)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pyannote.core import Annotation, Timeline
from pyannote.core import Segment as Span
from pyannote.metrics.diarization import DiarizationErrorRate

from tests.accuracy import record
from tests.evaluation import wer
from vocable.diarization.executor import DiarizationError
from vocable.results import SpeakerTurn, Word

AMI = ["dev00", "dev01", "tst00", "tst01"]


def load(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16000 and audio.ndim == 1
    return audio


def rttm(path: Path, uri: str) -> Annotation:
    ref = Annotation(uri=uri)
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[1] == uri:
            start = float(f[3])
            ref[Span(start, start + float(f[4]))] = f[7]
    return ref


def uem(path: Path, uri: str) -> Timeline:
    return Timeline([
        Span(float(f[2]), float(f[3]))
        for f in (line.split() for line in path.read_text().splitlines())
        if f and f[0] == uri
    ])


def der(reference: Annotation, turns: list[SpeakerTurn], scored: Timeline) -> float:
    hyp = Annotation(uri=reference.uri)
    for i, t in enumerate(turns):
        hyp[Span(t.start, t.end), i] = t.speaker
    return DiarizationErrorRate(collar=0.25)(reference, hyp, uem=scored)


@pytest.fixture(scope="module")
def call(data_dir) -> np.ndarray:
    return load(data_dir / "call-2spk.wav")


@pytest.fixture(scope="module")
def call_turns(diarization, call) -> list[SpeakerTurn]:
    return diarization.diarize(call)


@pytest.mark.accuracy
def test_call_has_two_speakers_and_low_der(data_dir, call, call_turns, record_property):
    assert len({t.speaker for t in call_turns}) == 2
    assert all(t.end > t.start for t in call_turns)
    assert [t.start for t in call_turns] == sorted(t.start for t in call_turns)
    score = der(rttm(data_dir / "call-2spk.rttm", "call-2spk"), call_turns,
                Timeline([Span(0, len(call) / 16000)]))
    record(record_property, "der[call-2spk]", score)
    assert score <= 0.20, f"DER {score:.3f}"


@pytest.mark.parametrize("count", [2, 3])
def test_fixed_speaker_count_is_honoured(diarization, call, count):
    turns = diarization.diarize(call, num_speakers=count)
    assert len({t.speaker for t in turns}) == count


def test_one_speaker(diarization, data_dir):
    turns = diarization.diarize(load(data_dir / "jfk.wav"))
    assert turns and len({t.speaker for t in turns}) == 1


@pytest.mark.slow
@pytest.mark.accuracy
def test_ami_meetings_average_der(diarization, data_dir, record_property):
    ami = data_dir / "ami"
    scores = {
        uri: der(rttm(ami / "ami.rttm", uri), diarization.diarize(load(ami / f"{uri}.wav")),
                 uem(ami / "ami.uem", uri))
        for uri in AMI
    }
    for uri, score in scores.items():
        record(record_property, f"der[{uri}]", score)
    assert np.mean(list(scores.values())) <= 0.35, scores


def test_silence_has_no_speakers(diarization):
    assert diarization.diarize(np.zeros(16000 * 3, dtype=np.float32)) == []


# An utterance whose words the recognizer got wrong says nothing about speaker assignment (on
# some CPUs Sheila's 1 s "Neither did I." is heard as "I need the design.", stretched over Diane's
# turn): it is skipped. At most this share of the words may be wrong for an utterance to count.
UTTERANCE_WER_MAX = 0.5
MIN_UTTERANCES_CHECKED = 11  # of the 13 in call-2spk.stm (every CPU path measured checks 12)


@pytest.mark.accuracy
def test_stm_utterances_get_one_consistent_speaker(data_dir, whisper, diarization, record_property):
    """Each reference utterance's words carry one label, and each person keeps one label."""
    from vocable.transcription.pipeline import TranscribeOptions, transcribe_file

    result = transcribe_file(data_dir / "call-2spk.wav", TranscribeOptions(model="base"), whisper,
                             diarizer=diarization)
    assert result.speakers == ["Speaker 1", "Speaker 2"]
    words = [w for s in result.segments for w in s.words]
    assert all(w.speaker in result.speakers for w in words)
    assert all(w.speaker == s.speaker for s in result.segments for w in s.words)
    utterances = [line.split(maxsplit=5) for line in (data_dir / "call-2spk.stm").read_text().splitlines()]
    spans = np.array([(float(u[3]), float(u[4])) for u in utterances])
    said: dict[int, list[Word]] = {}
    for w in words:
        # a word belongs to the one utterance it overlaps; Whisper's word times drift at turn
        # changes, and a word it stretched over two utterances (e.g. "don't" over 27.86-28.70 s,
        # across Sheila's end and Diane's start) cannot be checked
        touched = np.flatnonzero(np.minimum(spans[:, 1], w.end) > np.maximum(spans[:, 0], w.start))
        if len(touched) == 1:
            said.setdefault(int(touched[0]), []).append(w)
    assert sum(map(len, said.values())) >= 0.85 * len(words)
    heard = {
        i: ws for i, ws in said.items()
        if wer(utterances[i][5], " ".join(w.word for w in ws)) <= UTTERANCE_WER_MAX
    }
    record(record_property, "utterances-checked[call-2spk]", len(heard))
    assert len(heard) >= MIN_UTTERANCES_CHECKED, {
        u[5]: " ".join(w.word for w in said.get(i, [])) for i, u in enumerate(utterances)
    }
    words_of: dict[str, dict[str, int]] = {}  # person -> label -> words
    for i, ws in heard.items():
        u = utterances[i]
        labels = {w.speaker for w in ws}
        assert len(labels) == 1, (u, [(w.word, w.start, w.end, w.speaker) for w in ws])
        (lab,) = labels
        person = words_of.setdefault(u[2], {})
        person[lab] = person.get(lab, 0) + len(ws)
    label = {p: max(counts, key=counts.get) for p, counts in words_of.items()}
    assert label["Diane"] != label["Sheila"]
    # Each person keeps one label. Known miss: Sheila's 0.5 s "Hello?" between two of Diane's
    # turns (7.6 s) gets Diane's label, so ~one word of Sheila's may carry the other label.
    for person, counts in words_of.items():
        assert counts[label[person]] >= sum(counts.values()) - 1, (person, counts)


def test_worker_crash_fails_the_job_not_the_process(diarization, data_dir, call):
    """A native crash in the worker (here SIGSEGV) fails that request with a clear reason; the
    calling process lives on and the next request gets a fresh worker."""
    diarization.start()
    pid, restarts = diarization.worker_pid, diarization.restarts
    long_audio = np.tile(call, 4)  # 2 minutes: still running when the signal arrives
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["turns"] = diarization.diarize(long_audio)
        except DiarizationError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.0)
    os.kill(pid, signal.SIGSEGV)
    worker.join(timeout=120)
    assert "turns" not in outcome
    message = str(outcome["error"])
    assert "crashed" in message and "SIGSEGV" in message
    turns = diarization.diarize(load(data_dir / "jfk.wav"))
    assert len({t.speaker for t in turns}) == 1
    assert diarization.worker_pid not in (None, pid) and diarization.restarts == restarts + 1


def test_onnx_runtime_gives_the_same_speakers_as_torch(call, tmp_path):
    """The ONNX graphs are exported from the same weights: same frames, same turns."""
    from vocable.diarization.engine import DiarizationEngine
    from vocable.diarization.networks import Models

    onnx = Models(onnx_dir=tmp_path)
    assert onnx._segment_onnx is not None and onnx._trunk_onnx is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "campplus-trunk-torch2.13.0.onnx", "segmentation-3.0-torch2.13.0.onnx"
    ]
    torch_only = Models()
    odd = call[: 16000 * 12 + 321]  # a trunk window of another length than the export's
    assert np.abs(onnx.trunk(odd) - torch_only.trunk(odd)).max() < 1e-3
    turns = DiarizationEngine(onnx)(call)
    expected = DiarizationEngine(torch_only)(call)
    assert [t[2] for t in turns] == [t[2] for t in expected]
    assert np.allclose([t[:2] for t in turns], [t[:2] for t in expected], atol=0.05)
