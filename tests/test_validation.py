"""Tests for pipelines.lib.validation: GX suites on Polars frames."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pipelines.lib.validation import (
    Expect,
    ExpectationOutcome,
    ValidationReport,
    columns_for_gx,
    row_count_bounds,
    run_suite,
)
from pipelines.lib.validation_report import jsonable as _jsonable

ROW_COLUMNS = {
    "suite",
    "table_name",
    "snapshot_id",
    "expectation",
    "column_name",
    "kwargs_json",
    "success",
    "observed_json",
    "unexpected_sample_json",
    "validated_at",
}


def _bad_frame() -> pl.DataFrame:
    """Five rows, each rule broken by a known row."""
    return pl.DataFrame(
        {
            "iso3": ["USA", None, "FRA", "FRA", "XXX"],
            "year": pl.Series([2000, 2001, 2002, 2002, 2003], dtype=pl.Int32),
            "share": [1.5, 2.0, 150.0, -1.0, 150.0],
        }
    )


BAD_SUITE = [
    Expect("expect_column_values_to_not_be_null", {"column": "iso3"}),
    Expect("expect_column_values_to_be_unique", {"column": "iso3"}),
    Expect("expect_compound_columns_to_be_unique", {"column_list": ["iso3", "year"]}),
    Expect(
        "expect_column_values_to_be_between", {"column": "share", "min_value": 0, "max_value": 100}
    ),
    Expect("expect_column_values_to_be_in_set", {"column": "iso3", "value_set": ["USA", "FRA"]}),
    Expect("expect_table_row_count_to_be_between", {"min_value": 10, "max_value": 20}),
    Expect("expect_column_values_to_not_be_null", {"column": "year"}),  # passes
]


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Data Docs directory shared by the module's failing run."""
    return tmp_path_factory.mktemp("docs")


@pytest.fixture(scope="module")
def bad(docs_dir: Path) -> ValidationReport:
    """One failing run shared by many tests: GX is slow to start."""
    return run_suite(
        _bad_frame(),
        suite="stg_test_suite",
        table="stg_test",
        snapshot_id="snap-1",
        expectations=BAD_SUITE,
        docs_dir=docs_dir,
    )


def _outcome(report: ValidationReport, expectation: str, column: str | None) -> ExpectationOutcome:
    """The single outcome for (expectation, column)."""
    [found] = [o for o in report.outcomes if (o.expectation, o.column) == (expectation, column)]
    return found


def test_module_import_does_not_import_gx() -> None:
    code = "import pipelines.lib.validation, sys; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_passing_suite() -> None:
    frame = pl.DataFrame({"iso3": ["USA", "FRA"], "share": [1.0, 99.5]})
    report = run_suite(
        frame,
        suite="ok_suite",
        table="stg_ok",
        snapshot_id="s1",
        expectations=[
            Expect("expect_column_values_to_not_be_null", {"column": "iso3"}),
            Expect(
                "expect_column_values_to_be_between",
                {"column": "share", "min_value": 0, "max_value": 100},
            ),
            row_count_bounds(2),
        ],
    )
    assert report.success
    assert report.failures() == []
    assert report.summary() == ""
    assert report.row_count == 2
    assert [o.success for o in report.outcomes] == [True, True, True]


def test_failing_run_keeps_suite_order_and_overall_failure(bad: ValidationReport) -> None:
    assert not bad.success
    assert [o.expectation for o in bad.outcomes] == [e.type for e in BAD_SUITE]
    assert [o.success for o in bad.outcomes] == [False] * 6 + [True]
    assert (bad.suite, bad.table, bad.snapshot_id) == ("stg_test_suite", "stg_test", "snap-1")
    assert bad.row_count == 5
    assert dt.datetime.fromisoformat(bad.validated_at).utcoffset() == dt.timedelta(0)


