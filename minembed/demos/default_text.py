"""The demo's text when no file is given: the Python documentation that ships with every Python.

`pydoc_data.topics` holds the text of the language reference topics that `help()` shows (about
460 kB of English prose and code in Python 3.11), so it is always there, needs no download and
is large enough for a vocabulary of a few hundred tokens and thousands of training windows. A
Python built without it falls back to minembed's own short essay.
"""

from __future__ import annotations

from minembed.demos.sample_text import SAMPLE_TEXT


def default_text() -> tuple[str, str]:
    """(text, where it comes from) for the demo."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions split the documentation out of the standard library
        return SAMPLE_TEXT, "minembed's built-in sample essay"
    text = "\n\n".join(topics[name] for name in sorted(topics))
    return text, f"the Python {_python_version()} documentation topics (pydoc_data.topics, {len(topics)} topics)"


def _python_version() -> str:
    import sys

    return ".".join(map(str, sys.version_info[:2]))
