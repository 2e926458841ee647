"""Run the benchmark suite (benchmarks/suite.py) and print one table: minembed beside torch,
tiktoken, rustbpe (and HF tokenizers, gensim where installed), the ratio, and the machine.

The benchmarks live in the source checkout, next to the minembed package, and need the anchors
(`pip install -e '.[test]'`); an installed wheel has neither.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from minembed.commands._common import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small workloads, a few seconds each")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (e.g. encode train)")


def suite_path() -> Path:
    """benchmarks/suite.py of the source checkout that holds this minembed package."""
    import minembed

    checkout = Path(minembed.__file__).resolve().parent.parent
    path = checkout / "benchmarks" / "suite.py"
    if not path.is_file():
        raise CommandError(
            f"no benchmarks/ folder next to the minembed package ({checkout}): the benchmarks ship with the "
            "source, not the wheel; run from a clone with `pip install -e '.[test]'`"
        )
    return path


def run(args: argparse.Namespace) -> int:
    path = suite_path()
    checkout = str(path.parent.parent)
    if checkout not in sys.path:
        sys.path.insert(0, checkout)  # the suite imports benchmarks.* and reference.*
    spec = importlib.util.spec_from_file_location("benchmarks.suite", path)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    argv = [*(["--quick"] if args.quick else []), *(["--json"] if args.json else [])]
    if args.only:
        argv += ["--only", *args.only]
    return int(suite.main(argv) or 0)
