"""What every military-expenditure suite shares: the share-of-GDP range with reviewed exceptions, unmapped names."""

from __future__ import annotations

import polars as pl

from pipelines.lib.reference import load_value_exceptions
from transforms.reference.countries import unmapped_country_names


def with_share_value(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `share_value`: shares to hold to 0–100, minus reviewed real outliers (value_exceptions.csv)."""
    # A column of its own, so the 0–100 rule never touches dollars, persons or real change in percent.
    exempt = load_value_exceptions().select("iso3", "year", "measure", exempt=pl.lit(True))
    return (
        frame.join(exempt, on=["iso3", "year", "measure"], how="left")
        .with_columns(
            share_value=pl.when(
                (pl.col("unit") == "percent") & pl.col("measure").str.contains("share") & pl.col("exempt").is_null()
            ).then(pl.col("value"))
        )
        .drop("exempt")
    )


def unmapped_countries_note(frame: pl.DataFrame, label: pl.Expr) -> str:
    """A sentence naming every country the crosswalk could not resolve (iso3 null), or ''."""
    unmapped = unmapped_country_names(frame.with_columns(label=label), "label")
    return f"unmapped countries, not in the crosswalk: {', '.join(unmapped)}" if unmapped else ""
