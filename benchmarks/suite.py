"""Run every benchmark side by side with its anchor and print one table (issue 15).

Each `benchmarks/bench_<name>.py` exposes `run(quick: bool = False) -> list[dict]`, one dict per row
(see `_timing.row`); this module imports them in name order, gathers their rows and prints them under a
line describing the machine. A benchmark whose anchor library is not installed is skipped with a note.

    python benchmarks/suite.py [--quick] [--json] [--only NAME ...]

The ratio column is always minembed's advantage: > 1 means minembed is faster (or smaller), < 1 slower.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from _timing import setup_environment  # noqa: E402 (benchmarks/ is a folder of scripts, put on the path above)

# Libraries some benchmark may compare against; their versions go on the machine line when installed.
ANCHOR_PACKAGES = ("torch", "tiktoken", "rustbpe", "tokenizers", "gensim")

# Row columns in table order: (header, row key).
COLUMNS = (
    ("benchmark", "benchmark"),
    ("workload", "workload"),
    ("minembed", "minembed"),
    ("anchor (form)", "anchor"),
    ("anchor", "anchor_value"),
    ("unit", "unit"),
    ("ratio", "ratio"),
    ("spread", "spread"),
    ("goal", "goal"),
)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict:
    """What the figures depend on: CPU, cores, OS, Python and library versions (None when not installed).

    Reads package metadata only; nothing heavy is imported.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "minembed": _version("minembed"),
    }
    for package in ANCHOR_PACKAGES:
        info[package] = _version(package)
    return info


def benchmark_names() -> list[str]:
    """Names of the benchmarks in benchmarks/ ('encode' for bench_encode.py), sorted."""
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def _missing_anchor(error: ModuleNotFoundError) -> str | None:
    """The anchor package an import error is about, if it is an anchor that is not installed (else None)."""
    name = (error.name or "").split(".")[0]
    if name in ANCHOR_PACKAGES and importlib.util.find_spec(name) is None:
        return name
    return None  # a missing submodule of an installed anchor, or another module: a real error


def run_suite(
    quick: bool = False, only: list[str] | None = None, progress: Callable[[str], None] | None = None
) -> dict:
    """Run the benchmarks (all, or those named in `only`, e.g. ['encode', 'rope']) and gather their rows.

    quick: small workloads (seconds per benchmark) instead of the full ones (up to a few minutes each).
    progress: called with a short message as each benchmark starts and ends (e.g. print).
    Returns {"date": ISO date, "machine": machine_info(), "rows": [row, ...], "skipped": [{"benchmark",
    "reason"}], "errors": [{"benchmark", "error"}], "seconds": {name: wall seconds}}.
    A benchmark whose anchor library is missing lands in "skipped"; any other failure lands in "errors"
    (the other benchmarks still run).
    """
    setup_environment()
    available = benchmark_names()
    names = available
    if only:
        wanted = [name.removeprefix("bench_").removesuffix(".py") for name in only]
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise ValueError(f"only={only!r}: no benchmark named {unknown}; choose from {available}")
        names = [name for name in available if name in wanted]
    say = progress or (lambda message: None)
    result: dict = {
        "date": datetime.date.today().isoformat(),
        "machine": machine_info(),
        "quick": quick,
        "rows": [],
        "skipped": [],
        "errors": [],
        "seconds": {},
    }
    for index, name in enumerate(names, 1):
        say(f"[{index}/{len(names)}] {name} ...")
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench_{name}")
            rows = module.run(quick)
        except ModuleNotFoundError as error:
            anchor = _missing_anchor(error)
            if anchor is None:
                result["errors"].append({"benchmark": name, "error": traceback.format_exc()})
            else:
                result["skipped"].append({"benchmark": name, "reason": f"{anchor} is not installed"})
            rows = []
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            result["errors"].append({"benchmark": name, "error": traceback.format_exc()})
            rows = []
        elapsed = time.perf_counter() - start
        result["seconds"][name] = round(elapsed, 1)
        result["rows"].extend(rows)
        say(f"[{index}/{len(names)}] {name}: {len(rows)} rows in {elapsed:.0f} s")
    return result


def machine_line(machine: dict) -> str:
    """One line naming the CPU, cores, OS and the versions that matter."""
    versions = ", ".join(
        f"{package} {machine[package]}"
        for package in ("python", "numpy", "numba", *ANCHOR_PACKAGES)
        if machine.get(package)
    )
    return f"{machine['cpu']}, {machine['usable_cores']}/{machine['cores']} cores, {machine['os']}; {versions}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def goal_met(row: dict) -> bool | None:
    """Whether the row's ratio meets its goal (goals read '>= 1.5x ...'); None when there is no goal."""
    goal = row.get("goal")
    if not goal or not goal.lstrip().startswith(">="):
        return None
    try:
        threshold = float(goal.split(">=", 1)[1].split("x", 1)[0])
    except ValueError:
        return None
    return row["ratio"] >= threshold


def format_table(result: dict) -> str:
    """The machine line, then one aligned row per benchmark row (ratio > 1: minembed better), then notes."""
    lines = [f"{result.get('date', '')}  {machine_line(result['machine'])}"]
    lines.append("ratio = minembed's advantage (> 1: minembed faster or smaller); spread: minembed / anchor")
    cells = [[header for header, _ in COLUMNS]]
    for row in result["rows"]:
        line = []
        for _, key in COLUMNS:
            value = row.get(key)
            if key == "ratio":
                text = f"{value:.2f}x"
            elif isinstance(value, float):
                text = _number(value)
            elif key == "goal" and value:
                met = goal_met(row)
                text = value if met is None else f"{value} ({'met' if met else 'NOT met'})"
            else:
                text = "" if value is None else str(value)
            line.append(text)
        cells.append(line)
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    numeric = {"minembed", "anchor_value", "ratio"}
    for n, line in enumerate(cells):
        parts = [
            text.rjust(width) if key in numeric and n else text.ljust(width)
            for text, width, (_, key) in zip(line, widths, COLUMNS, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    for skipped in result.get("skipped", []):
        lines.append(f"skipped {skipped['benchmark']}: {skipped['reason']}")
    for error in result.get("errors", []):
        last = error["error"].strip().splitlines()[-1]
        lines.append(f"FAILED {error['benchmark']}: {last}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads: seconds per benchmark")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"run only these ({', '.join(benchmark_names())})")
    args = parser.parse_args(argv)
    try:
        result = run_suite(quick=args.quick, only=args.only, progress=lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    if result["errors"]:
        for error in result["errors"]:
            print(f"\n{error['benchmark']} failed:\n{error['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
