"""Event partitions span the held data (docs/adr/0009): where they start and end, how a first date is
configured, and that an empty partition of a range run says 0 rows, not the run's total."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance

from pipelines.defs.acled import assets as acled
from pipelines.defs.gdelt import assets as gdelt
from pipelines.defs.ucdp_ged import assets as ucdp_ged
from pipelines.lib.acquire import register_event_sample
from pipelines.lib.config import SAMPLES_DIR
from pipelines.lib.held_partitions import partitions_at_the_data
from pipelines.lib.lake import Lake, PartitionedLake
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_spec import SnapshotConfig
from pipelines.run import partition_range_problem, run_backfill

TERMS = dict(publisher="test", licence="test", licence_url="https://example.org", citation="test")


def _keys(spec, home: Path, offline: bool) -> list[str]:
    spec = partitions_at_the_data(spec, store=SnapshotStore(home / "snapshots"), lake=Lake(home / "lake"), offline=offline)
    return spec.partitions_def.get_partition_keys()


def test_offline_on_a_fresh_checkout_the_partitions_are_exactly_what_the_samples_cover(tw_home: Path):
    assert _keys(gdelt.GDELT, tw_home, offline=True) == ["2024-06-01", "2024-06-02"]
    months = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"]
    assert _keys(acled.ACLED, tw_home, offline=True) == months
    assert _keys(ucdp_ged.UCDP_GED, tw_home, offline=True) == months


def test_live_with_nothing_held_the_partitions_reach_back_to_the_publishers_first_date(tw_home: Path):
    keys = _keys(gdelt.GDELT, tw_home, offline=False)
    assert keys[0] == "2015-02-18" and len(keys) > 4000  # today's partition is open too
    assert _keys(ucdp_ged.UCDP_GED, tw_home, offline=False)[0] == "1989-01-01"


def test_live_after_the_quickstart_the_partitions_start_at_the_samples_it_staged_and_stay_open(tw_home: Path):
    store = SnapshotStore(tw_home / "snapshots")
    for group in gdelt.GDELT.samples(SnapshotConfig()):  # as an offline run registers them
        register_event_sample(store, "gdelt", group, gdelt.GDELT.sample_params())
    keys = _keys(gdelt.GDELT, tw_home, offline=False)
    assert keys[0] == "2024-06-01" and keys[-1] > "2024-06-02"  # new files arrive at today's end


def test_a_held_gdelt_file_moves_the_start_to_its_day_and_offline_the_end_too(tw_home: Path, tmp_path: Path):
    export = tmp_path / "20250104161500.export.CSV.zip"
    shutil.copyfile(SAMPLES_DIR / "gdelt" / "20240601230000.export.CSV.zip", export)
    SnapshotStore(tw_home / "snapshots").import_files("gdelt", [export], **TERMS)
    assert _keys(gdelt.GDELT, tw_home, offline=True) == ["2025-01-04"]  # the samples stand aside for real data
    live = _keys(gdelt.GDELT, tw_home, offline=False)
    assert live[0] == "2025-01-04" and live[-1] > "2025-01-04"


def test_a_held_snapshot_whose_months_are_unknown_until_staged_keeps_the_whole_history(tw_home: Path):
    store = SnapshotStore(tw_home / "snapshots")
    manifest = store.import_files("acled", [SAMPLES_DIR / "acled" / "acled_export_2024.csv"], **TERMS)
    # Not read at load (a release can be hundreds of MB): no row may fall before the first partition.
    assert _keys(acled.ACLED, tw_home, offline=True)[0] == "1997-01-01"
    PartitionedLake(Lake(tw_home / "lake"), acled.SPEC.table.name).record_coverage(
        manifest.snapshot_id, ["2024-04-01", "2024-05-01"])  # as staging records it
    assert _keys(acled.ACLED, tw_home, offline=True) == ["2024-04-01", "2024-05-01"]


def test_a_configured_first_date_wins_and_a_bad_one_names_the_variable(tw_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREATWATCH_ACLED_FIRST_PARTITION", "2023-03-15")
    keys = _keys(acled.ACLED, tw_home, offline=True)
    assert keys[0] == "2023-03-01" and keys[-1] == "2024-06-01"  # its month, through the held data
    monkeypatch.setenv("THREATWATCH_GDELT_FIRST_PARTITION", "2024-06-31")
    with pytest.raises(ValueError, match="THREATWATCH_GDELT_FIRST_PARTITION='2024-06-31' is not a date"):
        _keys(gdelt.GDELT, tw_home, offline=True)


def test_a_range_before_the_first_partition_says_how_to_reach_it():
    first = gdelt.PARTITIONS.get_first_partition_key()
    problem = partition_range_problem("gdelt", "2015-01-01", first)
    assert problem and "THREATWATCH_GDELT_FIRST_PARTITION" in problem and first in problem


def test_an_empty_partition_of_a_range_run_reports_no_rows(tw_home: Path, dagster_home: Path):
    summary = run_backfill("gdelt", "2024-06-01", "2024-06-03", offline=True)  # the samples fill two days
    assert summary.success, summary.render()
    staging_run = dict(summary.runs)["gdelt_job"]
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        records = instance.get_records_for_run(staging_run, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    rows = {r.event_log_entry.asset_materialization.partition: r.event_log_entry.asset_materialization.metadata
            for r in records if r.event_log_entry.asset_materialization.asset_key.path[0] == "staging"}
    assert sorted(rows) == ["2024-06-01", "2024-06-02", "2024-06-03"]
    assert rows["2024-06-03"]["dagster/row_count"].value == 0
    per_day = [rows[d]["dagster/row_count"].value for d in ("2024-06-01", "2024-06-02")]
    assert all(n > 0 for n in per_day)
    staged = dict(summary.materialized)["staging/stg_gdelt_event"]
    assert staged["dagster/row_count"] == sum(per_day) == staged["rows_in_run"]


def _import_gdelt_day(store: SnapshotStore, tmp_path: Path, stamp: str):
    export = tmp_path / f"{stamp}.export.CSV.zip"
    shutil.copyfile(SAMPLES_DIR / "gdelt" / "20240601230000.export.CSV.zip", export)
    return store.import_files("gdelt", [export], **TERMS)


def test_a_load_reads_only_the_manifests_added_since_the_last_one(tw_home: Path, tmp_path: Path):
    store = SnapshotStore(tw_home / "snapshots")
    old = _import_gdelt_day(store, tmp_path, "20250104161500")
    assert _keys(gdelt.GDELT, tw_home, offline=True) == ["2025-01-04"]
    _import_gdelt_day(store, tmp_path, "20250106000000")
    (store.dir_of(old) / "manifest.json").write_text("not read again")  # a re-read would fail
    assert _keys(gdelt.GDELT, tw_home, offline=True) == ["2025-01-04", "2025-01-05", "2025-01-06"]


def test_a_deleted_snapshot_makes_the_span_start_over(tw_home: Path, tmp_path: Path):
    store = SnapshotStore(tw_home / "snapshots")
    old = _import_gdelt_day(store, tmp_path, "20250104161500")
    _import_gdelt_day(store, tmp_path, "20250106000000")
    assert _keys(gdelt.GDELT, tw_home, offline=True)[0] == "2025-01-04"
    shutil.rmtree(store.dir_of(old))
    assert _keys(gdelt.GDELT, tw_home, offline=True) == ["2025-01-06"]
