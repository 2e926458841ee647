"""minembed._blas.one_thread_per_call and minembed._threads.one_numba_thread: one thread inside, the count after."""

from __future__ import annotations

import threading

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from minembed._blas import one_thread_per_call
from minembed._threads import one_numba_thread


def blas_thread_counts() -> list[int]:
    return [info["num_threads"] for info in ThreadpoolController().select(user_api="blas").info()]


def test_one_thread_inside_nested_blocks_and_the_count_restored_after_the_last():
    np.ones((2, 2)) @ np.ones((2, 2))  # NumPy's BLAS is loaded
    before = blas_thread_counts()
    assert before, "NumPy's BLAS should be visible to threadpoolctl"
    with one_thread_per_call() as limited:
        assert limited
        assert blas_thread_counts() == [1] * len(before)
        with one_thread_per_call():
            assert blas_thread_counts() == [1] * len(before)
        assert blas_thread_counts() == [1] * len(before)  # the outer block is still open
    assert blas_thread_counts() == before


def test_blocks_open_on_two_threads_say_whether_blas_is_on_one_thread_and_restore_the_counts():
    """threadpoolctl lets one thread set OpenBLAS's count, so a block on another thread may yield False;
    whatever a block yields must be true of the counts inside it, and the counts come back after both."""
    before = blas_thread_counts()
    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def other_block():
        with one_thread_per_call() as limited:
            seen["worker"] = (limited, blas_thread_counts())
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=other_block)
    worker.start()
    assert inside.wait(10)
    with one_thread_per_call() as limited:
        seen["main"] = (limited, blas_thread_counts())
    leave.set()
    worker.join(10)
    for name, (limited, counts) in seen.items():
        assert limited == (counts == [1] * len(before)), name
    assert blas_thread_counts() == before


def test_an_exception_inside_the_block_still_restores_the_count():
    before = blas_thread_counts()
    try:
        with one_thread_per_call():
            raise KeyError("inside")
    except KeyError:
        pass
    assert blas_thread_counts() == before


def test_one_numba_thread_inside_the_block_and_the_count_restored_after_it_even_on_an_exception():
    previous = numba.get_num_threads()
    seen = []
    try:
        with one_numba_thread():
            seen.append(numba.get_num_threads())
            raise KeyError("inside")
    except KeyError:
        pass
    assert seen == [1]
    assert numba.get_num_threads() == previous
