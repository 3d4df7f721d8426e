"""The spread of the accuracy-asserting tests over CTranslate2's CPU code paths.

Int8 kernels differ between CPUs, so a recognition that passes on one machine can fail on another.
This runs the tests marked ``accuracy`` (transcription WER, diarization DER and consistency,
streaming WER, chat over recognized text) once or more under each ``CT2_FORCE_CPU_ISA`` and prints
every figure they recorded (``tests/accuracy.py: record``) as min-max over the runs, plus how many
tests passed. The limits in ``tests/accuracy.py`` are set from this table.

    .venv/bin/python bench/accuracy_spread.py                 # AVX512, AVX2, AVX; one run each
    .venv/bin/python bench/accuracy_spread.py --runs 3 --isa AVX2 -k stream
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(isa: str, extra: list[str]) -> tuple[dict[str, float], int, int, list[str]]:
    """One pytest run of the accuracy tests under ``isa``: (figures, passed, failed, failures)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        env = dict(os.environ, CT2_FORCE_CPU_ISA=isa)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "accuracy", "-q", "-p", "no:cacheprovider",
             f"--junitxml={report}", *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )
        if not report.exists():
            raise SystemExit(f"pytest wrote no report under {isa}")
        tree = ET.parse(report)
    figures: dict[str, float] = {}
    passed = failed = 0
    failures = []
    for case in tree.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(case.get("name", "?"))
        else:
            passed += 1
        for prop in case.iter("property"):
            figures[prop.get("name")] = float(prop.get("value"))
    return figures, passed, failed, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", nargs="+", default=["AVX512", "AVX2", "AVX"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("-k", default=None, help="pytest -k expression (a subset of the tests)")
    args = parser.parse_args()
    extra = ["-k", args.k] if args.k else []

    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    outcome: dict[str, list[str]] = defaultdict(list)
    for isa in args.isa:
        for run in range(args.runs):
            figures, passed, failed, failures = run_once(isa, extra)
            for name, value in figures.items():
                values[name][isa].append(value)
            outcome[isa].append(f"{passed}/{passed + failed}")
            print(f"# {isa} run {run + 1}: {passed} passed, {failed} failed {failures or ''}",
                  flush=True)

    width = max([len(n) for n in values] + [6])
    print(f"\n{'figure':<{width}}  " + "  ".join(f"{isa:>13}" for isa in args.isa))
    for name in sorted(values):
        cells = []
        for isa in args.isa:
            seen = values[name].get(isa, [])
            if not seen:
                cells.append(f"{'-':>13}")
            elif min(seen) == max(seen):
                cells.append(f"{min(seen):>13.3f}")
            else:
                cells.append(f"{min(seen):>6.3f}-{max(seen):.3f}")
        print(f"{name:<{width}}  " + "  ".join(cells))
    print(f"{'tests passed':<{width}}  " + "  ".join(
        f"{' '.join(outcome[isa]):>13}" for isa in args.isa))


if __name__ == "__main__":
    main()
