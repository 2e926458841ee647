"""Imported by the forkserver of the tests' process pools: load gpt2 and its kernels once, so that
every forked worker starts warm instead of paying ~3 s of imports and loading each."""

import minembed

minembed.get_encoding("gpt2").encode_ordinary("warm up")
