"""World Bank military indicators: snapshot → staged Parquet → blocking GX checks (DESIGN §1–§3)."""


from datetime import timedelta
from typing import Literal

import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)

from pipelines.acquire import acquire_snapshot
from pipelines.assets.metadata import frame_preview, frame_schema
from pipelines.config import SAMPLES_DIR
from pipelines.lake import Lake
from pipelines.reference import load_country_crosswalk, load_value_exceptions
from pipelines.resources import HttpClientResource, LakeResource, SnapshotStoreResource
from pipelines.snapshots import SnapshotStore
from pipelines.sources.registry import source_info
from pipelines.sources.worldbank import fetch_worldbank_snapshot
from pipelines.staged_tables import STG_WORLDBANK, STG_WORLDBANK_AGGREGATE, StagedTable
from pipelines.suites.worldbank import stg_worldbank_aggregate_suite, stg_worldbank_suite
from pipelines.validation import ValidationReport, run_suite
from transforms.reference.countries import unmapped_country_names
from transforms.defense_spending.worldbank import read_worldbank_snapshot, stage_worldbank
from transforms.errors import SourceFormatError
from transforms.quarantine import to_quarantine_records

SOURCE = "worldbank"
GROUP = "defense_spending"
SNAPSHOT_KEY = AssetKey(["snapshot", SOURCE])
STG_KEY = AssetKey(["staging", STG_WORLDBANK.name])
STG_AGGREGATE_KEY = AssetKey(["staging", STG_WORLDBANK_AGGREGATE.name])


class WorldBankSnapshotConfig(Config):
    """How to fetch live: API v2 JSON pages (default) or the bulk CSV zips."""

    format: Literal["api", "bulk"] = "api"
    per_page: int = 20000


@asset(
    key=SNAPSHOT_KEY,
    group_name=GROUP,
    kinds={"http"},
    # The weekly schedule looks every Monday; a look missed by more than a day is worth a warning.
    freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(days=9), warn_window=timedelta(days=8)),
    description="Immutable raw snapshot of the World Bank WDI military indicators (API v2 JSON or bulk CSV).",
)
def worldbank_snapshot(
    context: AssetExecutionContext,
    config: WorldBankSnapshotConfig,
    http: HttpClientResource,
    snapshots: SnapshotStoreResource,
) -> MaterializeResult:
    store = snapshots.store()
    acquired = acquire_snapshot(
        store,
        SOURCE,
        offline=http.offline,
        fetch=lambda draft: fetch_worldbank_snapshot(
            http.client(), draft, source_info(SOURCE).base_url(), fmt=config.format, per_page=config.per_page
        ),
        sample_files=lambda: sorted((SAMPLES_DIR / SOURCE / config.format).iterdir()),
    )
    m = acquired.manifest
    context.log.info(f"worldbank snapshot {m.snapshot_id} ({acquired.how}, {len(m.files)} files)")
    return MaterializeResult(
        metadata={
            "snapshot_id": m.snapshot_id,
            "how": acquired.how,
            "new_snapshot": acquired.created,
            "origin": m.origin,
            "retrieved_at": m.retrieved_at,
            "files": len(m.files),
            "bytes": sum(f.bytes for f in m.files),
            "licence": m.licence,
            "file_list": MetadataValue.md("\n".join(f"- `{f.name}` {f.bytes} B sha256 `{f.sha256[:16]}…` <{f.url}>" for f in m.files)),
        }
    )


def _stage_latest(store: SnapshotStore) -> "tuple[str, pl.DataFrame, pl.DataFrame, pl.DataFrame]":
    manifest = store.latest(SOURCE)
    if manifest is None:
        raise RuntimeError(f"[{SOURCE}] no snapshot in {store.root}: materialize snapshot/{SOURCE} first")
    files = [store.file_path(manifest, f.name) for f in manifest.files]
    try:
        observations, country_meta = read_worldbank_snapshot(files)
    except SourceFormatError as exc:
        raise exc.with_snapshot(manifest.snapshot_id) from exc
    known = load_country_crosswalk().select("iso3")
    countries, aggregates, rejected = stage_worldbank(observations, country_meta, known, manifest.snapshot_id)
    return manifest.snapshot_id, countries, aggregates, rejected


