"""The oracles: thin wrappers around torch, tiktoken and rustbpe, plus slow pure-Python references.

This package is the only place in the project that imports torch or tiktoken. Tests compare
minembed against what these wrappers return; nothing here is copied into minembed.
"""
