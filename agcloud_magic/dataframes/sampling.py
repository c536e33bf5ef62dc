"""Deterministic row positions and chunk-safe takes.

Two pitfalls measured on 1e7-row frames shape this module:

* ``RandomState.choice(n, k, replace=False)`` (behind ``df.sample``) permutes all ``n`` rows;
  ``numpy.random.Generator.choice`` draws ``k`` positions directly (3 ms for 1e5 of 5e7).
* A positional take on a chunked arrow column (``iloc[array]``, ``take``) first concatenates the
  whole column (+250 MB for five rows of a 1e7-row string column). We take per chunk instead.

pyarrow is optional (summaries work with pandas alone): it is looked up, never imported, because
an array can only be arrow-backed once something has imported pyarrow.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["arrow_data", "display_positions", "sample_positions", "take_arrow", "take_values"]


def sample_positions(n: int, k: int, seed: int) -> np.ndarray | None:
    """Sorted positions of a ``k``-row sample of ``n`` rows, or None when every row is used.

    Depends only on ``(n, k, seed)`` (and numpy's generator algorithm), never on the data.
    """
    if k >= n:
        return None
    rng = np.random.default_rng([0, seed])
    pos = rng.choice(n, size=k, replace=False)
    pos.sort()
    return pos.astype(np.int64, copy=False)


def display_positions(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted positions of the sample rows shown in the summary (a stream separate from the
    statistics sample, so changing ``sample_size`` does not change the rows shown)."""
    if k >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng([1, seed])
    pos = rng.choice(n, size=k, replace=False)
    pos.sort()
    return pos.astype(np.int64, copy=False)


def arrow_data(array: Any) -> pa.ChunkedArray | None:
    """The pyarrow ChunkedArray behind a pandas arrow-backed array, without copying, else None."""
    pa = sys.modules.get("pyarrow")
    if pa is None:  # not imported (or not installed): nothing can be arrow-backed
        return None
    data = getattr(array, "_pa_array", None)
    if isinstance(data, pa.ChunkedArray):
        return data
    if type(array).__name__.startswith("Arrow") and hasattr(array, "__arrow_array__"):
        data = array.__arrow_array__()
        if isinstance(data, pa.Array):
            data = pa.chunked_array([data])
        if isinstance(data, pa.ChunkedArray):
            return data
    return None


def take_arrow(data: pa.ChunkedArray, pos: np.ndarray) -> pa.Array:
    """Rows ``pos`` (sorted) of a chunked array, taken chunk by chunk (no whole-column concat)."""
    import pyarrow as pa  # already loaded: ``data`` is a pyarrow array

    bounds = np.zeros(data.num_chunks + 1, dtype=np.int64)
    np.cumsum([len(c) for c in data.chunks], out=bounds[1:])
    cuts = np.searchsorted(pos, bounds)
    pieces = []
    for i in range(data.num_chunks):
        a, b = cuts[i], cuts[i + 1]
        if a == b:
            continue
        local = pa.array(pos[a:b] - bounds[i], type=pa.int64())
        pieces.append(data.chunk(i).take(local))
    if not pieces:
        return pa.array([], type=data.type)
    if len(pieces) == 1:
        return pieces[0]
    return pa.concat_arrays(pieces)


def take_values(array: Any, pos: np.ndarray) -> list:
    """Python/pandas scalars at rows ``pos`` of an array (numpy, pandas extension or Index).

    Arrow-backed arrays go through :func:`take_arrow`; arrow nulls come back as None.
    """
    data = arrow_data(array)
    if data is not None:
        return take_arrow(data, pos).to_pylist()
    if isinstance(array, np.ndarray):
        return list(array[pos])
    return list(array.take(pos))
