"""Terminal tables: booleans as SQL prints them, numbers right-aligned with one number of decimals per column."""

from __future__ import annotations

from decimal import Decimal

from pipelines.lib.table import render_table


def _body(columns, rows) -> list[str]:
    return render_table(columns, rows).splitlines()[2:-1]


def test_booleans_print_as_true_and_false_left_aligned():
    assert _body(["ok"], [(True,), (False,), (None,)]) == ["true", "false", "NULL"]


def test_a_float_column_shows_the_decimals_its_most_precise_value_needs():
    lines = _body(["pct"], [(2.5,), (13.125,), (7.0,), (None,)])
    assert lines == [" 2.500", "13.125", " 7.000", "  NULL"]


def test_noise_beyond_six_decimals_is_cut_and_integers_stay_integers():
    assert _body(["share", "year"], [(1.33542913705, 2024), (0.1 + 0.2, 1999)]) == [
        "1.335429  2024", "0.300000  1999"]


def test_decimals_extremes_and_non_finite_values():
    lines = _body(["v"], [(Decimal("1.50"),), (Decimal("12"),), (1e-9,), (float("nan"),), (2e15,)])
    assert [line.strip() for line in lines] == ["1.50", "12.00", "1.000000e-09", "nan", "2.000000e+15"]
    assert len({len(line) for line in lines}) == 1  # right-aligned to one width
