"""Deterministic text formatting for summaries (pure Python: no pandas, no numpy imports).

Everything here is independent of locale, pandas display options and hash order, so the same
inputs always give the same characters.
"""

from __future__ import annotations

import math
import re

ELLIPSIS = "…"

# Control characters would break the one-line-per-fact layout; show them as escapes instead.
_CONTROL = {i: f"\\x{i:02x}" for i in range(32)}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x7F: "\\x7f"})
_TABLE_ESCAPES = dict(_CONTROL)
_TABLE_ESCAPES[ord("|")] = "\\|"
# Object reprs that embed a memory address differ between processes.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def fmt_int(value: int) -> str:
    """An integer with thousands separators: ``1234567`` -> ``1,234,567``."""
    return f"{int(value):,}"


def fmt_num(value: float, sig: int = 4) -> str:
    """A number rounded to ``sig`` significant digits, thousands separators, no trailing zeros.

    Integral values below 1e15 are written in full (they are exact), very large or very small
    magnitudes in scientific notation.
    """
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1e15 or ax < 1e-4:
        return f"{x:.{sig - 1}e}"
    if x.is_integer() and ax < 10**sig:
        return fmt_int(int(x))
    digits = sig - 1 - math.floor(math.log10(ax))
    if digits <= 0:
        return fmt_int(round(x, digits))
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_exact(value: float | int, is_int: bool) -> str:
    """A figure reported as exact (min/max): integers in full, floats to 6 significant digits."""
    if is_int:
        return fmt_int(value)
    x = float(value)
    if x.is_integer() and abs(x) < 1e15:
        return fmt_int(int(x))
    return fmt_num(x, 6)


def fmt_share(frac: float) -> str:
    """A share as a percentage with 3 significant digits, never rounding to 0% or 100% falsely."""
    if frac <= 0:
        return "0%"
    if frac >= 1:
        return "100%"
    pct = frac * 100
    text = fmt_num(pct, 3)
    if text == "100":
        return ">99.9%"
    if pct < 0.001:
        return "<0.001%"
    return text + "%"


def fmt_approx_count(value: float) -> str:
    """An estimated count, two significant digits: ``~4.8M``, ``~63k``, ``~1,200``."""
    v = float(value)
    if v >= 1e9:
        return f"~{_two_sig(v / 1e9)}B"
    if v >= 1e6:
        return f"~{_two_sig(v / 1e6)}M"
    if v >= 1e4:
        return f"~{_two_sig(v / 1e3)}k"
    if v >= 100:
        return "~" + fmt_int(round(v, -(len(str(int(v))) - 2)))
    return "~" + fmt_int(round(v))


def _two_sig(v: float) -> str:
    return f"{v:.2g}" if v < 9.95 else str(round(v))


def fmt_bytes(n: int) -> str:
    """A byte count in binary units: ``964.3 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - unreachable


def fmt_duration(seconds: float) -> str:
    """A compact duration with the largest fitting unit: ``1min``, ``2.5h``, ``3d``, ``150ms``."""
    if math.isnan(seconds):
        return "NaN"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    units = (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3),
             ("us", 1e-6), ("ns", 1e-9))
    for unit, size in units:
        if s >= size:
            return f"{sign}{fmt_num(s / size, 4)}{unit}"
    return "0s"


def clip(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` characters, marking a cut with an ellipsis."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


def one_line(text: str) -> str:
    """Escape newlines and control characters so a value stays on one line."""
    return text.translate(_CONTROL)


def cell(text: str, width: int = 40) -> str:
    """A Markdown table cell: cut first (so a 1 MB value costs nothing), then escape ``|``."""
    return clip(text, width).translate(_TABLE_ESCAPES)


def field(text: str, width: int) -> str:
    """Free text inside a ``|``-separated column line: cut, one line, ``|`` escaped."""
    return clip(text, width).translate(_TABLE_ESCAPES)


def stable_repr(value: object, limit: int = 10_000) -> str:
    """``repr`` that does not depend on hash order or memory addresses.

    Sets are printed with sorted elements (their iteration order changes with PYTHONHASHSEED);
    containers are walked so nested sets are handled too; ``limit`` bounds the work on huge values.
    """
    out: list[str] = []
    _stable_repr_into(value, out, [limit])
    return "".join(out)


def _stable_repr_into(value: object, out: list[str], left: list[int]) -> None:
    if left[0] <= 0:
        out.append(ELLIPSIS)
        return
    if isinstance(value, (set, frozenset)):
        parts = sorted(stable_repr(v, left[0]) for v in value)
        text = ("{" + ", ".join(parts) + "}") if parts else f"{type(value).__name__}()"
        if isinstance(value, frozenset) and parts:
            text = f"frozenset({text})"
    elif isinstance(value, (list, tuple)):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        out.append(open_)
        for i, v in enumerate(value):
            if i:
                out.append(", ")
            _stable_repr_into(v, out, left)
            if left[0] <= 0:
                break
        if isinstance(value, tuple) and len(value) == 1:
            out.append(",")
        out.append(close)
        return
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(", ")
            _stable_repr_into(k, out, left)
            out.append(": ")
            _stable_repr_into(v, out, left)
            if left[0] <= 0:
                break
        out.append("}")
        return
    elif isinstance(value, str):
        text = repr(value[: left[0]])
    elif _is_numpy_scalar(value):
        text = repr(value.item())  # 1, not np.int64(1)
    else:
        text = _ADDRESS.sub(" at 0x…", repr(value))
    text = text[: max(left[0], 1)]
    left[0] -= len(text)
    out.append(text)


def _is_numpy_scalar(value: object) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "item") and \
        getattr(value, "ndim", None) == 0


def fmt_label(label: object, width: int = 60) -> str:
    """A column or index label for the text: plain for clean strings, ``repr`` otherwise.

    Non-string labels (ints, tuples, None) are shown as their repr so ``0`` and ``(a, 1)`` read
    as Python literals; strings with edge whitespace or control characters are quoted too.
    """
    if isinstance(label, str) and label and label == label.strip() and label.isprintable():
        text = label
    else:
        text = stable_repr(label, width * 4)
    return field(text, width)


def fmt_scalar(value: object) -> str:
    """One value as text for sample cells and frequent values (duck-typed: no pandas import).

    Floats get 6 significant digits, timestamps ISO 8601, missing markers pandas' spelling.
    """
    if value is None:
        return "None"
    kind = type(value).__name__
    if kind == "NAType":
        return "<NA>"
    if kind == "NaTType":
        return "NaT"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "NaN" if value != value else f"{value:.6g}"
    dtype = getattr(value, "dtype", None)
    code = getattr(dtype, "kind", None) if not hasattr(value, "__len__") else None
    if code == "b":
        return str(bool(value))
    if code in ("i", "u"):
        return str(int(value))
    if code == "f":
        v = float(value)
        return "NaN" if v != v else f"{v:.6g}"
    if code == "c":
        return str(complex(value))
    if kind in ("Timedelta", "Period", "Interval") or code in ("M", "m"):
        return str(value)  # pandas' own text for these, e.g. 2024-01 and (0, 1]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return stable_repr(value, 400)
