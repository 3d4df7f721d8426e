"""LLM and embedding speed on this machine: prompt and generation tokens/s, time to summarize a
30-minute transcript (map-reduce with the default settings), embedding throughput.

    python bench/llm.py [--threads N] [--minutes 30] [--model-dir DIR]

Prints a table. Numbers depend on the cores free at the time: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.llm.longform: the synthetic meeting
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console
from rich.table import Table
from tests.llm.longform import meeting_segments, plain_text

from vocable.config import Settings
from vocable.llm.embed import Embedder
from vocable.llm.runtime import LLMExecutor
from vocable.llm.textgen import Source, Writer
from vocable.registry.llm import LLMRegistry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="LLM threads (0 = all cores)")
    parser.add_argument("--minutes", type=int, default=30, help="length of the transcript")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--style", default="brief")
    args = parser.parse_args()

    model_dir = args.model_dir or Path(
        os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models")
    )
    settings = Settings(model_dir=model_dir, llm_threads=args.threads)
    llm = LLMExecutor(LLMRegistry(model_dir), settings)
    rows: list[tuple[str, str]] = []

    started = time.monotonic()
    llm.count_tokens("warm up")
    rows.append(("LLM", f"{llm.model_id} ({settings.llm_threads or os.cpu_count()} threads)"))
    rows.append(("load (s)", f"{time.monotonic() - started:.1f}"))

    # Prompt processing and generation speed, on a fresh prompt (nothing cached).
    text = plain_text(meeting_segments(6))[:4000]
    messages = [
        {"role": "system", "content": f"Session {uuid.uuid4().hex}. You summarize meetings."},
        {"role": "user", "content": f"{text}\n\nWrite a long, detailed summary of this meeting."},
    ]
    result = llm.run(messages, max_tokens=160, temperature=0.7)
    rows.append(("prompt tokens", str(result.prompt_tokens)))
    rows.append(("prompt tokens/s", f"{result.prompt_tokens / max(result.prompt_seconds, 1e-6):.1f}"))
    rows.append(("generated tokens", str(result.completion_tokens)))
    rows.append((
        "generation tokens/s",
        f"{result.completion_tokens / max(result.generation_seconds, 1e-6):.1f}",
    ))

    # Summarize a long transcript with the default map-reduce settings.
    segments = meeting_segments(args.minutes)
    embedder = Embedder(settings)
    embedder.embed(["warm up"])
    source = Source.from_segments(segments)
    tokens = llm.count_tokens(source.render())
    writer = Writer(llm, embedder, settings=settings)
    started = time.monotonic()
    summary = writer.summarize(source, args.style)
    elapsed = time.monotonic() - started
    rows.append((f"{args.minutes}-min transcript tokens", str(tokens)))
    rows.append((
        f"summarize {args.minutes} min ({args.style}) (s)",
        (f"{elapsed:.1f} ({summary.calls} LLM calls, {summary.chunks} parts, "
         f"{'condensed' if summary.condensed else 'read in full'})"),
    ))

    # Embedding throughput.
    sentences = [s["text"] for s in meeting_segments(20)][:1000]
    started = time.monotonic()
    embedder.embed(sentences)
    elapsed = time.monotonic() - started
    rows.append(("embed sentences/s", f"{len(sentences) / elapsed:.0f} ({len(sentences)} sentences)"))

    table = Table("measure", "value", title="Vocable LLM bench")
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    print("\nSummary:\n" + summary.text)


if __name__ == "__main__":
    main()
