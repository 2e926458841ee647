"""The embedded default text of the demo: a short original essay on what this package does.

It is long enough to train a small BPE vocabulary and cut into a few dozen training windows,
and it needs no file, download or network.
"""

SAMPLE_TEXT = """\
Before a language model can read a sentence, the sentence has to become numbers. The first
step cuts the text into pieces: words, the spaces in front of them, runs of digits, bits of
punctuation. The second step looks inside every piece and joins the bytes that most often
stand together, again and again, until each piece is a short list of known tokens. That is
byte pair encoding. It never fails on a strange word, because in the worst case a word is
spelled out byte by byte, and it never loses a character, because every byte has a token.

Training the encoder is counting. Count every pair of neighbouring tokens in the corpus,
merge the most frequent pair into a new token, and count again. A careful trainer does not
recount the whole corpus after each merge: it only revisits the words that held the pair.
Ties are broken by a fixed rule, so that two runs on the same text give the same vocabulary.

Once the text is a long row of token ids, training examples are windows cut from it. Each
window is an input, and the same window shifted by one token is the target: the model learns
to predict the next token at every position at once. The windows can overlap or not, as the
stride decides, and they never need to be copied, because each one is only a view into the
same array of ids. A batch is a stack of windows, drawn in order or shuffled by a seed.

The model's first layer is a table with one row per token. Looking a token up returns its
row, which is the same as multiplying a one-hot vector by the table, only much cheaper. A
second table, or a fixed pattern of sines and cosines, adds the position of each token,
because a bag of rows alone does not know which word came first. The gradient of the lookup
is a scatter: every position sends its gradient back to the row it came from, and rows that
were read twice receive two contributions. Rows that were never read receive nothing at all.

Every one of these steps is small enough to read in one sitting, and every one of them can
be checked against the libraries that people already trust. When the two agree token for
token and bit for bit, the small version can be used to learn from, to test ideas on, and
to run where the large libraries are not installed. Numbers in, numbers out: 1, 2, 3, 100,
2024, 3.14159. Punctuation too: commas, semicolons; colons: and dashes -- all of it.
"""
