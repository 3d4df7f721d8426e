"""Trustworthy AI over transcripts (issue 18): chat accuracy, refusals of answerable questions,
stability over repeats, unsupported sentences in summaries and generated texts, refusals of the
generation types, no-content input, and latency per call, on the evaluation set
``bench/data/text_ai/eval.json`` over transcripts of the shared recordings made by the file
pipeline (cached beside it as ``<name>.transcript.json``).

    python bench/text_ai.py [--label after] [--only chat,stability,summaries,generate,no_content]
    python bench/text_ai.py --score bench/.cache/text_ai-baseline.json [--score ...]   # re-score
    python bench/text_ai.py --retranscribe    # remake the cached transcripts (Whisper base)

Every output is saved to ``bench/.cache/text_ai-<label>.json`` and scored from there, so a run
made before a change (the baseline) is scored with the same checks as one after it; given
several ``--score`` files the table shows them side by side. The support check of sentences is
``vocable.llm.support`` of the code being measured when scoring (the same for every column).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "text_ai"
CACHE = ROOT / "bench" / ".cache"
RECORDINGS = {
    "call-2spk": "call-2spk.wav", "ami-dev00": "ami/dev00.wav", "ami-dev01": "ami/dev01.wav",
    "jfk": "jfk.wav",
}
REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i can(?:'|no)t (?:assist|help|do|provide|fulfil|comply|create|"
    r"write)|i'?m (?:unable|not able)|unable to (?:assist|help|provide)|as an ai|not enough "
    r"information|cannot assist|can't assist)\b", re.IGNORECASE,
)


def transcripts() -> dict[str, dict]:
    return {n: json.loads((DATA / f"{n}.transcript.json").read_text()) for n in RECORDINGS}


def retranscribe() -> None:
    from vocable.config import Settings
    from vocable.diarization.executor import DiarizationExecutor
    from vocable.registry.pool import ModelPool
    from vocable.registry.speech import ModelRegistry
    from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
    from vocable.transcription.whisper import WhisperExecutor

    data = Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data"))
    model_dir = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
    settings = Settings(model_dir=model_dir, default_model="base")
    pool = ModelPool(600)
    whisper = WhisperExecutor(ModelRegistry(model_dir), settings, pool)
    diarizer = DiarizationExecutor.for_settings(settings, pool=pool)
    try:
        for name, rel in RECORDINGS.items():
            result = transcribe_file(data / rel, TranscribeOptions(model="base", diarize=True),
                                     whisper, diarizer)
            (DATA / f"{name}.transcript.json").write_text(json.dumps(result.to_dict(), indent=1))
            print("transcribed", name)
    finally:
        diarizer.close()


# -- running ------------------------------------------------------------------------------------
def run(label: str, parts: set[str], quick: bool = False, resume: bool = False,
        chat_items: list[int] | None = None, generate_on: list[str] | None = None,
        stability: int | None = None, types: list[str] | None = None) -> Path:
    from vocable.accounts.keys import create_account
    from vocable.analysis.nlp import NlpToolkit
    from vocable.config import Settings
    from vocable.llm.chat import TranscriptChat
    from vocable.llm.embed import Embedder
    from vocable.llm.runtime import LLMExecutor
    from vocable.llm.textgen import Source, Writer
    from vocable.registry.llm import LLMRegistry
    from vocable.storage.db import Database
    from vocable.storage.models import Transcript

    model_dir = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
    # Long limits: on a loaded machine one call can take minutes; latency is what we measure.
    settings = Settings(model_dir=model_dir, llm_timeout_s=3600, llm_queue_timeout_s=7200)
    llm = LLMExecutor(LLMRegistry(model_dir), settings)
    embedder = Embedder(settings)
    llm.count_tokens("warm up")
    embedder.embed(["warm up"])
    parse = NlpToolkit(embedder).parse  # who-does-what checks, as services.writer() has them

    def writer() -> Writer:
        return Writer(llm, embedder, settings=settings, parse=parse)

    evalset = json.loads((DATA / "eval.json").read_text())
    if quick:  # a subset for a loaded machine (a call takes minutes there): call-2spk only
        evalset["chat"] = [c for c in evalset["chat"] if c["transcript"] == "call-2spk"]
        evalset["stability"] = evalset["stability"][:1]
        evalset["summaries"] = [s for s in evalset["summaries"]
                                if s["transcript"] == "call-2spk" and s["style"] == "brief"]
        evalset["no_content"] = evalset["no_content"][:1]
        evalset["generate"] = {"transcripts": ["call-2spk"],
                               "types": ["blog_post", "meeting_notes", "quiz"]}
    if chat_items is not None:  # a subset by position in eval.json (sessions: ask them all)
        evalset["chat"] = [evalset["chat"][i] for i in chat_items]
    if generate_on:
        evalset["generate"]["transcripts"] = generate_on
    if types:
        evalset["generate"]["types"] = types
    if stability is not None:
        evalset["stability"] = evalset["stability"][:stability]
    docs = transcripts()
    out: dict = {"label": label, "model": llm.model_id, "chat": [], "stability": [],
                 "summaries": [], "generate": [], "no_content": []}
    tmp = Path(tempfile.mkdtemp(prefix="text_ai-"))
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    db.migrate()
    account = create_account(db, "bench@example.com").id

    def store(name: str) -> str:
        data = docs[name]
        with db.session() as s:
            row = Transcript(account_id=account, status="completed", filename=name,
                             language=data["language"], duration=data["duration"],
                             model=data["model"], text=data["text"], segments=data["segments"],
                             speakers=data["speakers"])
            s.add(row)
            s.flush()
            return row.id

    stored = {name: store(name) for name in docs}
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"text_ai-{label}.json"
    done = json.loads(path.read_text()) if resume and path.exists() else {}
    for part in ("chat", "stability", "summaries", "no_content", "generate"):
        out[part] = done.get(part, [])  # --resume: items done before are kept, not asked again

    def save() -> None:  # after every item: a run stopped early can still be scored
        path.write_text(json.dumps(out, indent=1))

    chat = TranscriptChat(db, llm, embedder, settings.chat_top_k, parse=parse)

    def ask(transcript_id: str, question: str, session: str | None) -> dict:
        started = time.monotonic()
        try:
            answer = chat.ask(account, transcript_id, question, session)
        except Exception as exc:  # noqa: BLE001 - counted as wrong, shown in the output
            return {"question": question, "answer": f"error: {exc}", "answered": False,
                    "session_id": session, "seconds": time.monotonic() - started, "sources": []}
        return {"question": question, "answer": answer.answer, "answered": answer.answered,
                "session_id": answer.session_id, "seconds": time.monotonic() - started,
                "sources": [h.segment_order for h in answer.sources]}

    if "chat" in parts:
        sessions: dict[str, str] = {}
        for item in evalset["chat"][len(out["chat"]):]:
            key = item.get("session")
            got = ask(stored[item["transcript"]], item["question"], sessions.get(key))
            if key:
                sessions[key] = got["session_id"]
            out["chat"].append(item | {"got": got})
            save()
            print(f"chat {item['transcript']}: {item['question']!r} -> {got['answer']!r} "
                  f"({got['seconds']:.1f}s)", flush=True)
    if "stability" in parts:
        for item in evalset["stability"][len(out["stability"]):]:
            copy = store(item["transcript"])  # a second copy of the same transcript too
            answers = [ask(stored[item["transcript"]], item["question"], None) for _ in range(4)]
            answers.append(ask(copy, item["question"], None))
            out["stability"].append(item | {"answers": answers})
            save()
            print(f"stability {item['question']!r}: {sorted({a['answer'] for a in answers})}",
                  flush=True)

    def write(kind: str, name: str | None, text: str | None, call) -> dict:
        started = time.monotonic()
        try:
            result = call()
            got = {"text": result.text, "data": result.data, "calls": result.calls,
                   "notes": result.notes}
        except Exception as exc:  # noqa: BLE001 - reported in the table
            got = {"error": f"{type(exc).__name__}: {exc}"}
        got["seconds"] = time.monotonic() - started
        print(f"{kind} {name or text!r}: {got.get('text', got.get('error'))!r} "
              f"({got['seconds']:.1f}s)", flush=True)
        return got

    if "summaries" in parts:
        for item in evalset["summaries"][len(out["summaries"]):]:
            source = Source.from_segments(docs[item["transcript"]]["segments"])
            got = write(item["style"], item["transcript"], None,
                        lambda source=source, style=item["style"]: writer().summarize(source, style))
            out["summaries"].append(item | {"got": got})
            save()
    if "no_content" in parts:
        for text in evalset["no_content"][len(out["no_content"]):]:
            got = write("brief", None, text, lambda text=text: writer().summarize(Source.from_text(text), "brief"))
            out["no_content"].append({"text": text, "got": got})
            save()
    if "generate" in parts:
        for name in evalset["generate"]["transcripts"]:
            source = Source.from_segments(docs[name]["segments"])
            for kind in evalset["generate"]["types"]:
                if any(g["transcript"] == name and g["type"] == kind for g in out["generate"]):
                    continue
                got = write(kind, name, None, lambda source=source, kind=kind: writer().generate(source, kind))
                out["generate"].append({"transcript": name, "type": kind, "got": got})
                save()
    save()
    llm.close()
    return path


# -- scoring ------------------------------------------------------------------------------------
def print_claims(checker) -> None:
    """The support checker against the hand-labelled sentences of ``claims.json``: how many it
    gets right, the unsupported ones it lets through, the supported ones it flags."""
    from vocable.llm.textgen import Source

    docs = transcripts()
    claims = json.loads((DATA / "claims.json").read_text())["claims"]
    missed, flagged = [], []
    for c in claims:
        check = checker.check(Source.from_segments(docs[c["transcript"]]["segments"]),
                              [c["sentence"]])[0]
        if check.supported != c["supported"]:
            (missed if c["supported"] is False else flagged).append(f"{c['transcript']}: "
                                                                   f"{c['sentence']} ({check.how})")
    wrong = sum(not c["supported"] for c in claims)
    print(f"labelled sentences: {len(claims) - len(missed) - len(flagged)}/{len(claims)} right; "
          f"unsupported let through {len(missed)}/{wrong}; supported flagged "
          f"{len(flagged)}/{len(claims) - wrong}")
    for line in missed:
        print("  let through:", line)
    for line in flagged:
        print("  flagged:", line)


def chat_right(item: dict, answer: str, answered: bool) -> bool:
    if item.get("answerable", True) is False:
        return not answered
    lowered = answer.lower()
    return (answered and all(any(a in lowered for a in group) for group in item.get("all", []))
            and not any(n in lowered for n in item.get("none", [])))


def score(path: Path, checker) -> dict[str, str]:
    out = json.loads(path.read_text())
    docs = transcripts()
    rows: dict[str, str] = {"model": out["model"]}
    # The references of the current evaluation set (a run keeps the questions it asked).
    current = {(c["transcript"], c["question"]): c
               for c in json.loads((DATA / "eval.json").read_text())["chat"]}
    chat = [i | {k: current[(i["transcript"], i["question"])][k] for k in ("all", "none")
                 if k in current.get((i["transcript"], i["question"]), {})}
            for i in out["chat"]]
    if chat:
        right = [chat_right(i, i["got"]["answer"], i["got"]["answered"]) for i in chat]
        answerable = [i for i in chat if i.get("answerable", True)]
        refused = [i for i in answerable if not i["got"]["answered"]]
        wrong_refusals = [i for i in chat if not i.get("answerable", True) and i["got"]["answered"]]
        follow = [ok for i, ok in zip(chat, right, strict=True)
                  if i.get("session") and chat.index(i) > 0
                  and chat[chat.index(i) - 1].get("session") == i.get("session")]
        rows["chat accuracy"] = f"{sum(right)}/{len(right)} = {sum(right) / len(right):.0%}"
        rows["refused answerable"] = (f"{len(refused)}/{len(answerable)} = "
                                      f"{len(refused) / max(1, len(answerable)):.0%}")
        rows["answered unanswerable"] = f"{len(wrong_refusals)}/{len(chat) - len(answerable)}"
        rows["follow-ups right"] = f"{sum(follow)}/{len(follow)}"
        rows["chat s/call (median)"] = f"{statistics.median(i['got']['seconds'] for i in chat):.1f}"
    if out["stability"]:
        stable = [len({a["answer"] for a in i["answers"]}) == 1 for i in out["stability"]]
        distinct = [len({a["answer"] for a in i["answers"]}) for i in out["stability"]]
        rows["stable over 5 repeats"] = f"{sum(stable)}/{len(stable)} (distinct: {distinct})"
    from vocable.llm.support import supported_share
    from vocable.llm.textgen import Source

    def unsupported(name: str, text: str) -> tuple[int, int, list[str]]:
        checks = checker.check(Source.from_segments(docs[name]["segments"]), text)
        bad, total = supported_share(checks)
        return bad, total, [c.sentence for c in checks if not c.supported]

    if out["summaries"]:
        bad = total = facts_ok = 0
        flagged = []
        for item in out["summaries"]:
            got = item["got"]
            text = got.get("text", "")
            b, t, which = unsupported(item["transcript"], text) if text else (0, 0, [])
            bad, total = bad + b, total + t
            flagged += [f"{item['transcript']}/{item['style']}: {w}" for w in which]
            lowered = text.lower()
            facts_ok += bool(text) and all(any(a in lowered for a in g) for g in item["all"]) and \
                not any(n in lowered for n in item["none"])
        rows["summary facts right"] = f"{facts_ok}/{len(out['summaries'])}"
        rows["summary unsupported sentences"] = f"{bad}/{total} = {bad / max(1, total):.0%}"
        rows["summary s/call (median)"] = (
            f"{statistics.median(i['got']['seconds'] for i in out['summaries']):.1f}")
        rows["_flagged summaries"] = "\n".join(flagged)
    if out["no_content"]:
        ok = sum(1 for i in out["no_content"]
                 if "error" in i["got"] and "content" in i["got"]["error"].lower())
        rows["no-content input said so"] = f"{ok}/{len(out['no_content'])}"
    if out["generate"]:
        refusals = [g for g in out["generate"] if "error" in g["got"]
                    or REFUSAL.search(g["got"].get("text", ""))]
        bad = total = 0
        flagged = []
        for g in out["generate"]:
            text = g["got"].get("text", "")
            if g["type"] in ("key_quotes", "quiz") or not text:
                # quotes are matched to the transcript's own sentences; a quiz's options are
                # meant to be mostly wrong (its keys are scored below)
                continue
            b, t, which = unsupported(g["transcript"], text)
            bad, total = bad + b, total + t
            flagged += [f"{g['transcript']}/{g['type']}: {w}" for w in which]
        rows["generation refusals/errors"] = (
            f"{len(refusals)}/{len(out['generate'])}"
            + (f" ({', '.join(g['type'] for g in refusals)})" if refusals else ""))
        rows["generation unsupported sentences"] = f"{bad}/{total} = {bad / max(1, total):.0%}"
        quiz = [g for g in out["generate"] if g["type"] == "quiz" and g["got"].get("data")]
        keys_ok = keys = 0
        for g in quiz:
            source = Source.from_segments(docs[g["transcript"]]["segments"])
            for q in g["got"]["data"]["questions"]:
                keys += 1
                key = q["options"][q["answer_index"]]
                # As a sentence: a short line without a full stop would be skipped as a title.
                claim = f"{q['question'].strip().rstrip('?')}: {key.strip().rstrip('.')}."
                keys_ok += all(c.supported for c in checker.check(source, [claim]))
        rows["quiz answer keys supported"] = f"{keys_ok}/{keys}"
        cards_ok = cards = 0
        for g in out["generate"]:
            if g["type"] != "flashcards" or not g["got"].get("data"):
                continue
            source = Source.from_segments(docs[g["transcript"]]["segments"])
            for card in g["got"]["data"]["flashcards"]:
                cards += 1
                claim = f"{card['front'].strip().rstrip('?')}: {card['back'].strip().rstrip('.')}."
                cards_ok += all(c.supported for c in checker.check(source, [claim]))
        rows["flashcards supported"] = f"{cards_ok}/{cards}"
        chapters_ok = chapter_sets = 0
        for g in out["generate"]:
            if g["type"] != "chapter_markers" or not g["got"].get("data"):
                continue
            chapter_sets += 1
            segments = docs[g["transcript"]]["segments"]
            source = Source.from_segments(segments)
            chapters = g["got"]["data"]["chapters"]
            starts = [c.get("start") or 0.0 for c in chapters]
            ordered = starts == sorted(set(starts)) and starts[0] <= segments[0]["start"] + 0.5 \
                and starts[-1] <= docs[g["transcript"]]["duration"]
            summaries = [c["summary"] for c in chapters if c.get("summary")]
            chapters_ok += ordered and all(c.supported for c in checker.check(source, summaries))
        rows["chapter markers in order and supported"] = f"{chapters_ok}/{chapter_sets}"
        rows["generate s/call (median)"] = (
            f"{statistics.median(g['got']['seconds'] for g in out['generate']):.1f}")
        rows["_flagged generations"] = "\n".join(flagged)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="run")
    parser.add_argument("--only", default="chat,stability,summaries,no_content,generate")
    parser.add_argument("--score", type=Path, action="append", default=[])
    parser.add_argument("--retranscribe", action="store_true")
    parser.add_argument("--claims", action="store_true",
                        help="only the support checker on the hand-labelled sentences (claims.json)")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the code to run (e.g. another checkout's src for a baseline)")
    parser.add_argument("--show-flagged", action="store_true")
    parser.add_argument("--resume", action="store_true",
                        help="keep the items of an earlier run with this label, run the rest")
    parser.add_argument("--chat-items", help="positions (0-based) of eval.json chat items, e.g. 7,9")
    parser.add_argument("--generate-on", help="transcripts for generation, e.g. ami-dev00")
    parser.add_argument("--types", help="generation types, e.g. quiz,flashcards")
    parser.add_argument("--stability", type=int, help="only the first N stability questions")
    parser.add_argument("--quick", action="store_true",
                        help="stability, summaries and generation on call-2spk only")
    args = parser.parse_args()
    sys.path.insert(0, str(args.src))
    if args.retranscribe:
        retranscribe()
        return
    items = [int(i) for i in args.chat_items.split(",")] if args.chat_items else None
    on = args.generate_on.split(",") if args.generate_on else None
    paths = [] if args.claims else args.score or [run(args.label, set(args.only.split(",")), args.quick, args.resume,
                               items, on, args.stability,
                               args.types.split(",") if args.types else None)]
    if args.src != ROOT / "src" and not args.score:
        print(f"saved {paths[0]}; score it with --score (this checkout's support check)")
        return
    from rich.console import Console
    from rich.table import Table

    from vocable.analysis.nlp import NlpToolkit
    from vocable.config import Settings
    from vocable.llm.embed import Embedder
    from vocable.llm.runtime import LLMExecutor
    from vocable.llm.support import SupportChecker
    from vocable.registry.llm import LLMRegistry

    model_dir = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
    settings = Settings(model_dir=model_dir)
    embedder = Embedder(settings)
    checker = SupportChecker(LLMExecutor(LLMRegistry(model_dir), settings), embedder,
                             parse=NlpToolkit(embedder).parse)
    if args.claims:
        print_claims(checker)
        return
    scored = [score(p, checker) for p in paths]
    table = Table(title="text AI on the evaluation set (bench/data/text_ai/eval.json)")
    table.add_column("measure")
    for p in paths:
        table.add_column(json.loads(p.read_text())["label"])
    keys = list(dict.fromkeys(k for sc in scored for k in sc if not k.startswith("_")))
    for k in keys:
        table.add_row(k, *(s.get(k, "-") for s in scored))
    Console().print(table)
    if args.show_flagged:
        for p, s in zip(paths, scored, strict=True):
            print(f"--- flagged sentences in {p.name}")
            print(s.get("_flagged summaries", ""))
            print(s.get("_flagged generations", ""))


if __name__ == "__main__":
    main()
