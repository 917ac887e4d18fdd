"""Plain-text tables for the terminal (no dependency; DuckDB's own box rendering is not public API).

Booleans print as SQL does (true/false); a column of numbers is right-aligned, and its non-integer numbers
all show the same number of decimals, so the decimal points line up.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Sequence

# Enough for shares (3.43) and rates; a double's noise beyond this is not information.
MAX_DECIMALS = 6


def _decimals(value: float | Decimal) -> int:
    """The decimals `value` needs to be shown exactly (up to MAX_DECIMALS)."""
    text = format(value, "f") if isinstance(value, Decimal) else f"{value:.{MAX_DECIMALS}f}".rstrip("0")
    return min(MAX_DECIMALS, len(text.split(".")[1])) if "." in text else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _column_decimals(values: Sequence[Any]) -> int:
    return max((_decimals(v) for v in values if isinstance(v, (float, Decimal)) and math.isfinite(v)), default=0)


def _cell(value: Any, decimals: int) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and abs(value) < 10 ** -MAX_DECIMALS or abs(value) >= 1e15:
            return f"{value:.6e}"  # would print as 0.000000, or with digits a double does not hold
        return f"{value:.{decimals}f}"
    return str(value)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows under a header, columns padded to their widest cell, numbers right-aligned."""
    numeric = [bool(rows) and all(_is_number(r[i]) or r[i] is None for r in rows)
               and any(r[i] is not None for r in rows) for i in range(len(columns))]
    decimals = [_column_decimals([r[i] for r in rows]) if numeric[i] else 0 for i in range(len(columns))]
    cells = [[_cell(v, decimals[i]) for i, v in enumerate(row)] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
