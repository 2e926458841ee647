"""Encoding files: tiktoken's `.tiktoken` ranks, GPT-2's `encoder.json` + `vocab.bpe`, and
minembed's own versioned text format.

Every loader reports problems as ValueError naming the file and the line.

- `.tiktoken`: one token per line, `base64(token bytes) rank`.
- GPT-2: `encoder.json` maps tokens to ids and `vocab.bpe` lists the merges, both written
  with printable stand-ins for bytes (`Ġ` is the space). This module is the only place in
  minembed where those stand-ins exist: they are turned into real bytes on load.
- minembed (`Encoding.save` / `load_encoding`): a header with the name, the split pattern and
  the special tokens, then `rank token` per line with the token bytes readable, e.g.
  `995 \\x20world` (printable characters as themselves; `\\\\`, and `\\xNN` for anything else).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import TYPE_CHECKING

from minembed._files import atomic_write

if TYPE_CHECKING:
    from minembed.tokenizers.encoding import Encoding

FORMAT_MAGIC = "# minembed encoding"
FORMAT_VERSION = 1


def _write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write text to path through a temporary file, so a failure leaves nothing half-written."""
    with atomic_write(path, "w", newline="\n") as f:
        f.write(text)


def _add_rank(ranks: dict[bytes, int], seen: dict[int, bytes], token: bytes, rank: int, where: str) -> None:
    if token in ranks:
        raise ValueError(f"{where}: token {token!r} appears twice (ranks {ranks[token]} and {rank})")
    if rank in seen:
        raise ValueError(f"{where}: rank {rank} is given to both {seen[rank]!r} and {token!r}")
    ranks[token] = rank
    seen[rank] = token


# ------------------------------------------------------------------ .tiktoken


def load_tiktoken_bpe(path: str | os.PathLike) -> dict[bytes, int]:
    """Read a `.tiktoken` file: {token bytes: rank}.

    >>> from minembed.tokenizers.registry import find_encoding_file
    >>> ranks = load_tiktoken_bpe(find_encoding_file("r50k_base.tiktoken"))
    >>> ranks[b" world"]
    995
    """
    ranks: dict[bytes, int] = {}
    seen: dict[int, bytes] = {}
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{os.fspath(path)}, line {lineno}"
            if len(fields) != 2:
                raise ValueError(f"{where}: expected 'base64-token rank', got {line[:80]!r}")
            try:
                token = base64.b64decode(fields[0], validate=True)
                rank = int(fields[1])
            except (binascii.Error, ValueError):
                raise ValueError(f"{where}: cannot parse {line[:80]!r} as 'base64-token rank'") from None
            if not token or rank < 0:
                raise ValueError(f"{where}: empty token or negative rank in {line[:80]!r}")
            _add_rank(ranks, seen, token, rank, where)
    return ranks


def dump_tiktoken_bpe(mergeable_ranks: dict[bytes, int], path: str | os.PathLike) -> None:
    """Write {token bytes: rank} as a `.tiktoken` file (sorted by rank), readable by tiktoken."""
    lines = [
        f"{base64.b64encode(t).decode('ascii')} {r}\n" for t, r in sorted(mergeable_ranks.items(), key=lambda kv: kv[1])
    ]
    _write_atomically(path, "".join(lines))


# ------------------------------------------------------------------ GPT-2 encoder.json + vocab.bpe


def gpt2_byte_stand_ins() -> dict[int, str]:
    """GPT-2's map from each byte to the printable character that stands for it in its files.

    Printable Latin-1 bytes other than space stand for themselves; the other 68 bytes, in
    increasing order, get chr(256), chr(257), ... Example: 0x21 -> '!', 0x20 -> 'Ġ' (chr(288)).
    """
    stand_in = {}
    n_shifted = 0
    for b in range(256):
        if chr(b).isprintable() and b != 0x20:
            stand_in[b] = chr(b)
        else:
            stand_in[b] = chr(256 + n_shifted)
            n_shifted += 1
    return stand_in