def test_not_null(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_column_values_to_not_be_null", "iso3")
    assert o.observed["unexpected_count"] == 1
    assert o.observed["unexpected_percent"] == pytest.approx(20.0)
    assert o.unexpected_sample == [None]


def test_unique_samples_are_distinct(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_column_values_to_be_unique", "iso3")
    assert o.observed["unexpected_count"] == 2
    assert o.unexpected_sample == ["FRA"]


def test_compound_unique_reports_the_key(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_compound_columns_to_be_unique", "iso3,year")
    assert not o.success
    # ints, not 2002.0, and one entry for the duplicated pair
    assert o.unexpected_sample == [{"iso3": "FRA", "year": 2002}]


def test_between(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_column_values_to_be_between", "share")
    assert o.observed["unexpected_count"] == 3
    assert o.unexpected_sample == [150.0, -1.0]
    assert o.kwargs == {"column": "share", "min_value": 0, "max_value": 100}


def test_in_set(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_column_values_to_be_in_set", "iso3")
    assert o.unexpected_sample == ["XXX"]


def test_table_row_count(bad: ValidationReport) -> None:
    o = _outcome(bad, "expect_table_row_count_to_be_between", None)
    assert not o.success
    assert o.observed == {"observed_value": 5}
    assert o.unexpected_sample == []


def test_summary_names_table_column_and_samples(bad: ValidationReport) -> None:
    lines = bad.summary().splitlines()
    assert len(lines) == 6
    assert lines[0] == (
        "stg_test.iso3: expect_column_values_to_not_be_null failed — 1 unexpected (sample: [None])"
    )
    assert (
        "stg_test.iso3: expect_column_values_to_be_in_set failed — 1 unexpected (sample: ['XXX'])"
        in lines
    )
    assert "stg_test: expect_table_row_count_to_be_between failed — observed 5" in lines


def test_json_round_trip(bad: ValidationReport) -> None:
    text = bad.to_json()
    assert ValidationReport.from_json(text) == bad
    assert json.loads(text)["outcomes"][0]["unexpected_sample"] == [None]


def test_to_rows_shape(bad: ValidationReport) -> None:
    rows = bad.to_rows()
    assert len(rows) == len(bad.outcomes)
    assert all(set(r) == ROW_COLUMNS for r in rows)
    first = rows[0]
    assert (first["suite"], first["table_name"]) == ("stg_test_suite", "stg_test")
    assert first["snapshot_id"] == "snap-1"
    assert first["column_name"] == "iso3" and first["success"] is False
    assert json.loads(first["kwargs_json"]) == {"column": "iso3"}
    assert json.loads(first["observed_json"])["unexpected_count"] == 1
    assert json.loads(rows[4]["unexpected_sample_json"]) == ["XXX"]
    assert rows[5]["column_name"] is None


def test_data_docs_page_written(bad: ValidationReport, docs_dir: Path) -> None:
    assert bad.docs_path is not None
    page = Path(bad.docs_path)
    assert page.is_file() and docs_dir.resolve() in page.parents
    html = page.read_text(encoding="utf-8")
    # GX renders expectations as prose, not by type name
    assert "values must never be null" in html
    assert "XXX" in html and "Failed" in html
    index = (docs_dir / "index.html").read_text(encoding="utf-8")
    assert page.relative_to(docs_dir.resolve()).as_posix() in index


def test_docs_pages_accumulate_across_runs(bad: ValidationReport, docs_dir: Path) -> None:
    # GX's own index builder would delete pages whose results are not in memory
    again = run_suite(
        _bad_frame(), suite="stg_test_suite", table="stg_test", snapshot_id="snap-2",
        expectations=BAD_SUITE[:1], docs_dir=docs_dir,
    )
    assert again.docs_path and Path(again.docs_path).is_file()
    assert bad.docs_path and Path(bad.docs_path).is_file()


def test_reused_suite_name_replaces_old_expectations(bad: ValidationReport) -> None:
    report = run_suite(
        _bad_frame(), suite="stg_test_suite", table="stg_test", snapshot_id="snap-3",
        expectations=[Expect("expect_column_values_to_not_be_null", {"column": "share"})],
    )
    assert [o.expectation for o in report.outcomes] == ["expect_column_values_to_not_be_null"]
    assert report.success


def test_polars_dtypes_through_pandas() -> None:
    frame = pl.DataFrame(
        {
            "i": pl.Series([1, None, 7], dtype=pl.Int32),
            "b": pl.Series([True, None, False], dtype=pl.Boolean),
            "s": pl.Series(["a", None, "z"], dtype=pl.Utf8),
            "f": [0.5, float("nan"), None],
            "d": [dt.date(2000, 1, 1), None, dt.date(2031, 6, 1)],
        }
    )
    report = run_suite(
        frame,
        suite="dtypes",
        table="stg_dtypes",
        snapshot_id="s1",
        expectations=[
            *(Expect("expect_column_values_to_not_be_null", {"column": c}) for c in frame.columns),
            Expect(
                "expect_column_values_to_be_between", {"column": "i", "min_value": 0, "max_value": 5}
            ),
            Expect("expect_column_values_to_be_in_set", {"column": "b", "value_set": [True]}),
            Expect("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["a"]}),
            Expect(
                "expect_column_values_to_be_between", {"column": "f", "min_value": 0, "max_value": 1}
            ),
            Expect(
                "expect_column_values_to_be_between",
                {"column": "d", "min_value": dt.date(1990, 1, 1), "max_value": "2030-12-31"},
            ),
        ],
    )
    nulls = {o.column: o.observed["unexpected_count"] for o in report.outcomes[:5]}
    # pandas has one missing marker: Polars NaN counts as null, like a real null
    assert nulls == {"i": 1, "b": 1, "s": 1, "f": 2, "d": 1}
    samples = [o.unexpected_sample for o in report.outcomes[5:]]
    assert samples == [[7], [False], ["z"], [], ["2031-06-01"]]
    assert [o.success for o in report.outcomes[5:]] == [False, False, False, True, False]
    assert isinstance(samples[0][0], int)


def test_gx_sees_only_the_named_columns_widened_to_64_bits() -> None:
    frame = pl.DataFrame({"a": pl.Series([1, 2], dtype=pl.Int8), "b": pl.Series([0.5, 1.5], dtype=pl.Float32),
                          "c": ["x", "y"], "unused": [True, False]})
    suite = [Expect("expect_column_values_to_be_between", {"column": "a", "min_value": 0}),
             Expect("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "b", "column_B": "a"}),
             Expect("expect_compound_columns_to_be_unique", {"column_list": ["c", "a"]}),
             row_count_bounds(2)]
    slim = columns_for_gx(frame, suite)
    assert slim.schema == pl.Schema({"a": pl.Int64, "b": pl.Float64, "c": pl.Utf8})
    assert slim["b"].to_list() == [0.5, 1.5]
    # a row count alone still counts every row; a table-wide expectation sees every column
    assert columns_for_gx(frame, [row_count_bounds(2)]).shape == (2, 1)
    assert columns_for_gx(frame, suite + [Expect("expect_table_column_count_to_equal", {"value": 4})]).width == 4
    conditional = Expect("expect_column_values_to_not_be_null",
                         {"column": "c", "row_condition": 'unused == True', "condition_parser": "pandas"})
    assert columns_for_gx(frame, [conditional]).width == 4


def test_empty_frame() -> None:
    frame = pl.DataFrame({"iso3": pl.Series([], dtype=pl.Utf8)})
    report = run_suite(
        frame,
        suite="empty",
        table="stg_empty",
        snapshot_id="s0",
        expectations=[
            Expect("expect_column_values_to_not_be_null", {"column": "iso3"}),
            row_count_bounds(4),
        ],
    )
    assert report.row_count == 0
    assert [o.success for o in report.outcomes] == [True, False]
    assert report.outcomes[1].observed["observed_value"] == 0


def test_missing_column_is_a_failure_with_the_error() -> None:
    report = run_suite(
        _bad_frame(), suite="missing", table="stg_test", snapshot_id="s1",
        expectations=[Expect("expect_column_values_to_not_be_null", {"column": "nope"})],
    )
    assert not report.success
    assert "nope" in report.outcomes[0].observed["exception"]
    assert "error:" in report.summary()


def test_unknown_expectation_type_is_a_clear_error() -> None:
    typo = Expect("expect_column_values_to_not_be_nul", {"column": "iso3"})
    pattern = "unknown expectation type 'expect_column_values_to_not_be_nul'.*did you mean expect_c"
    with pytest.raises(ValueError, match=pattern):
        run_suite(_bad_frame(), suite="x", table="t", snapshot_id="s", expectations=[typo])


def test_bad_kwargs_and_duplicates_are_clear_errors() -> None:
    no_set = Expect("expect_column_values_to_be_in_set", {"column": "iso3"})
    with pytest.raises(ValueError, match="invalid kwargs for expect_column_values_to_be_in_set"):
        run_suite(_bad_frame(), suite="x", table="t", snapshot_id="s", expectations=[no_set])
    dup = Expect("expect_column_values_to_not_be_null", {"column": "iso3"})
    with pytest.raises(ValueError, match="duplicate expectation"):
        run_suite(_bad_frame(), suite="x", table="t", snapshot_id="s", expectations=[dup, dup])


@pytest.mark.parametrize(
    ("previous", "kwargs", "bounds"),
    [
        (100, {}, (50, 300)),
        (3, {}, (2, 9)),
        (0, {}, (0, 0)),
        (100, {"max_drop": 0.7, "max_growth": 0.1}, (30, 110)),  # float noise would give 31
        (15, {"max_drop": 0.0, "max_growth": 0.1}, (15, 16)),
    ],
)
def test_row_count_bounds(previous: int, kwargs: dict, bounds: tuple[int, int]) -> None:
    e = row_count_bounds(previous, **kwargs)
    assert e is not None and e.type == "expect_table_row_count_to_be_between"
    assert (e.kwargs["min_value"], e.kwargs["max_value"]) == bounds


def test_row_count_bounds_without_previous_and_bad_args() -> None:
    assert row_count_bounds(None) is None
    with pytest.raises(ValueError):
        row_count_bounds(10, max_drop=1.5)


def test_jsonable_scalars() -> None:
    values = [
        np.int64(3),
        np.float64("nan"),
        np.bool_(True),
        pd.NA,
        pd.NaT,
        float("inf"),
        pd.Timestamp("2024-01-02 03:04:05"),
        dt.date(2024, 1, 2),
        decimal.Decimal("1.10"),
        (1, "a"),
    ]
    out = _jsonable(values)
    assert out == [
        3, None, True, None, None, "inf", "2024-01-02T03:04:05", "2024-01-02", "1.10", [1, "a"]
    ]
    json.dumps(out, allow_nan=False)
    assert _jsonable(np.float32(1.5)) == 1.5


def test_warm_up_leaves_runs_as_they_were() -> None:
    from pipelines.lib.validation import warm_up

    first = warm_up()
    assert warm_up() is first  # once per process
    first.join(timeout=120)
    report = run_suite(_bad_frame(), suite="after_warm_up", table="stg_test", snapshot_id="s1",
                       expectations=BAD_SUITE[:1])
    assert [o.success for o in report.outcomes] == [False]
    assert report.outcomes[0].observed["unexpected_count"] == 1
