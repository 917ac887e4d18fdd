"""A source's snapshot asset: fetch live, or offline use what is held (else the bundled samples).

A publisher's outage (or missing credentials) never fails the asset: the source carries on with its last
snapshot(s), or with none, loudly, through the `fetch_succeeded` warning check.
"""

from dataclasses import dataclass
from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.lib.acquire import AcquiredSnapshot, acquire_snapshot, register_event_sample
from pipelines.lib.asset_metadata import asset_owners, asset_tags
from pipelines.lib.credentials import MissingCredentialsError
from pipelines.lib.http import FetchError
from pipelines.lib.resources import HttpClientResource, SnapshotStoreResource
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore, has_real
from pipelines.lib.source_registry import source_info
from pipelines.lib.source_spec import FetchRequest, SnapshotConfig, SourceSpec, event_window
from pipelines.lib.validation import warm_up


@dataclass(frozen=True)
class Acquisition:
    """What a snapshot asset reports: its metadata, and the fetch problem if there was one."""

    metadata: dict
    summary: str
    problem: str | None = None


def build_snapshot_asset(spec: SourceSpec) -> AssetsDefinition:
    """The snapshot asset of a source, on the source's partitions if it has them (one run per range)."""
    kept = "the last snapshots were kept" if spec.partitioned else "the last snapshot was kept"

    @asset(
        key=spec.snapshot_key,
        group_name=spec.group,
        kinds={"http"},
        partitions_def=spec.partitions_def,
        backfill_policy=BackfillPolicy.single_run() if spec.partitioned else None,
        freshness_policy=FreshnessPolicy.time_window(
            fail_window=timedelta(days=spec.fresh_days + 1), warn_window=timedelta(days=spec.fresh_days)),
        check_specs=[AssetCheckSpec("fetch_succeeded", asset=spec.snapshot_key,
                                    description=f"The publisher answered; a failure means {kept}.")],
        description=spec.description,
        owners=asset_owners(spec.group),
        tags=asset_tags("snapshot", spec.group, spec.source),
    )
    def snapshot_asset(context: AssetExecutionContext, config: SnapshotConfig, http: HttpClientResource,
                       snapshots: SnapshotStoreResource):
        if spec.partitioned:
            warm_up()  # staging and its blocking GX check follow in this process: GX imports while we fetch
        acquire = _acquire_window if spec.partitioned else _acquire_latest
        got = acquire(spec, context, config, http, snapshots.store())
        yield MaterializeResult(metadata=got.metadata)
        yield AssetCheckResult(check_name="fetch_succeeded", passed=got.problem is None,
                               severity=AssetCheckSeverity.WARN, description=got.problem or got.summary)

    return snapshot_asset


def _acquire_latest(spec: SourceSpec, context: AssetExecutionContext, config: SnapshotConfig,
                    http: HttpClientResource, store: SnapshotStore) -> Acquisition:
    """Unpartitioned: the one snapshot a run stages (fetched, unchanged, the latest held or the sample)."""
    try:
        acquired = acquire_snapshot(
            store, spec.source, offline=http.offline,
            fetch=lambda draft: spec.fetch(FetchRequest(http.client(), store, source_info(spec.source).base_url(),
                                                        config, draft=draft)),
            sample_groups=lambda: spec.samples(config),
        )
        problem = None
    except (FetchError, MissingCredentialsError) as exc:
        latest = store.latest(spec.source)
        acquired = AcquiredSnapshot(latest, "kept (fetch failed)") if latest else None
        problem = str(exc)
        context.log.warning(f"{spec.source}: {problem}; " + (
            f"keeping snapshot {latest.snapshot_id}" if latest else "no snapshot yet, the source is skipped"))
    if acquired is None:
        return Acquisition({"how": "skipped", "problem": problem}, "skipped", problem)
    m = acquired.manifest
    context.log.info(f"{spec.source} snapshot {m.snapshot_id} ({acquired.how}, {len(m.files)} files)")
    return Acquisition(_snapshot_metadata(m, acquired.how, acquired.created),
                       f"{acquired.how}: snapshot {m.snapshot_id}", problem)


def _snapshot_metadata(m: Manifest, how: str, created: bool) -> dict:
    return {
        "snapshot_id": m.snapshot_id,
        "how": how,
        "new_snapshot": created,
        "origin": m.origin,
        "retrieved_at": m.retrieved_at,
        "files": len(m.files),
        "bytes": sum(f.bytes for f in m.files),
        "licence": m.licence,
        "file_list": MetadataValue.md(
            "\n".join(f"- `{f.name}` {f.bytes} B sha256 `{(f.sha256 or '')[:16]}…` <{f.url}>" for f in m.files)
        ),
    }


def _acquire_window(spec: SourceSpec, context: AssetExecutionContext, config: SnapshotConfig,
                    http: HttpClientResource, store: SnapshotStore) -> Acquisition:
    """Partitioned: the snapshots a run's range needs (offline: the samples while nothing real is held)."""
    window = event_window(context)
    problem = None
    if http.offline:
        real = has_real(store.list(spec.source))
        manifests = [] if real else [register_event_sample(store, spec.source, group, spec.sample_params())
                                     for group in spec.samples(config)]
        how = "offline: existing snapshots" if real else "sample"
    else:
        try:
            request = FetchRequest(http.client(), store, source_info(spec.source).base_url(), config, window)
            manifests, how = spec.fetch(request), "fetched"
        except (FetchError, MissingCredentialsError) as exc:
            manifests = getattr(exc, "manifests", [])
            how, problem = "partly fetched" if manifests else "kept (fetch failed)", str(exc)
            context.log.warning(f"{spec.source}: {problem}; partitions {window.partitions[0]}…"
                                f"{window.partitions[-1]} keep their last snapshots")
    context.log.info(f"{spec.source}: {len(manifests)} snapshots for {len(window.partitions)} partitions ({how})")
    metadata = {
        "how": how,
        "snapshot_id": max((m.snapshot_id for m in manifests), default="none"),
        "snapshot_ids": MetadataValue.json(sorted({m.snapshot_id for m in manifests})),
        "files": sum(len(m.files) for m in manifests),
        "bytes": sum(f.bytes for m in manifests for f in m.files),
        "licence": source_info(spec.source).licence,
        "partitions": f"{window.partitions[0]} … {window.partitions[-1]} ({len(window.partitions)})",
        **({"problem": problem} if problem else {}),
    }
    return Acquisition(metadata, f"{how}: {len(manifests)} snapshots", problem)
