"""SimpleTokenizer: the word-level regex tokenizer that LLM courses start with.

Text is cut into words and punctuation: whitespace separates pieces and is dropped, and each of
`, . : ; ? _ ! " ( ) '` and the double dash `--` is a piece of its own. Every piece is looked up in
a `Vocab`; words that are not there become `<|unk|>`. Decoding joins the pieces with spaces and
removes the space in front of punctuation, so `decode(encode(text))` reads like the text but is not
always equal to it (that is the course's behaviour, kept here on purpose).

>>> tok = SimpleTokenizer.from_text("Hello, world. Is this-- a test?")
>>> tok.split("Hello, world.")
['Hello', ',', 'world', '.']
>>> tok.decode(tok.encode("Hello, tea world."))
'Hello, <|unk|> world.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from minembed.tokenizers.vocab import Vocab

# One match per piece, scanning left to right: "--" first, then a single punctuation mark, then
# the longest run of anything else that is neither whitespace nor punctuation nor the start of
# "--". A lone "-" stays inside its word ("well-known"); "a---b" gives "a", "--", "-b".
_PUNCTUATION = ",.:;?_!\"()'"
_PIECE = re.compile(r"""--|[,.:;?_!"()']|(?:(?!--)[^\s,.:;?_!"()'])+""")

# Decoding drops the whitespace in front of these marks (`_` is not among them, as in the course).
_SPACE_BEFORE_PUNCT = re.compile(r"""\s+([,.:;?!"()'])""")

DEFAULT_SPECIAL_TOKENS = ("<|endoftext|>", "<|unk|>")


def split_words(text: str) -> list[str]:
    """Cut text into the tokenizer's pieces.

    Example: 'Hello, world-- "yes"' -> ['Hello', ',', 'world', '--', '"', 'yes', '"']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _PIECE.findall(text)


class SimpleTokenizer:
    """Word-level tokenizer over a `Vocab` (the course's SimpleTokenizerV2).

    `encode(text) -> list[int]`; `decode(ids) -> str`. Words missing from the vocab map to
    `unk_token` when the vocab holds it, else `encode` raises KeyError naming the word.
    """

    def __init__(self, vocab: Vocab | Mapping[str, int], *, unk_token: str | None = "<|unk|>") -> None:
        if isinstance(vocab, Mapping):
            vocab = Vocab.from_mapping(vocab)
        if not isinstance(vocab, Vocab):
            raise TypeError(f"vocab must be a Vocab or a {{token: id}} mapping, got {type(vocab).__name__}")
        self.vocab = vocab
        self.unk_token = unk_token
        # Resolved once: the id words fall back to, or None when the vocab has no unknown token.
        self._unk_id = vocab.token_to_id(unk_token) if unk_token is not None and unk_token in vocab else None

    @classmethod
    def from_text(
        cls,
        text: str | Iterable[str],
        *,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        unk_token: str | None = "<|unk|>",
    ) -> SimpleTokenizer:
        """Build the vocab from text (or several texts): sorted unique words, then `special_tokens`."""
        texts = [text] if isinstance(text, str) else list(text)
        words = (word for t in texts for word in split_words(t))
        return cls(Vocab.from_tokens(words, special_tokens=special_tokens), unk_token=unk_token)

    split = staticmethod(split_words)

    @property
    def n_vocab(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of text; words outside the vocab become `unk_token` (or raise KeyError)."""
        stoi = self.vocab._stoi  # the hot loop reads the dict directly
        unk = self._unk_id
        ids = []
        for word in split_words(text):
            i = stoi.get(word, unk)
            if i is None:
                raise KeyError(
                    f"word {word!r} is not in the vocabulary and the vocab has no unknown token "
                    f"{self.unk_token!r}; build it with special_tokens that include one, or add the word"
                )
            ids.append(i)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Join the tokens of ids with spaces, then drop the space before punctuation."""
        text = " ".join(self.vocab.id_to_token(i) for i in ids)
        return _SPACE_BEFORE_PUNCT.sub(r"\1", text)

    def __repr__(self) -> str:
        return f"SimpleTokenizer({len(self.vocab)} tokens, unk_token={self.unk_token!r})"


__all__ = ["SimpleTokenizer", "split_words", "DEFAULT_SPECIAL_TOKENS"]
