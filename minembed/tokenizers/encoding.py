"""`Encoding`: byte-level BPE with tiktoken's API, token-for-token identical to tiktoken.

How `encode` works:
1. Allowed special tokens are cut out of the text (`special.py`); disallowed ones raise.
2. Each ordinary stretch is split into pieces by the encoding's regex (`pat_str`).
3. Each piece, as UTF-8 bytes, is either a token itself, or is BPE-merged from its single
   bytes by the Numba kernel in `minembed/tokenizers/kernels/merge.py` (lowest rank first, ties leftmost).

Two engines do steps 2-3 with the same results:
- for the patterns registered in `minembed.text.patterns` (gpt2/r50k_base, cl100k_base,
  o200k_base and GPT-4, recognised by the exact pattern text), `fast_encode.NumbaEncoder`
  does all of it in one Numba call, with a hand-written matcher per pattern
  (`minembed/text/kernels/split.py`): no Python object
  per piece, and no GIL held, so batches run on two threads;
- any other pattern runs the `regex` module (the reference), with a bounded cache from
  pieces already seen to their ids; the cache never changes a result.

>>> import minembed
>>> enc = minembed.get_encoding("gpt2")
>>> enc.encode("hello world")
[31373, 995]
>>> enc.decode([31373, 995])
'hello world'
"""

from __future__ import annotations

import operator
import os
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import chain, islice
from types import MappingProxyType
from typing import Literal

import numpy as np
import regex

from minembed.text.patterns import ENDOFTEXT
from minembed.tokenizers.merges import MergeTable
from minembed.tokenizers.special import check_disallowed, resolve_special, split_on_specials

_NOT_BUILT = object()  # marks an engine not built yet

AllowedSpecial = Literal["all"] | Collection[str]

# The piece cache: at most this many entries (about 10 MB); pieces longer than this many
# characters are not cached (they are rare, and a cache of huge strings would be unbounded).
_CACHE_ENTRIES = 65_536
_CACHE_MAX_PIECE = 128
# Ids are kept below 2**31: the kernel packs (rank, position) into one int64 heap key.
_MAX_ID = 2**31 - 1
_WHITESPACE = frozenset(b" \n\t")
# Batches with fewer UTF-8 bytes than this stay on one thread: a pool of two threads costs
# ~0.12 ms to start (measured), the time to encode ~5 kB.
_MIN_BYTES_PER_THREAD = 1 << 16


def _replace_surrogates(text: str) -> str:
    """Join valid surrogate pairs into their code point and turn lone surrogates into U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _utf8(text: str) -> bytes:
    """text as UTF-8, lone surrogates replaced as in `_replace_surrogates` (as tiktoken)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _replace_surrogates(text).encode("utf-8")


def _token_list(tokens: Sequence[int] | np.ndarray, name: str = "tokens") -> list[int]:
    """tokens as a list of Python ints; TypeError for anything that is not an integer."""
    if isinstance(tokens, np.ndarray):
        if tokens.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integers, got an array of dtype {tokens.dtype}")
        return tokens.ravel().tolist()
    out = list(tokens)
    if not all(type(t) is int for t in out):
        try:
            out = [operator.index(t) for t in out]
        except TypeError:
            bad = next(t for t in out if not hasattr(t, "__index__"))
            raise TypeError(f"{name} must hold integers, got {bad!r} ({type(bad).__name__})") from None
    return out