def load_gpt2_bpe(
    encoder_json_path: str | os.PathLike, vocab_bpe_path: str | os.PathLike
) -> tuple[dict[bytes, int], dict[str, int]]:
    """Read GPT-2's original files: ({token bytes: rank}, {special token: id}).

    The ranks come from vocab.bpe (the 256 bytes in stand-in order, then one rank per merge
    line); encoder.json must agree with them, and contributes the special tokens.
    """
    to_byte = {c: b for b, c in gpt2_byte_stand_ins().items()}
    ordered_bytes = sorted(range(256), key=lambda b: (ord(gpt2_byte_stand_ins()[b]) >= 256, b))

    def decode(text: str, where: str) -> bytes:
        try:
            return bytes(to_byte[c] for c in text)
        except KeyError as e:
            raise ValueError(f"{where}: {e.args[0]!r} in {text!r} is not one of GPT-2's byte stand-ins") from None

    ranks: dict[bytes, int] = {}
    seen: dict[int, bytes] = {}
    for b in ordered_bytes:
        _add_rank(ranks, seen, bytes([b]), len(ranks), os.fspath(vocab_bpe_path))
    with open(vocab_bpe_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            where = f"{os.fspath(vocab_bpe_path)}, line {lineno}"
            parts = line.split(" ")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"{where}: expected a merge 'left right', got {line[:80]!r}")
            left, right = decode(parts[0], where), decode(parts[1], where)
            for half in (left, right):
                if half not in ranks:
                    raise ValueError(f"{where}: {half!r} is merged before it exists as a token")
            _add_rank(ranks, seen, left + right, len(ranks), where)

    try:
        with open(encoder_json_path, encoding="utf-8") as f:
            encoder = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{os.fspath(encoder_json_path)}, line {e.lineno}: invalid JSON ({e.msg})") from None
    if not isinstance(encoder, dict):
        raise ValueError(f"{os.fspath(encoder_json_path)}: expected a JSON object of token -> id")
    specials: dict[str, int] = {}
    n_matched = 0
    for text, token_id in encoder.items():
        if text.startswith("<|") and text.endswith("|>") and len(text) > 4:
            specials[text] = token_id
            continue
        where = f"{os.fspath(encoder_json_path)}, token {text!r}"
        token = decode(text, where)
        if ranks.get(token) != token_id:
            raise ValueError(f"{where}: id {token_id} disagrees with vocab.bpe, which gives rank {ranks.get(token)}")
        n_matched += 1
    if n_matched != len(ranks):
        raise ValueError(
            f"{os.fspath(encoder_json_path)}: has {n_matched} ordinary tokens but {os.fspath(vocab_bpe_path)} "
            f"defines {len(ranks)}; the two files do not belong together"
        )
    return ranks, specials


# ------------------------------------------------------------------ minembed's own format

_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\\\|\\|.", re.DOTALL)


def escape_token(token: bytes) -> str:
    r"""Readable, reversible text for token bytes. Example: b" caf\xc3\xa9\n" -> '\x20café\x0a'."""
    out = []
    i = 0
    while i < len(token):
        b = token[i]
        width = 1 if b < 0x80 else 2 if 0xC2 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF5 else 0
        char = None
        if width:
            try:
                char = token[i : i + width].decode("utf-8")
            except UnicodeDecodeError:
                char = None
        if char is not None and len(char) == 1 and char.isprintable() and char not in " \\":
            out.append(char)
            i += width
        elif b == 0x5C:
            out.append("\\\\")
            i += 1
        else:
            out.append(f"\\x{b:02x}")
            i += 1
    return "".join(out)


def unescape_token(text: str, where: str = "token") -> bytes:
    """The inverse of `escape_token`."""
    out = bytearray()
    for m in _ESCAPE.finditer(text):
        if m.group(1) is not None:
            out.append(int(m.group(1), 16))
        elif m.group() == "\\\\":
            out.append(0x5C)
        elif m.group() == "\\":
            raise ValueError(f"{where}: a lone backslash in {text!r}; write \\\\ or \\xNN")
        else:
            out += m.group().encode("utf-8")
    return bytes(out)


