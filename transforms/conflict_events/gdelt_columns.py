"""The columns of a GDELT 2.0 export file and of GDELT's staged table (the reader is gdelt.py)."""

from __future__ import annotations

import polars as pl


def _actor(n: int) -> list[str]:
    return [
        f"Actor{n}Code", f"Actor{n}Name", f"Actor{n}CountryCode", f"Actor{n}KnownGroupCode", f"Actor{n}EthnicCode",
        f"Actor{n}Religion1Code", f"Actor{n}Religion2Code", f"Actor{n}Type1Code", f"Actor{n}Type2Code",
        f"Actor{n}Type3Code",
    ]


def _geo(prefix: str) -> list[str]:
    return [
        f"{prefix}_Type", f"{prefix}_FullName", f"{prefix}_CountryCode", f"{prefix}_ADM1Code", f"{prefix}_ADM2Code",
        f"{prefix}_Lat", f"{prefix}_Long", f"{prefix}_FeatureID",
    ]


# The GDELT 2.0 Event codebook's 61 columns, in file order.
GDELT_EVENT_COLUMNS: tuple[str, ...] = (
    "GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate",
    *_actor(1), *_actor(2),
    "IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass", "GoldsteinScale",
    "NumMentions", "NumSources", "NumArticles", "AvgTone",
    *_geo("Actor1Geo"), *_geo("Actor2Geo"), *_geo("ActionGeo"),
    "DATEADDED", "SOURCEURL",
)
assert len(GDELT_EVENT_COLUMNS) == 61

EXTRA_SCHEMA = pl.Schema(
    {
        "global_event_id": pl.Int64,
        "date_added": pl.Datetime("us", "UTC"),
        "actor1_code": pl.Utf8,
        "actor1_country_code": pl.Utf8,  # CAMEO country code (3 letters), not ISO
        "actor2_code": pl.Utf8,
        "actor2_country_code": pl.Utf8,
        "is_root_event": pl.Boolean,
        "event_code": pl.Utf8,
        "event_base_code": pl.Utf8,
        "event_root_code": pl.Utf8,
        "quad_class": pl.Int8,
        "goldstein_scale": pl.Float32,
        "num_mentions": pl.Int32,
        "num_sources": pl.Int32,
        "num_articles": pl.Int32,
        "avg_tone": pl.Float32,
        "action_geo_type": pl.Int8,
        "action_geo_feature_id": pl.Utf8,  # numeric GNS ids (can be negative) or ADM1/country codes: text
        "source_url": pl.Utf8,
    }
)
REJECTED_SCHEMA = pl.Schema(
    {**{c: pl.Utf8 for c in GDELT_EVENT_COLUMNS}, "source_file": pl.Utf8, "line": pl.Int64, "reason": pl.Utf8}
)