class Encoding:
    """A byte-level BPE encoding: a split pattern, mergeable ranks and special tokens.

    mergeable_ranks maps token bytes to rank (= token id; lower ranks merge first);
    special_tokens maps special-token text to id. explicit_n_vocab, if given, must equal the
    number of tokens, and the largest id must be explicit_n_vocab - 1.
    """

    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: Mapping[bytes, int],
        special_tokens: Mapping[str, int],
        explicit_n_vocab: int | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if not isinstance(pat_str, str):
            raise TypeError(f"pat_str must be a str (a `regex` pattern), got {type(pat_str).__name__}")
        try:
            pattern = regex.compile(pat_str)
        except regex.error as e:
            raise ValueError(f"pat_str is not a valid regular expression ({e}): {pat_str!r}") from None
        ranks = self._checked_ranks(mergeable_ranks)
        specials = self._checked_specials(special_tokens)
        max_token_value = max(chain(ranks.values(), specials.values()), default=-1)
        if explicit_n_vocab is not None:
            n_tokens = len(ranks) + len(specials)
            if n_tokens != explicit_n_vocab or max_token_value != explicit_n_vocab - 1:
                raise ValueError(
                    f"explicit_n_vocab={explicit_n_vocab} does not match the tokens given: "
                    f"{len(ranks)} mergeable + {len(specials)} special = {n_tokens} tokens, "
                    f"largest id {max_token_value}; pass explicit_n_vocab=None to skip this check"
                )
        self.name = name
        self._pat_str = pat_str
        self._pat = pattern
        self._mergeable_ranks = ranks
        self._special_tokens = specials
        self._explicit_n_vocab = explicit_n_vocab
        self.max_token_value = max_token_value
        self.special_tokens_set = frozenset(specials)
        # If a special id collides with a mergeable id, decoding uses the mergeable bytes (as tiktoken).
        self._decoder = {i: s.encode("utf-8") for s, i in specials.items()}
        self._decoder.update((rank, token) for token, rank in ranks.items())
        self._special_ids = frozenset(specials.values())
        self._table = MergeTable.from_ranks(ranks)
        self._missing_bytes = frozenset(b for b in range(256) if self._table.byte_ranks[b] < 0)
        self._piece_cache: dict[str, tuple[int, ...]] = {}
        self._numba_engine = _NOT_BUILT  # see _numba
        self._numba_lock = threading.Lock()

    @property
    def _numba(self):
        """The Numba engine, for the registered patterns (exact text) and full byte vocabularies,
        built on first use (so that making an Encoding, e.g. at the end of train_bpe, loads no
        Numba); None means the regex path. A vocabulary without all 256 bytes takes the regex
        path, which names what is missing."""
        if self._numba_engine is _NOT_BUILT:
            with self._numba_lock:
                if self._numba_engine is _NOT_BUILT:
                    from minembed.tokenizers.fast_encode import NumbaEncoder

                    self._numba_engine = (
                        None
                        if self._missing_bytes
                        else NumbaEncoder.for_pattern(self._pat_str, self._mergeable_ranks, self._table)
                    )
        return self._numba_engine

    @staticmethod
    def _checked_ranks(mergeable_ranks: Mapping[bytes, int]) -> dict[bytes, int]:
        if not isinstance(mergeable_ranks, Mapping):
            raise TypeError(f"mergeable_ranks must be a dict[bytes, int], got {type(mergeable_ranks).__name__}")
        ranks = dict(mergeable_ranks)
        for token, rank in ranks.items():
            if not isinstance(token, bytes) or not token:
                raise TypeError(f"mergeable_ranks keys must be non-empty bytes, got {token!r}")
            if not isinstance(rank, (int, np.integer)) or not 0 <= rank <= _MAX_ID:
                raise ValueError(f"mergeable_ranks[{token!r}] must be an int in [0, 2**31), got {rank!r}")
        if len(set(ranks.values())) != len(ranks):
            seen: dict[int, bytes] = {}
            for token, rank in ranks.items():
                if rank in seen:
                    raise ValueError(
                        f"mergeable_ranks gives rank {rank} to both {seen[rank]!r} and {token!r}; ranks must be unique"
                    )
                seen[rank] = token
        return {token: int(rank) for token, rank in ranks.items()}

    @staticmethod
    def _checked_specials(special_tokens: Mapping[str, int]) -> dict[str, int]:
        if not isinstance(special_tokens, Mapping):
            raise TypeError(f"special_tokens must be a dict[str, int], got {type(special_tokens).__name__}")
        for text, token in special_tokens.items():
            if not isinstance(text, str) or not text:
                raise TypeError(f"special_tokens keys must be non-empty str, got {text!r}")
            if not isinstance(token, (int, np.integer)) or not 0 <= token <= _MAX_ID:
                raise ValueError(f"special_tokens[{text!r}] must be an int in [0, 2**31), got {token!r}")
        return {text: int(token) for text, token in special_tokens.items()}

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    # ----------------------------------------------------------------- encoding

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode text, treating special-token text as ordinary text.

        >>> enc = minembed.get_encoding("gpt2")
        >>> enc.encode_ordinary("hi <|endoftext|>")
        [5303, 1279, 91, 437, 1659, 5239, 91, 29]
        """
        engine = self._numba_engine
        if engine is _NOT_BUILT:
            engine = self._numba
        if engine is not None and type(text) is str:  # the fast path: one kernel call, nothing else
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                data = _replace_surrogates(text).encode("utf-8")
            return engine.encode_ids(data)
        self._check_text(text)
        try:
            return self._encode_ordinary(text)[0]
        except UnicodeEncodeError:
            return self._encode_ordinary(_replace_surrogates(text))[0]

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> list[int]:
        """Encode text; allowed special tokens become their ids, disallowed ones raise ValueError.

        By default every special token is disallowed: `encode("<|endoftext|>")` raises. Pass
        `allowed_special={"<|endoftext|>"}` (or "all") to emit it as its id, or
        `disallowed_special=()` to encode it as ordinary text.
        """
        self._check_text(text)
        allowed, disallowed = resolve_special(self.special_tokens_set, allowed_special, disallowed_special)
        check_disallowed(text, disallowed, self.special_tokens_set)
        try:
            return self._encode_with_specials(text, allowed)
        except UnicodeEncodeError:
            return self._encode_with_specials(_replace_surrogates(text), allowed)

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> np.ndarray:
        """`encode` as a read-only np.uint32 array of shape (N,).

        Unlike tiktoken (which raises UnicodeEncodeError here), lone surrogates are replaced
        by U+FFFD exactly as in `encode`.
        """
        self._check_text(text)
        allowed, disallowed = resolve_special(self.special_tokens_set, allowed_special, disallowed_special)
        check_disallowed(text, disallowed, self.special_tokens_set)
        if self._numba is not None and not allowed:
            # A copy of exactly the ids: the kernel's buffer (4 bytes per text byte) is reused, not kept alive.
            out = self._numba.encode([_utf8(text)], reuse_buffer=True)[0].copy()
        else:
            out = np.array(self.encode(text, allowed_special=allowed, disallowed_special=()), dtype=np.uint32)
        out.flags.writeable = False
        return out

    def encode_batch(
        self,
        text: Sequence[str],
        *,
        num_threads: int = 8,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> list[list[int]]:
        """`encode` every text, in order (see `_encode_many` about num_threads)."""
        texts = self._checked_texts(text)
        allowed, disallowed = resolve_special(self.special_tokens_set, allowed_special, disallowed_special)
        for t in texts:
            check_disallowed(t, disallowed, self.special_tokens_set)
        if self._numba is not None and not allowed:
            return self._encode_many(texts, num_threads)

        def one(t: str) -> list[int]:
            return self.encode(t, allowed_special=allowed_special, disallowed_special=disallowed_special)

        return self._map(one, texts, num_threads)

    def encode_ordinary_batch(self, text: Sequence[str], *, num_threads: int = 8) -> list[list[int]]:
        """`encode_ordinary` every text, in order (see `_encode_many` about num_threads)."""
        texts = self._checked_texts(text)
        if self._numba is not None:
            return self._encode_many(texts, num_threads)
        return self._map(self.encode_ordinary, texts, num_threads)

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encode raw bytes, which need not be valid UTF-8; `decode_bytes` gives them back.

        Valid UTF-8 is encoded as text. Otherwise the valid prefix is encoded as text and its
        last piece (with any whitespace tokens before it) is BPE-merged again together with
        all the bytes from the first invalid one on, without splitting, as tiktoken does.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"encode_bytes() expects bytes, got {type(data).__name__}; use encode() for str")
        data = bytes(data)
        try:
            return self._encode_ordinary(data.decode("utf-8"))[0]
        except UnicodeDecodeError as e:
            valid = e.start
        tokens, last_len = self._encode_ordinary(data[:valid].decode("utf-8"))
        if last_len and self._is_whitespace(tokens[-last_len]):
            # subtle: the split before a trailing space run moves when more text follows it.
            while last_len < len(tokens) and self._is_whitespace(tokens[-last_len - 1]):
                last_len += 1
        head = tokens[: len(tokens) - last_len]
        unstable = b"".join(self._decoder[t] for t in tokens[len(tokens) - last_len :]) + data[valid:]
        return head + self._bpe_bytes(unstable)

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """The id of text_or_bytes if it is exactly one token (special tokens included), else KeyError."""
        if isinstance(text_or_bytes, str):
            as_bytes = text_or_bytes.encode("utf-8", "surrogatepass")
            as_text: str | None = text_or_bytes
        elif isinstance(text_or_bytes, (bytes, bytearray)):
            as_bytes = bytes(text_or_bytes)
            try:
                as_text = as_bytes.decode("utf-8")
            except UnicodeDecodeError:
                as_text = None
        else:
            raise TypeError(f"encode_single_token() expects str or bytes, got {type(text_or_bytes).__name__}")
        rank = self._mergeable_ranks.get(as_bytes)
        if rank is not None:
            return rank
        if as_text is not None and as_text in self._special_tokens:
            return self._special_tokens[as_text]
        raise KeyError(as_bytes)

    # ----------------------------------------------------------------- decoding

    def decode_bytes(self, tokens: Sequence[int] | np.ndarray) -> bytes:
        """The bytes of tokens, concatenated (special tokens give their text)."""
        ids = _token_list(tokens)
        try:
            return b"".join(map(self._decoder.__getitem__, ids))
        except KeyError:
            bad = next(t for t in ids if t not in self._decoder)
            raise KeyError(f"Invalid token for decoding: {bad}") from None

    def decode(self, tokens: Sequence[int] | np.ndarray, errors: str = "replace") -> str:
        """decode_bytes(tokens) as UTF-8 text; invalid UTF-8 is handled by `errors` (as bytes.decode)."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token; KeyError if the id is not a token."""
        try:
            return self._decoder[operator.index(token)]
        except KeyError:
            raise KeyError(str(token)) from None

    def decode_tokens_bytes(self, tokens: Sequence[int] | np.ndarray) -> list[bytes]:
        """The bytes of each token, as a list."""
        return [self.decode_single_token_bytes(t) for t in _token_list(tokens)]

    def decode_with_offsets(self, tokens: Sequence[int] | np.ndarray) -> tuple[str, list[int]]:
        """(text, character offset where each token starts); the text must be valid UTF-8.

        A token that starts in the middle of a character is given that character's offset.
        Example (cl100k): "a👍b" -> ("a👍b", [0, 1, 1, 1, 2]).
        """
        offsets = []
        n_chars = 0
        for piece in self.decode_tokens_bytes(tokens):
            continuation = 1 if piece and 0x80 <= piece[0] < 0xC0 else 0
            offsets.append(max(0, n_chars - continuation))
            n_chars += sum(1 for b in piece if not 0x80 <= b < 0xC0)
        return self.decode_bytes(tokens).decode("utf-8", errors="strict"), offsets

    def decode_batch(
        self, batch: Sequence[Sequence[int]], *, errors: str = "replace", num_threads: int = 8
    ) -> list[str]:
        """`decode` every token list, in order."""
        return [self.decode(tokens, errors=errors) for tokens in batch]

    def decode_bytes_batch(self, batch: Sequence[Sequence[int]], *, num_threads: int = 8) -> list[bytes]:
        """`decode_bytes` every token list, in order."""
        return [self.decode_bytes(tokens) for tokens in batch]

    # ----------------------------------------------------------------- vocabulary

    @property
    def n_vocab(self) -> int:
        """max_token_value + 1 (ids that are no token, the gaps, are counted too)."""
        return self.max_token_value + 1

    @property
    def eot_token(self) -> int:
        """The id of <|endoftext|>."""
        try:
            return self._special_tokens[ENDOFTEXT]
        except KeyError:
            raise KeyError(f"encoding {self.name!r} has no {ENDOFTEXT} special token") from None

    @property
    def mergeable_ranks(self) -> Mapping[bytes, int]:
        """{token bytes: rank}, read-only."""
        return MappingProxyType(self._mergeable_ranks)

    @property
    def special_tokens(self) -> Mapping[str, int]:
        """{special-token text: id}, read-only."""
        return MappingProxyType(self._special_tokens)

    @property
    def pat_str(self) -> str:
        """The regex that splits text into pieces before BPE."""
        return self._pat_str

    def token_byte_values(self) -> list[bytes]:
        """The bytes of every mergeable token, sorted (special tokens excluded)."""
        return sorted(self._mergeable_ranks)

    def is_special_token(self, token: int) -> bool:
        """Whether the id belongs to a special token."""
        return token in self._special_ids

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Write this encoding in minembed's versioned text format (see `minembed.load_encoding`)."""
        from minembed.tokenizers.formats import save_encoding

        save_encoding(self, path)

    def __reduce__(self):
        from minembed.tokenizers import registry

        if registry.is_registered(self):
            return registry.get_encoding, (self.name,)
        return _rebuild, (self.name, self._pat_str, self._mergeable_ranks, self._special_tokens, self._explicit_n_vocab)

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _check_text(text: object) -> None:
        if not isinstance(text, str):
            hint = "; use encode_bytes() for raw bytes" if isinstance(text, (bytes, bytearray)) else ""
            raise TypeError(f"text must be a str, got {type(text).__name__}{hint}")

    @classmethod
    def _checked_texts(cls, texts: Sequence[str]) -> list[str]:
        texts = list(texts)  # a str is a sequence of one-character texts, as in tiktoken
        if not set(map(type, texts)) <= {str}:  # one C-speed pass; the loop names the culprit
            for t in texts:
                cls._check_text(t)
        return texts

    def _is_whitespace(self, token: int) -> bool:
        piece = self._decoder.get(token, b"")
        return bool(piece) and all(b in _WHITESPACE for b in piece)

    def _encode_with_specials(self, text: str, allowed: frozenset[str]) -> list[int]:
        if not allowed:
            return self._encode_ordinary(text)[0]
        chunks = split_on_specials(text, allowed)
        if self._numba is not None:  # all the ordinary stretches in one call
            per_chunk = self._encode_many([ordinary for ordinary, _ in chunks], num_threads=1)
        else:
            per_chunk = [self._encode_ordinary(ordinary)[0] for ordinary, _ in chunks]
        out: list[int] = []
        for ids, (_, special) in zip(per_chunk, chunks):
            out += ids
            if special is not None:
                out.append(self._special_tokens[special])
        return out

    def _encode_ordinary(self, text: str) -> tuple[list[int], int]:
        """(ids of text, number of ids of its last piece). May raise UnicodeEncodeError."""
        if self._numba is not None:
            return self._numba.encode_one(text.encode("utf-8"))
        return self._encode_ordinary_regex(text)

    def _encode_many(self, texts: list[str], num_threads: int) -> list[list[int]]:
        """The ids of each text, by the Numba engine (`NumbaEncoder.encode_many`); lone surrogates are replaced.

        At most 2 threads are used (os.cpu_count() permitting), and only for batches of at least
        `_MIN_BYTES_PER_THREAD` bytes: cutting into more parts than cores only adds overhead.
        """
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        try:
            encoded = [t.encode("utf-8") for t in texts]
        except UnicodeEncodeError:
            encoded = list(map(_utf8, texts))
        n_bytes = sum(map(len, encoded))
        threads = min(num_threads, 2, os.cpu_count() or 1, max(1, n_bytes // _MIN_BYTES_PER_THREAD), len(encoded))
        return self._numba.encode_many(encoded, threads)

    def _encode_ordinary_regex(self, text: str) -> tuple[list[int], int]:
        """`_encode_ordinary` with the `regex` module and the piece cache (any pattern; the reference)."""
        pieces = self._pat.findall(text)
        if not pieces:
            return [], 0
        # One C-speed pass over the cache; only pieces not seen before reach Python loops.
        per_piece = list(map(self._piece_cache.get, pieces))
        if None in per_piece:
            new = self._ids_of_new_pieces({p for p, ids in zip(pieces, per_piece) if ids is None})
            # new.get(piece, cached): the fresh ids where the cache had none, else the cached ones.
            per_piece = list(map(new.get, pieces, per_piece))
        return list(chain.from_iterable(per_piece)), len(per_piece[-1])

    def _ids_of_new_pieces(self, missing: set[str]) -> dict[str, tuple[int, ...]]:
        """{piece: its ids} for pieces not in the cache (then cached, if short)."""
        ranks = self._mergeable_ranks
        ids_of: dict[str, tuple[int, ...]] = {}
        to_merge: list[str] = []
        to_merge_bytes: list[bytes] = []
        for piece in missing:
            data = piece.encode("utf-8")
            rank = ranks.get(data)
            if rank is not None:
                ids_of[piece] = (rank,)
            else:
                to_merge.append(piece)
                to_merge_bytes.append(data)
        if to_merge:
            ids_of.update(zip(to_merge, self._bpe_many(to_merge_bytes)))
        cache = self._piece_cache
        if len(cache) + len(ids_of) > _CACHE_ENTRIES:
            cache.clear()  # forgetting entries never changes a result, only the speed
        room = _CACHE_ENTRIES - len(cache)
        cache.update(islice(((p, ids) for p, ids in ids_of.items() if len(p) <= _CACHE_MAX_PIECE), max(room, 0)))
        return ids_of

    def _bpe_many(self, pieces: list[bytes]) -> list[tuple[int, ...]]:
        """BPE-merge each piece (no whole-token shortcut): one tuple of ids per piece."""
        ids, offsets = self._table.encode_pieces_flat(pieces)
        if self._missing_bytes and ids.size and ids.min() < 0:
            piece = pieces[int(np.searchsorted(offsets, np.argmax(ids < 0), side="right")) - 1]
            missing = sorted({f"0x{b:02x}" for b in piece if b in self._missing_bytes})
            raise ValueError(
                f"encoding {self.name!r} cannot encode {piece!r}: byte(s) {', '.join(missing)} are not in "
                "its mergeable_ranks; a byte-level encoding needs all 256 single bytes as tokens"
            )
        flat = ids.tolist()
        bounds = offsets.tolist()
        return [tuple(flat[a:b]) for a, b in zip(bounds, bounds[1:])]

    def _bpe_bytes(self, data: bytes) -> list[int]:
        """The ids of one piece of bytes: the token itself if it is one, else its BPE merge."""
        if not data:
            return []
        rank = self._mergeable_ranks.get(data)
        if rank is not None:
            return [rank]
        return list(self._bpe_many([data])[0])

    @staticmethod
    def _map(fn, texts: Iterable, num_threads: int) -> list:
        """[fn(t) for t in texts], in order, on the calling thread (the regex engine).

        num_threads is accepted for tiktoken compatibility but not used here: the regex scan
        holds the GIL while it builds its list of pieces, and two threads (one chunk of the
        batch each) were measured slower than one (benchmarks/bench_encode.py --batch). The
        Numba engine (`_encode_many`) does use two threads.
        """
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        return [fn(t) for t in texts]


def _rebuild(name, pat_str, mergeable_ranks, special_tokens, explicit_n_vocab) -> Encoding:
    """Unpickle a custom (unregistered) Encoding by value."""
    return Encoding(
        name,
        pat_str=pat_str,
        mergeable_ranks=mergeable_ranks,
        special_tokens=special_tokens,
        explicit_n_vocab=explicit_n_vocab,
    )
