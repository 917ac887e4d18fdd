"""The conformed columns every conflict-event source stages (core.fct_conflict_event).

A source's staged table holds these columns (in this order, these types) and may add its own after them;
core.fct_conflict_event selects only these, so a source-specific column never leaks into the conformed model.
"""

from __future__ import annotations

import polars as pl

EVENT_COLUMNS = pl.Schema(
    {
        "event_id": pl.Utf8,  # source-prefixed: "ucdp_ged:123456", "acled:BEN1234", "gdelt:1217480000"
        "source": pl.Utf8,  # ucdp_ged | acled | gdelt
        "source_event_id": pl.Utf8,  # the publisher's own id, as text
        "source_kind": pl.Utf8,  # verified_event (UCDP, ACLED: coded by researchers) | media_coded (GDELT)
        "event_date": pl.Date,  # first day of the event (UCDP date_start, ACLED event_date, GDELT SQLDATE)
        "event_date_end": pl.Date,  # last day where the publisher gives a span (UCDP date_end), else = event_date
        "date_precision": pl.Utf8,  # day | week | month | year | range (publisher code mapped, raw kept in extras)
        "country_code_published": pl.Utf8,  # the publisher's country code as text: GW (UCDP), ISO numeric (ACLED), FIPS (GDELT)
        "country_name": pl.Utf8,  # the publisher's country name, as written (null where it gives none)
        "iso3": pl.Utf8,  # resolved through the crosswalk; null only where the code has no country (e.g. oceans)
        "admin1": pl.Utf8,
        "location": pl.Utf8,
        "latitude": pl.Float64,  # null where the publisher has no coordinates (GDELT geo type 0)
        "longitude": pl.Float64,
        "source_event_type": pl.Utf8,  # UCDP type_of_violence code, ACLED event_type, GDELT EventRootCode
        "source_sub_event_type": pl.Utf8,  # ACLED sub_event_type, GDELT EventCode; null for UCDP
        "actor1": pl.Utf8,  # UCDP side_a, ACLED actor1, GDELT Actor1Name
        "actor2": pl.Utf8,
        "fatalities_best": pl.Int64,  # UCDP best, ACLED fatalities; null for GDELT (it counts no deaths)
        "fatalities_low": pl.Int64,  # UCDP low; ACLED and GDELT null (one figure only)
        "fatalities_high": pl.Int64,
        "release": pl.Utf8,  # the publisher's version where it has one (UCDP "23.1", candidate "26.0.7"), else null
        "source_file": pl.Utf8,  # the file name inside the snapshot the row came from
    }
)

SOURCE_KINDS = ("verified_event", "media_coded")
DATE_PRECISIONS = ("day", "week", "month", "year", "range")


def empty_events(extra: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """An empty frame in the conformed shape (plus a source's extra columns)."""
    return pl.DataFrame(schema={**EVENT_COLUMNS, **(extra or {})})


def conform_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast the conformed columns to their types and put them first; extra columns follow unchanged."""
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"conformed conflict-event columns missing: {missing}")
    extras = [c for c in frame.columns if c not in EVENT_COLUMNS]
    return frame.select([pl.col(c).cast(t) for c, t in EVENT_COLUMNS.items()] + extras)