@multi_asset(
    specs=[
        AssetSpec(STG_KEY, deps=[SNAPSHOT_KEY], group_name=GROUP, kinds={"polars", "parquet"},
                  description="World Bank country values, long format, resolved to ISO3; aggregates excluded."),
        AssetSpec(STG_AGGREGATE_KEY, deps=[SNAPSHOT_KEY], group_name=GROUP, kinds={"polars", "parquet"},
                  description="World Bank regional and income-group aggregates, kept apart from countries."),
    ]
)
def worldbank_staging(snapshots: SnapshotStoreResource, lake: LakeResource):
    snapshot_id, countries, aggregates, rejected = _stage_latest(snapshots.store())
    store_lake = lake.lake()
    store_lake.write(STG_WORLDBANK.name, snapshot_id, countries)
    store_lake.write_quarantine(
        STG_WORLDBANK.name, snapshot_id, to_quarantine_records(rejected, source=SOURCE, table=STG_WORLDBANK.name)
    )
    store_lake.write(STG_WORLDBANK_AGGREGATE.name, snapshot_id, aggregates)
    for key, frame, quarantined in ((STG_KEY, countries, rejected.height), (STG_AGGREGATE_KEY, aggregates, 0)):
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "snapshot_id": snapshot_id,
                "dagster/row_count": frame.height,
                "quarantined_rows": quarantined,
                "preview": frame_preview(frame),
                "dagster/column_schema": frame_schema(frame).value,
            },
        )


def _materialized_snapshot(context: AssetCheckExecutionContext, key: AssetKey) -> str:
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        raise RuntimeError(f"{key.to_user_string()} has not been materialized")
    return event.asset_materialization.metadata["snapshot_id"].value


def _previous_rows(lake: Lake, table: StagedTable, snapshot_id: str) -> int | None:
    for previous in reversed(lake.snapshots(table.name)):
        report = lake.validation(table.name, previous)
        if previous != snapshot_id and report is not None and report.success:
            return report.row_count
    return None


def check_result(report: ValidationReport, extra: str = "") -> AssetCheckResult:
    """A GX report as a Dagster check result: failed expectations and sample values in the UI."""
    failures = report.failures()
    description = report.summary() if failures else f"{len(report.outcomes)} expectations passed"
    return AssetCheckResult(
        passed=report.success,
        severity=AssetCheckSeverity.ERROR,
        description=(extra + "\n" + description).strip(),
        metadata={
            "snapshot_id": report.snapshot_id,
            "row_count": report.row_count,
            "expectations": len(report.outcomes),
            "failed_expectations": len(failures),
            "failures": MetadataValue.md("\n".join(f"- {line}" for line in report.summary().splitlines()) or "none"),
        },
    )


def _validate(context, lake_resource: LakeResource, table: StagedTable, key: AssetKey, suite_for) -> AssetCheckResult:
    lake = lake_resource.lake()
    snapshot_id = _materialized_snapshot(context, key)
    frame = lake.read(table.name, snapshot_id)
    expectations, frame, extra = suite_for(frame, _previous_rows(lake, table, snapshot_id))
    report = run_suite(frame, suite=f"{table.name}_suite", table=table.name, snapshot_id=snapshot_id,
                       expectations=expectations, docs_dir=lake_resource.paths().validation_docs)
    lake.record_validation(table.name, snapshot_id, report)
    if not report.success:
        context.log.error(f"[{table.source}] snapshot {snapshot_id}, {table.name}: {extra or report.summary()}")
    return check_result(report, extra)


def _country_suite(frame: pl.DataFrame, previous_rows: int | None):
    known = load_country_crosswalk()["iso3"].to_list()
    # Shares are checked on their own column so the 0–100 rule never touches dollars or persons,
    # and reviewed real outliers (data/reference/value_exceptions.csv) are exempt from it.
    exempt = load_value_exceptions().select("iso3", "year", "measure", exempt=pl.lit(True))
    frame = (
        frame.join(exempt, on=["iso3", "year", "measure"], how="left")
        .with_columns(share_value=pl.when((pl.col("unit") == "percent") & pl.col("exempt").is_null()).then(pl.col("value")))
        .drop("exempt")
    )
    labelled = frame.with_columns(label=pl.format("{} ({})", "country_name", "country_code"))
    unmapped = unmapped_country_names(labelled, "label")
    extra = f"unmapped countries, not in the crosswalk: {', '.join(unmapped)}" if unmapped else ""
    return stg_worldbank_suite(known, previous_rows), frame, extra


@asset_check(asset=STG_KEY, name="gx_stg_worldbank", blocking=True,
             description="Great Expectations suite on the staged World Bank country rows.")
def gx_stg_worldbank(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
    return _validate(context, lake, STG_WORLDBANK, STG_KEY, _country_suite)


@asset_check(asset=STG_AGGREGATE_KEY, name="gx_stg_worldbank_aggregate", blocking=True,
             description="Great Expectations suite on the staged World Bank aggregates.")
def gx_stg_worldbank_aggregate(context: AssetCheckExecutionContext, lake: LakeResource) -> AssetCheckResult:
    return _validate(context, lake, STG_WORLDBANK_AGGREGATE, STG_AGGREGATE_KEY,
                     lambda frame, prev: (stg_worldbank_aggregate_suite(prev), frame, ""))


ASSETS = [worldbank_snapshot, worldbank_staging]
CHECKS = [gx_stg_worldbank, gx_stg_worldbank_aggregate]
