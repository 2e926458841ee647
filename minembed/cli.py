"""Command line: `python -m minembed` (or `minembed`) runs the demo pipeline on its built-in text."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from minembed.demos.pipeline import DemoConfig, run

    config = DemoConfig(seed=args.seed)
    if args.text is not None:
        config.text = Path(args.text).read_text(encoding="utf-8")
    if args.encoding is not None:
        config.encoding = args.encoding
    run(config)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minembed", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run the text -> tokens -> batches -> embeddings pipeline, checked")
    for p in (parser, demo):
        p.add_argument("--text", help="a UTF-8 text file to use instead of the built-in sample")
        p.add_argument("--encoding", help="a registered encoding (e.g. gpt2) instead of training a BPE on the text")
        p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _demo(args)


if __name__ == "__main__":
    sys.exit(main())
