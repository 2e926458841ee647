"""Show where an encoding cuts a text into tokens: each token marked, the ids beneath, the count.

On a terminal the tokens alternate between two background colours; piped (or --color never)
each token is in [brackets]. A newline inside a token shows as \\n and then breaks the line; a
token that ends inside a multi-byte character shows its bytes as \\xNN.
"""

from __future__ import annotations

import argparse
import os
import sys

from minembed.commands._common import load_encoding_arg, read_text
from minembed.commands.encode import add_encoding_arguments

_COLOURS = ("\x1b[30;48;5;153m", "\x1b[30;48;5;223m")  # black on light blue, black on light orange
_RESET = "\x1b[0m"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", default="-", metavar="TEXT", help="the text, or - for stdin (the default)")
    add_encoding_arguments(parser)
    parser.add_argument("--file", metavar="FILE", help="read the text from FILE instead")
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colours (auto: on a terminal, unless NO_COLOR is set) or brackets",
    )
    parser.add_argument("--allow-special", action="store_true", help="show special-token text as the special token")


def visible(token: bytes) -> str:
    """A token's bytes as text a reader can see: \\n, \\t, \\r spelled out; stray bytes as \\xNN."""
    text = token.decode("utf-8", errors="backslashreplace")
    return text.replace("\r", "\\r").replace("\t", "\\t").replace("\n", "\\n")


def render(tokens: list[bytes], colour: bool) -> str:
    """The marked-up text: coloured runs or [bracketed] tokens, a line break after each newline."""
    parts = []
    for i, token in enumerate(tokens):
        shown = visible(token)
        parts.append(f"{_COLOURS[i % 2]}{shown}{_RESET}" if colour else f"[{shown}]")
        if token.endswith(b"\n"):
            parts.append("\n")
    return "".join(parts)


def run(args: argparse.Namespace) -> int:
    encoding = load_encoding_arg(args.encoding, args.pattern, args.special)
    text = read_text(args.file) if args.file else (read_text("-") if args.text == "-" else args.text)
    ids = encoding.encode(text, allowed_special="all") if args.allow_special else encoding.encode_ordinary(text)
    tokens = [encoding.decode_single_token_bytes(t) for t in ids]
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    marked = render(tokens, colour)
    print(marked if marked.endswith("\n") else marked + "\n", end="")
    print(f"ids: {' '.join(map(str, ids))}")
    print(f"{len(ids)} tokens, {len(text)} characters, {len(text.encode())} bytes ({encoding.name})")
    return 0
