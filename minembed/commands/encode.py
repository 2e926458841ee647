"""Encode text to token ids: one line of space-separated ids per input, on stdout.

Inputs are files, `-` for stdin (the default), or --text strings. With `-o OUT` the files go
through `minembed.data.tokenize_files` into one token file instead (each file followed by
<|endoftext|>, a progress bar on a terminal, nothing left at OUT if it fails or is interrupted).
Special-token text such as "<|endoftext|>" is encoded as ordinary text unless --allow-special.
"""

from __future__ import annotations

import argparse
import sys

from minembed.commands._common import (
    PATTERN_NAMES,
    UsageError,
    check_input_files,
    check_output_path,
    load_encoding_arg,
    read_text,
    run_interruptibly,
    say,
)


def add_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """--encoding, and what a .tiktoken file does not say (shared by encode, decode, show and plot)."""
    parser.add_argument(
        "--encoding",
        required=True,
        metavar="NAME|PATH",
        help="a registered encoding (gpt2, r50k_base, cl100k_base, o200k_base) or an encoding file",
    )
    parser.add_argument(
        "--pattern",
        default="gpt4",
        metavar="NAME|REGEX",
        help=f"for a .tiktoken file only: its split pattern ({', '.join(PATTERN_NAMES)} or a regex; default gpt4)",
    )
    parser.add_argument(
        "--special",
        action="extend",
        nargs="+",
        default=[],
        metavar="TOKEN",
        help="for a .tiktoken file only: its special tokens, numbered after the ranks",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="UTF-8 text files, or - for stdin (the default)")
    add_encoding_arguments(parser)
    parser.add_argument("--text", action="append", default=[], metavar="TEXT", help="a text to encode (repeatable)")
    parser.add_argument(
        "--allow-special",
        action="store_true",
        help="encode special-token text (e.g. <|endoftext|>) as the special token's id",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write one token file (uint16/uint32) instead")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with -o: show a progress bar (default: when stderr is a terminal)",
    )


def _token_file(args: argparse.Namespace, paths, out, encoding) -> int:
    from minembed.data import tokenize_files

    info = tokenize_files(paths, out, encoding, progress=args.progress)
    say(f"wrote {info.path}: {info.count:,} tokens ({info.dtype}) from {len(paths)} file(s), encoding {info.encoding}")
    return 0


def run(args: argparse.Namespace) -> int:
    sources = args.files or ([] if args.text else ["-"])
    if sources.count("-") > 1:
        raise UsageError("stdin (-) can be read only once; pass - at most once")
    if args.output is not None:
        if args.text or "-" in args.files or not args.files:
            raise UsageError("-o writes a token file from files only: pass FILE arguments, not stdin or --text")
        paths, out = check_input_files(args.files), check_output_path(args.output)
        return _token_file(args, paths, out, load_encoding_arg(args.encoding, args.pattern, args.special))
    check_input_files([s for s in sources if s != "-"])
    texts = [read_text(s) for s in sources] + list(args.text)  # before the encoding, which takes a second to load
    encoding = load_encoding_arg(args.encoding, args.pattern, args.special)

    def encode(text: str) -> list[int]:
        if args.allow_special:
            return encoding.encode(text, allowed_special="all")
        return encoding.encode_ordinary(text)

    for text in texts:
        ids = run_interruptibly(encode, text)
        sys.stdout.write(" ".join(map(str, ids)) + "\n")
    sys.stdout.flush()
    return 0
