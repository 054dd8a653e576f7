"""Process-wide tuning for bulk work, and starting helper processes."""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.context
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep objects that were alive before a bulk job out of the cyclic GC's way during it.

    Every full collection otherwise walks them all again (modules, caches, library tables):
    on bench/import.py this takes imports from ~11,000 to ~17,000 rows/s. Unfreezing at the
    end hands them back to the collector, so nothing is retained in a long-running server.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def process_context() -> multiprocessing.context.BaseContext:
    """How to start a helper process: fork when this process has one thread, else spawn.

    fork starts a process in ~10 ms with everything imported; spawn re-imports it all (~0.6 s).
    Forking a process that has other threads (`patron serve` runs the worker in one) can copy a
    lock another thread holds.
    """
    forkable = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if forkable else "spawn")
