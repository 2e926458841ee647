"""Settings for the doctests in minembed/ (tests/conftest.py serves the tests in tests/)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from reference.shared import encodings_dir


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace, monkeypatch):
    """Every doctest sees `np`, and `minembed.get_encoding` reads the shared encoding files offline."""
    doctest_namespace["np"] = np
    if "MINEMBED_ENCODINGS_DIR" not in os.environ:
        monkeypatch.setenv("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
    if "MINEMBED_OFFLINE" not in os.environ:
        monkeypatch.setenv("MINEMBED_OFFLINE", "1")
