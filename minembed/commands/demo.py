"""Run the main job, each stage checked: text -> BPE -> ids -> windows -> batches -> embeddings -> gradients.

With no file it uses the Python documentation topics that ship with every Python (pydoc_data),
so it needs no download. `minembed demo` and `python -m minembed` with no arguments are the same.
"""

from __future__ import annotations

import argparse

from minembed.commands._common import UsageError, read_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="UTF-8 text files to use (default: the built-in text)")
    parser.add_argument("--text", action="append", default=[], metavar="FILE", help=argparse.SUPPRESS)  # old spelling
    parser.add_argument(
        "--encoding", metavar="NAME", help="a registered encoding (e.g. gpt2) instead of training a BPE"
    )
    parser.add_argument(
        "--vocab-size", type=int, default=400, metavar="N", help="size of the trained BPE (default 400)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")


def run(args: argparse.Namespace) -> int:
    from minembed import list_encoding_names
    from minembed.demos import pipeline

    if args.encoding is not None and args.encoding not in list_encoding_names():
        raise UsageError(f"unknown encoding {args.encoding!r}: pass one of {', '.join(list_encoding_names())}")
    if args.vocab_size < 257:
        raise UsageError(f"--vocab-size {args.vocab_size} is too small: pass at least 257 (256 bytes + <|endoftext|>)")
    config = pipeline.DemoConfig(encoding=args.encoding, bpe_vocab_size=args.vocab_size, seed=args.seed)
    files = [*args.files, *args.text]
    if files:
        config.text = "\n\n".join(read_text(f) for f in files)
        config.source = ", ".join(files)
        if not config.text.strip():
            raise UsageError(f"{config.source}: no text to work on; pass a non-empty file")
    pipeline.run(config)
    return 0
