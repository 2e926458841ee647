"""Decode token ids to text: the ids as arguments, or lines of ids from stdin (`-`, the default).

Ids may be separated by spaces or commas (a pasted Python list works). The bytes are written as
they are, so `minembed encode F | minembed decode` gives back F's exact bytes; one line of ids gives
one text, written without a separator (a newline is added only on a terminal).
"""

from __future__ import annotations

import argparse
import re
import sys

from minembed.commands._common import UsageError, load_encoding_arg
from minembed.commands.encode import add_encoding_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="token ids, or - to read lines of ids from stdin")
    add_encoding_arguments(parser)


def parse_ids(text: str, where: str) -> list[int]:
    """'1, 2 3' or '[1, 2, 3]' -> [1, 2, 3]; anything else raises UsageError."""
    ids = []
    for word in re.split(r"[\s,\[\]]+", text):
        if not word:
            continue
        if not re.fullmatch(r"\d+", word):
            raise UsageError(f"{where}: {word[:40]!r} is not a token id; pass non-negative integers")
        ids.append(int(word))
    return ids


def run(args: argparse.Namespace) -> int:
    encoding = load_encoding_arg(args.encoding, args.pattern, args.special)
    if args.ids and args.ids != ["-"]:
        if "-" in args.ids:
            raise UsageError("pass token ids or -, not both")
        lines = [parse_ids(" ".join(args.ids), "arguments")]
    else:
        lines = [parse_ids(line, f"stdin line {i}") for i, line in enumerate(sys.stdin, start=1)]
    out = sys.stdout.buffer
    for ids in lines:
        try:
            data = encoding.decode_bytes(ids)
        except KeyError:
            bad = next((i for i in ids if not _is_token(encoding, i)), None)
            raise UsageError(
                f"{bad} is not a token id of {encoding.name} (it has ids 0 to {encoding.max_token_value}); "
                "decode with the encoding that made the ids"
            ) from None
        out.write(data)
    if sys.stdout.isatty():
        out.write(b"\n")
    out.flush()
    return 0


def _is_token(encoding, token: int) -> bool:
    try:
        encoding.decode_single_token_bytes(token)
    except KeyError:
        return False
    return True
