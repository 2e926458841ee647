"""Run the benchmark suite (benchmarks/suite.py) and print one table: each workload, minembed's figure,
the anchor's (torch, tiktoken, rustbpe; HF tokenizers and gensim where installed), the ratio (> 1:
minembed is better) and the spread, all from the same run, under a line describing the machine.

The benchmarks live in the source checkout, next to the minembed package, and need the anchors
(`pip install -e '.[test]'`); an installed wheel has neither. A full run takes several minutes;
--quick takes seconds per benchmark.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from minembed.commands._common import CommandError, UsageError, say


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small workloads, seconds per benchmark")
    parser.add_argument("--json", action="store_true", help="print the result (rows, machine, date) as JSON")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (e.g. encode train)")


def benchmarks_dir() -> Path:
    """benchmarks/ of the source checkout that holds this minembed package."""
    import minembed

    checkout = Path(minembed.__file__).resolve().parent.parent
    folder = checkout / "benchmarks"
    if not (folder / "suite.py").is_file():
        raise CommandError(
            f"no benchmarks/ folder next to the minembed package ({checkout}): the benchmarks ship with the "
            "source, not the wheel; run from a clone installed with `pip install -e '.[test]'`"
        )
    return folder


def load_suite():
    """benchmarks/suite.py as a module (it is not part of the installed package)."""
    folder = benchmarks_dir()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))  # the suite imports its bench_*.py and _timing.py as top-level modules
    checkout = str(folder.parent)
    if checkout not in sys.path:
        sys.path.append(checkout)  # benchmarks reach the anchors through reference/
    spec = importlib.util.spec_from_file_location("minembed_bench_suite", folder / "suite.py")
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return suite


def run(args: argparse.Namespace) -> int:
    suite = load_suite()
    if args.only:
        known = suite.benchmark_names()
        unknown = [n for n in args.only if n.removeprefix("bench_").removesuffix(".py") not in known]
        if unknown:
            raise UsageError(f"--only {' '.join(unknown)}: no such benchmark; choose from {', '.join(known)}")
    result = suite.run_suite(quick=args.quick, only=args.only, progress=say)
    print(json.dumps(result, indent=1) if args.json else suite.format_table(result))
    for error in result["errors"]:
        last = error["error"].strip().splitlines()[-1]
        say(
            f"minembed bench: error: benchmark {error['benchmark']} failed: {last} "
            "(run benchmarks/suite.py for the traceback)"
        )
    return 1 if result["errors"] else 0