def save_encoding(enc: Encoding, path: str | os.PathLike) -> None:
    """Write enc as minembed's versioned text format (see the module docstring)."""
    lines = [
        f"{FORMAT_MAGIC}, format version {FORMAT_VERSION}",
        f"name {json.dumps(enc.name, ensure_ascii=False)}",
        f"pat_str {json.dumps(enc.pat_str, ensure_ascii=False)}",
        f"explicit_n_vocab {json.dumps(enc._explicit_n_vocab)}",
    ]
    for text, token_id in sorted(enc.special_tokens.items(), key=lambda kv: kv[1]):
        lines.append(f"special {token_id} {json.dumps(text, ensure_ascii=False)}")
    lines.append(f"mergeable_ranks {len(enc.mergeable_ranks)}")
    for token, rank in sorted(enc.mergeable_ranks.items(), key=lambda kv: kv[1]):
        lines.append(f"{rank} {escape_token(token)}")
    _write_atomically(path, "\n".join(lines) + "\n")


def _read_header_value(line: str, key: str, where: str):
    name, _, value = line.partition(" ")
    if name != key:
        raise ValueError(f"{where}: expected the '{key}' line, got {line[:80]!r}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: cannot read the value of '{key}' ({e.msg})") from None


def load_encoding(path: str | os.PathLike) -> Encoding:
    """Read an encoding written by `Encoding.save`.

    >>> enc = minembed.get_encoding("gpt2")
    >>> enc.save("my.encoding")
    >>> minembed.load_encoding("my.encoding").encode("hi") == enc.encode("hi")
    True
    """
    from minembed.tokenizers.encoding import Encoding

    name_of = os.fspath(path)
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    at = lambda i: f"{name_of}, line {i + 1}"  # noqa: E731
    if not lines or not lines[0].startswith(FORMAT_MAGIC):
        raise ValueError(f"{at(0)}: not a minembed encoding file (it should start with {FORMAT_MAGIC!r})")
    version = lines[0].rpartition(" ")[2]
    if version != str(FORMAT_VERSION):
        raise ValueError(
            f"{at(0)}: format version {version!r} is not supported (this minembed reads version {FORMAT_VERSION})"
        )
    if len(lines) < 5:
        raise ValueError(f"{name_of}: the file ends inside its header")
    name = _read_header_value(lines[1], "name", at(1))
    pat_str = _read_header_value(lines[2], "pat_str", at(2))
    explicit_n_vocab = _read_header_value(lines[3], "explicit_n_vocab", at(3))
    specials: dict[str, int] = {}
    i = 4
    while i < len(lines) and lines[i].startswith("special "):
        _, token_id, text = lines[i].split(" ", 2)
        try:
            specials[json.loads(text)] = int(token_id)
        except (ValueError, json.JSONDecodeError):
            raise ValueError(f"{at(i)}: expected 'special <id> <json string>', got {lines[i][:80]!r}") from None
        i += 1
    count = _read_header_value(lines[i], "mergeable_ranks", at(i)) if i < len(lines) else None
    if not isinstance(count, int) or count != len(lines) - i - 1:
        raise ValueError(
            f"{at(min(i, len(lines) - 1))}: expected 'mergeable_ranks N' followed by exactly N token lines"
        )
    ranks: dict[bytes, int] = {}
    seen: dict[int, bytes] = {}
    for j in range(i + 1, len(lines)):
        rank_text, _, token_text = lines[j].partition(" ")
        if not rank_text.isdigit() or not token_text:
            raise ValueError(f"{at(j)}: expected 'rank token', got {lines[j][:80]!r}")
        _add_rank(ranks, seen, unescape_token(token_text, at(j)), int(rank_text), at(j))
    return Encoding(
        name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=specials, explicit_n_vocab=explicit_n_vocab
    )
