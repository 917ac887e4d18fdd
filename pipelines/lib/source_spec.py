"""What a source module says about itself: one `SourceSpec`, partitioned or not, for one factory.

Every source is the same three steps: a snapshot asset (fetch live, or offline the held snapshots and
else the bundled samples), staging (snapshot files -> staged Parquet tables plus quarantined rows) and one
blocking GX check per staged table. A spec with `partitions_def` (the event sources) stages one table split
into months or days by `partition_column`; one without stages each snapshot whole into its `outputs`.
`pipelines.lib.source_assets.build_source_assets` turns a spec into Dagster definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

import polars as pl
from dagster import AssetExecutionContext, AssetKey, Config, MonthlyPartitionsDefinition, TimeWindowPartitionsDefinition

from pipelines.lib.config import SAMPLES_DIR
from pipelines.lib.http import FetchError
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.staged_tables import StagedTable
from pipelines.lib.validation import Expect

# A run tagged so adds new snapshots to its partitions instead of replacing them (the GDELT sensor's runs).
INCREMENTAL_TAG = "threatwatch/incremental"
# The tags of a single-run backfill over a partition range (Dagster's own names).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# A range run's staged rows over all its partitions; each partition's materialization has its own row count
# (an empty partition says 0, never the run's total).
ROWS_IN_RUN = "rows_in_run"


def run_rows(metadata: dict) -> dict:
    """A staging materialization's metadata with `dagster/row_count` of the whole run, for a run summary."""
    return {**metadata, "dagster/row_count": metadata[ROWS_IN_RUN]} if ROWS_IN_RUN in metadata else metadata


class SnapshotConfig(Config):
    """Per-run options of a snapshot asset; each source reads those it needs."""

    # What the source says: worldbank api | bulk; eurepoc bulk | api; ucdp_ged bulk | candidate | api;
    # gdelt masterfilelist | lastupdate.
    format: str = "default"
    per_page: int = 20000  # World Bank API page size
    version: str = ""  # a publisher's release where it numbers them (UCDP "25.1", candidate "26.0.7"); empty: default
    files: list[str] = []  # GDELT: export URLs the sensor saw in lastupdate.txt (empty: the whole range)


@dataclass(frozen=True)
class EventWindow:
    """The partitions one run covers: [start, end) in UTC and their keys."""

    start: datetime
    end: datetime
    partitions: tuple[str, ...]


def event_window(context: AssetExecutionContext) -> EventWindow:
    """The run's partition range as a window."""
    window = context.partition_time_window
    return EventWindow(window.start.astimezone(timezone.utc), window.end.astimezone(timezone.utc),
                       tuple(context.partition_keys))


@dataclass(frozen=True)
class FetchRequest:
    """What a live fetch gets. Unpartitioned: `draft` to fill (the factory commits it). Partitioned: the
    run's `window`, and the `store` to commit one or more snapshots into itself."""

    client: object
    store: SnapshotStore
    base_url: str
    config: SnapshotConfig
    window: Optional[EventWindow] = None
    draft: Optional[SnapshotDraft] = None


class PartialFetchError(FetchError):
    """Some files of a range were refused; `manifests` are the snapshots that did arrive."""

    def __init__(self, *args, manifests: list[Manifest], **kwargs):
        super().__init__(*args, **kwargs)
        self.manifests = manifests


# A suite builder: (staged frame, previous validated row count or None) -> (expectations, frame to validate, note).
SuiteBuilder = Callable[[pl.DataFrame, Optional[int]], "tuple[list[Expect], pl.DataFrame, str]"]
# Unpartitioned: (snapshot files, snapshot id) -> {table name: (staged frame, rejected rows with `reason`)}.
Stager = Callable[[list[Path], str], "dict[str, tuple[pl.DataFrame, pl.DataFrame]]"]
# Partitioned: (snapshot files, country crosswalk, manifest) -> (staged frame, rejected rows) of its one table.
Reader = Callable[[list[Path], pl.DataFrame, Manifest], "tuple[pl.DataFrame, pl.DataFrame]"]
# Partitioned, optional: many snapshots' (files, manifest) at once -> what Reader gives for each, in order.
ManyReader = Callable[[list["tuple[list[Path], Manifest]"], pl.DataFrame], "list[tuple[pl.DataFrame, pl.DataFrame]]"]


@dataclass(frozen=True)
class StagedOutput:
    """One staged table of a source, with its description and its validation suite."""

    table: StagedTable
    description: str
    suite: SuiteBuilder

    @property
    def key(self) -> AssetKey:
        return AssetKey(["staging", self.table.name])


@dataclass(frozen=True)
class SourceSpec:
    """Everything the factory needs to know about a source (module docstring)."""

    source: str
    group: str
    description: str
    # Live. Unpartitioned: fills request.draft. Partitioned: commits snapshots and returns them.
    fetch: Callable[[FetchRequest], object]
    # Offline, while the source holds no real snapshot: the bundled files, each inner list one snapshot.
    samples: Callable[[SnapshotConfig], list[list[Path]]]
    outputs: tuple[StagedOutput, ...]
    fresh_days: int  # a scheduled look older than this is late
    stage: Optional[Stager] = None  # unpartitioned only
    # Partitioned only: the partitions, the Date/Datetime column whose month or day is a row's partition,
    # and how to read a snapshot's files.
    partitions_def: Optional[TimeWindowPartitionsDefinition] = None
    partition_column: str = ""
    read: Optional[Reader] = None
    # Reads many small snapshots in one pass (GDELT: a 15-minute file is 2,500 rows); None: `read` one by one.
    read_many: Optional[ManyReader] = None
    # The partitions a snapshot's files cover without reading them (GDELT: from the file name); None: read to know.
    file_partitions: Callable[[list[str]], Optional[list[str]]] = lambda names: None
    # Per-file params a sample snapshot records as a fetch would (GDELT: the master list's md5 and size).
    sample_params: Callable[[], dict[str, dict]] = dict

    def __post_init__(self):
        if self.partitions_def is None:
            if self.stage is None:
                raise ValueError(f"{self.source}: an unpartitioned source needs `stage`")
        elif self.read is None or not self.partition_column or len(self.outputs) != 1:
            raise ValueError(f"{self.source}: a partitioned source needs `read`, `partition_column` and one output")

    @property
    def partitioned(self) -> bool:
        return self.partitions_def is not None

    @property
    def snapshot_key(self) -> AssetKey:
        return AssetKey(["snapshot", self.source])

    @property
    def table(self) -> StagedTable:
        """The staged table of a partitioned source (its only output)."""
        return self.outputs[0].table

    @property
    def staging_key(self) -> AssetKey:
        return self.outputs[0].key

    @property
    def monthly(self) -> bool:
        return isinstance(self.partitions_def, MonthlyPartitionsDefinition)

    def partition_key(self, column: str) -> pl.Expr:
        """The partition key of each row, as Dagster spells it (2024-03-01 for a month, a day for a day)."""
        day = pl.col(column).cast(pl.Date)
        return (day.dt.truncate("1mo") if self.monthly else day).dt.strftime("%Y-%m-%d")


def sample_dir_files(source: str, subdir: str = "") -> list[Path]:
    """The bundled sample files of a source (data/samples/<source>/[subdir]), sorted."""
    folder = SAMPLES_DIR / source / subdir
    return sorted(p for p in folder.iterdir() if p.is_file())


def page_order(path: Path) -> tuple[str, int]:
    """Sort API page files by their page number (`…_p10.json` after `…_p2.json`), not alphabetically."""
    stem, _, number = path.stem.rpartition("_p")
    return (stem, int(number)) if number.isdigit() else (path.stem, -1)
