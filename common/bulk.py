"""Reads and writes of rows by the hundred thousand in one request (a lot's trail, a recall's
scope)."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector, paused while a hundred thousand objects and their tuples are
    allocated (rows, records; none of them in a cycle): it would otherwise walk the growing
    heap every few hundred allocations, which took four fifths of the time spent building a
    trace's records. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
