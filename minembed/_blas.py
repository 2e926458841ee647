"""NumPy's BLAS on one thread per call, for work that minembed itself splits between two threads.

NumPy's BLAS (OpenBLAS in its wheels) runs each large product on its own pool of threads, and
the idle workers of that pool spin for a while after every call (2**28 cycles by default). In a
training step, where products alternate with minembed's kernels, the spinning worker holds one
of the cores, so the kernels between the products get only the other: in TinyLM's step, its
embedding forward took 2.8 ms instead of 0.2. With BLAS on one thread per call, the caller and
minembed's helper thread (minembed._threads) share the rows between them, products and kernels
alike, and no thread waits on another.

threadpoolctl is the public way to read and set a BLAS library's thread count. The count is
global to the process, so other threads' products also run on one thread while a block is open.
threadpoolctl lets only one thread set OpenBLAS's count (the first that set it, while it lives):
on any other thread the block changes nothing and yields False, and the caller keeps its work
on one thread. Each block restores, on leaving, the count it found on entering.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_controller = None  # threadpoolctl's view of the loaded BLAS libraries, made on first use (about 6 ms)


def _blas_controller():
    """threadpoolctl's ThreadpoolController of the BLAS libraries loaded in this process (NumPy's among them)."""
    global _controller
    with _lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController().select(user_api="blas")
        return _controller


@contextlib.contextmanager
def one_thread_per_call() -> Iterator[bool]:
    """Within the block, NumPy's BLAS runs each call on its calling thread alone.

    Yields whether every BLAS library now runs on one thread: False when none is found or this
    thread may not set the count (then calls keep their threads, and the caller should not split
    its work in two).
    """
    controller = _blas_controller()
    if not controller.lib_controllers:
        yield False
        return
    limiter = controller.limit(limits=1)
    try:
        yield all(library.num_threads == 1 for library in controller.lib_controllers)
    finally:
        limiter.restore_original_limits()


def _forget_lock() -> None:
    global _lock
    _lock = threading.Lock()  # a fork while another thread held it would leave the child's copy locked


os.register_at_fork(after_in_child=_forget_lock)
