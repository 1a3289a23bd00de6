"""Process memory policy: give freed memory back to the system at once.

An ingest streams a file through chunks of frames, JSON and COPY payloads; each chunk's
memory is freed when it is loaded, but the allocators keep freed pages for reuse (glibc
per thread arena and above its trim threshold, polars' and pyarrow's jemalloc for seconds).
Over a long file that retained memory, not the live data, set the peak (bench/README-scale.md).
``configure`` runs when the ``hub`` package is imported, before polars or pyarrow load.
Settings an operator put in the environment win: each knob is only a default.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_ARENA_MAX = -8
TRIM_THRESHOLD_BYTES = 1 << 20
ARENA_MAX = 2

applied: dict[str, object] = {}


def configure() -> dict[str, object]:
    """Apply the policy once per process; returns what it set (for tests and diagnostics)."""
    if applied:
        return applied
    # Read by pyarrow when it first allocates, and by polars when it loads (polars puts
    # its own decay defaults first; jemalloc takes the last value of an option).
    for name, value in (
        ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0"),
        ("ARROW_DEFAULT_MEMORY_POOL", "system"),
    ):
        applied[name] = os.environ.setdefault(name, value)
    libc = _glibc()
    if libc is not None:
        if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
            applied["trim_threshold"] = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
        if "MALLOC_ARENA_MAX" not in os.environ:
            applied["arena_max"] = bool(libc.mallopt(_M_ARENA_MAX, ARENA_MAX))
    return applied


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has mallopt with these numbers
    except (OSError, AttributeError):
        return None
    return libc
