"""Who does what (llm/attribution.py through SupportChecker): the hand-labelled sentences of
bench/data/text_ai/claims.json, about the pipeline's transcripts of the shared recordings kept
beside them (fixed input: the check is what is tested, not the recognition)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vocable.llm.support import SupportChecker
from vocable.llm.textgen import Source

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "text_ai"
CLAIMS = json.loads((DATA / "claims.json").read_text())["claims"]


def source(name: str) -> Source:
    return Source.from_segments(json.loads((DATA / f"{name}.transcript.json").read_text())["segments"])


@pytest.fixture(scope="module")
def verdicts(parse) -> list[tuple[dict, bool, str]]:
    checker = SupportChecker(parse=parse)
    out = []
    for claim in CLAIMS:
        check = checker.check(source(claim["transcript"]), [claim["sentence"]])[0]
        out.append((claim, check.supported, check.how))
    return out


def test_sentences_the_model_got_wrong_are_unsupported(verdicts):
    seen = [(c["sentence"], ok, how) for c, ok, how in verdicts if c.get("seen")]
    assert len(seen) == 9  # five in the first full run's summaries, four in later generations
    assert not [s for s in seen if s[1]], seen


def test_labelled_sentences(verdicts):
    """91/92 when written (2026-12-08: the one let through is jfk's opposite claim in the same words);
    a slip of the parser on another machine may cost one more."""
    wrong = [(c["transcript"], c["sentence"], how) for c, ok, how in verdicts
             if ok != c["supported"]]
    assert len(wrong) <= 3, wrong
    let_through = [c["sentence"] for c, ok, _ in verdicts if ok and not c["supported"]]
    assert len(let_through) <= 2, let_through


def test_roles_are_read_in_order_across_sentences(parse):
    """'He' is the last person named: Diane asks for nothing, Sheila says 'I need the design'."""
    checker = SupportChecker(parse=parse)
    checks = checker.check(source("call-2spk"), [
        "The first speaker says hello.", "She then asks for the design.",
    ])
    assert checks[0].supported and not checks[1].supported, checks
    checks = checker.check(source("call-2spk"), [
        "Sheila, the second speaker, is originally from Chicago.", "She then asks for the design.",
    ])
    assert all(c.supported for c in checks), checks


def test_quotes_are_checked_against_who_said_them(parse):
    """The speakers'-own-words fallback and show notes quote lines: right only with the right
    speaker (a speaker without a name may be called what the others call them)."""
    checker = SupportChecker(parse=parse)
    lines = [
        "Sheila says, “And I'm Sheila and Texas originally from Chicago.”",
        "Diane says, “And I'm Sheila and Texas originally from Chicago.”",
        "Diane (Speaker 1): I'm originally from Chicago also.",
        "00:18 Diane's background: Diane is originally from Chicago and now lives in New Jersey.",
        "Q: Where does Sheila live?",
    ]
    call = checker.check(source("call-2spk"), "\n".join(lines))
    assert [(c.supported, c.how) for c in call] == [
        (True, "copied"), (False, "who"), (True, "copied"), (True, "words"), (True, "skipped"),
    ], call
    meeting = checker.check(source("ami-dev00"), 'Ebenezer: "I\'m the marketing expert."\n'
                                                 'Adam: "I\'m the marketing expert."')
    assert [c.supported for c in meeting] == [True, False], meeting
    # Words put in a speaker's mouth (a social post written as Diane), and a line said twice.
    voiced = checker.check(source("call-2spk"), "Diane (Speaker 1): Hello! I heard you needed the design.")
    assert [(c.supported, c.how) for c in voiced][-1] == (False, "who"), voiced
    twice = checker.check(source("ami-dev00"), "Adam says, “And he said.”\nSpeaker 2 says, “And he said.”")
    assert all(c.supported for c in twice), twice
