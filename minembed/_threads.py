"""One helper thread, shared, for the NumPy and Numba work that minembed splits in two.

NumPy's ufuncs and `nogil` Numba kernels release the GIL, so a second Python thread runs them
on the second core: `in_two(work, n)` calls work(0, n // 2) on the helper and work(n // 2, n)
on the calling thread; `on_both(work)` calls work(0) on the helper and work(1) here, for work
that takes its pieces from a shared queue (a thread on a busier core then takes fewer). The
helper only ever runs such finite pieces of work (never anything that waits for another piece;
work it splits again runs inline), so callers from several threads at once only queue, never
deadlock. A forked child starts without the parent's thread, so it makes its own.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

_helper: ThreadPoolExecutor | None = None  # started on first use
_helper_lock = threading.Lock()
_this_thread = threading.local()  # is_helper: set on the helper thread when it starts


def _mark_as_helper() -> None:
    _this_thread.is_helper = True


def helper_thread() -> ThreadPoolExecutor:
    """The helper: a ThreadPoolExecutor with one worker, started on first use."""
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="minembed-helper", initializer=_mark_as_helper
            )
        return _helper


def submit(fn: Callable, *args) -> Future:
    """fn(*args) on the helper thread."""
    return helper_thread().submit(fn, *args)


def _on_the_helper() -> bool:
    """Whether this is the helper thread (which must never wait for work queued behind itself)."""
    return getattr(_this_thread, "is_helper", False)


def in_two(work: Callable[[int, int], object], n: int) -> None:
    """work(0, n // 2) on the helper while work(n // 2, n) runs here; returns once both are done.

    Called on the helper thread itself, both pieces run there, one after the other."""
    if _on_the_helper():
        work(0, n // 2)
        work(n // 2, n)
        return
    first = submit(work, 0, n // 2)
    try:
        work(n // 2, n)
    finally:
        first.result()


def in_two_if_large(work: Callable[[int, int], object], n: int, large: bool) -> None:
    """work over [0, n): in two halves at once (`in_two`) when the caller says the work is `large`
    and minembed may use two threads (`numba_threads`), else all of it here, work(0, n)."""
    if large and n > 1 and numba_threads() > 1:
        in_two(work, n)
    else:
        work(0, n)


def on_both(work: Callable[[int], object]) -> None:
    """work(0) on the helper while work(1) runs here (each taking its share from a common queue of
    tasks); returns once both are done. Called on the helper thread itself, work(0) does it all."""
    if _on_the_helper():
        work(0)
        return
    helper = submit(work, 0)
    try:
        work(1)
    finally:
        helper.result()


def shared_indices(n: int) -> queue.SimpleQueue:
    """0, 1, ..., n - 1 in a queue that several threads take from (`take_until_empty`): each is taken once."""
    indices = queue.SimpleQueue()
    for i in range(n):
        indices.put(i)
    return indices


def take_until_empty(indices: queue.SimpleQueue) -> Iterator[int]:
    """The indices this thread takes from a queue that other threads also take from, until it is empty."""
    while True:
        try:
            yield indices.get_nowait()
        except queue.Empty:
            return


def numba_threads() -> int:
    """How many threads minembed's split passes may use: Numba's count (numba.set_num_threads)."""
    import numba  # already loaded by the kernels whenever the work is large enough to ask

    return numba.get_num_threads()


@contextlib.contextmanager
def one_numba_thread() -> Iterator[None]:
    """Within the block, this thread's Numba parallel kernels run inline on it, off the OpenMP pool.

    After each parallel region, Numba's OpenMP workers spin for milliseconds, holding the other
    core; work that the helper thread does right after (TinyLM's output head) then gets half of it.
    numba.set_num_threads is per thread, so this changes nothing for other threads.
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _forget_helper_thread() -> None:
    global _helper, _helper_lock
    _helper, _helper_lock = None, threading.Lock()  # a forked child has no thread behind the old pool
    _this_thread.is_helper = False  # a fork from the helper: the child's one thread is not a helper


os.register_at_fork(after_in_child=_forget_helper_thread)
