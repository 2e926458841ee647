"""Tokenizers: split patterns, the tiktoken-compatible byte-level BPE Encoding, BPE training,
and the word-level SimpleTokenizer of the classic course."""
