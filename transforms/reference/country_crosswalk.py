"""Building the country crosswalk and the alias table from the library tables and the hand files.

The libraries (country_converter, pycountry, GeoNames) and data/reference/ are handed in as DataFrames by
pipelines/lib/reference.py; countries.py resolves names and codes through what is built here.
"""

from __future__ import annotations

import polars as pl

from transforms.reference.countries import (
    ALIAS_SCHEMA,
    CROSSWALK_SCHEMA,
    FIPS_CODES_SCHEMA,
    FIPS_SEPARATOR,
    FIPS_WITHOUT_COUNTRY,
    normalize_country_name,
)

# Columns of country_entities_extra.csv that fill or override what the libraries give.
_EXTRA_OVERRIDES = (
    "name", "iso2", "iso_numeric", "gw_code", "region", "continent", "valid_from", "valid_until", "regex"
)

def _year(column: str) -> pl.Expr:
    # Hand-file years: a typo must fail the build, not become an open-ended validity.
    return pl.col(column).cast(pl.String).str.strip_chars().cast(pl.Int32)


def build_country_crosswalk(
    coco: pl.DataFrame,
    iso: pl.DataFrame,
    extra_entities: pl.DataFrame,
    memberships: pl.DataFrame,
    cow_codes: pl.DataFrame | None = None,
    fips_codes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """countries.csv: pycountry's current countries plus the extra entities, enriched from coco, sorted by iso3."""
    extra = extra_entities.select("iso3", *(pl.col(c).alias(f"x_{c}") for c in _EXTRA_OVERRIDES))
    current = iso.filter(~pl.col("is_withdrawn"))
    # Withdrawn ISO 3166-3 codes enter only when the hand file asks for them (defence/conflict data use them).
    historic = iso.filter(pl.col("is_withdrawn") & pl.col("iso3").is_in(extra["iso3"].implode())).join(
        current, on="iso3", how="anti"
    )
    entities = pl.concat([current, historic]).select("iso3", "iso2", "iso_numeric", "name", "common_name")
    entities = pl.concat([entities, extra.select("iso3").join(entities, on="iso3", how="anti")], how="diagonal")
    coco_cols = coco.select(
        pl.col("ISO3").alias("iso3"),
        pl.col("name_short").alias("coco_name"),
        # coco's ISO2 is a regex for GBR and GRC (^GB$|^UK$); only plain codes are usable.
        pl.when(pl.col("ISO2").str.contains(r"^[A-Z]{2}$")).then(pl.col("ISO2")).alias("coco_iso2"),
        pl.col("ISOnumeric").alias("coco_numeric"),
        pl.col("GWcode").alias("coco_gw"),
        pl.col("UNregion").alias("coco_region"),
        pl.col("continent").alias("coco_continent"),
        pl.col("regex").alias("coco_regex"),
    )
    merged = entities.join(coco_cols, on="iso3", how="left").join(extra, on="iso3", how="left")
    duplicated = merged.filter(pl.col("iso3").is_duplicated())["iso3"].unique().sort().to_list()
    if duplicated:
        raise ValueError(f"duplicate iso3 in the crosswalk inputs: {duplicated}")
    # A value typed in the hand file wins over the libraries: it is there because they lack or miss it.
    crosswalk = merged.select(
        "iso3",
        pl.coalesce("x_name", "coco_name", "common_name", "name").alias("name"),
        pl.coalesce("x_iso2", "iso2", "coco_iso2").alias("iso2"),
        pl.coalesce("x_iso_numeric", "iso_numeric", "coco_numeric").str.zfill(3).alias("iso_numeric"),
        pl.coalesce(_year("x_gw_code"), _year("coco_gw")).alias("gw_code"),
        pl.lit(None, pl.Int32).alias("cow_code"),
        pl.lit(None, pl.String).alias("fips_code"),
        pl.coalesce("x_region", "coco_region").alias("region"),
        pl.coalesce("x_continent", "coco_continent").alias("continent"),
        _year("x_valid_from").alias("valid_from"),
        _year("x_valid_until").alias("valid_until"),
        pl.coalesce("x_regex", "coco_regex").alias("regex"),
    )
    missing = crosswalk.filter(pl.col("name").is_null())["iso3"].to_list()
    if missing:
        raise ValueError(f"entities without a name (not in pycountry or coco; give one in the hand file): {missing}")
    unknown = memberships.join(crosswalk, on="iso3", how="anti")["iso3"].to_list()
    if unknown:
        raise ValueError(f"memberships for iso3 codes not in the crosswalk: {unknown}")
    if cow_codes is not None:
        crosswalk = _with_cow_codes(crosswalk, cow_codes)
    if fips_codes is not None:
        crosswalk = _with_fips_codes(crosswalk, fips_codes)
    member_years = memberships.select(
        "iso3", *(_year(c).alias(c) for c in ("nato_member_since", "eu_member_since", "eu_member_until"))
    )
    return (
        crosswalk.join(member_years, on="iso3", how="left")
        .with_columns(pl.col("valid_until").is_not_null().alias("is_historical"))
        .select(CROSSWALK_SCHEMA.names())
        .cast(dict(CROSSWALK_SCHEMA))
        .sort("iso3")
    )


def _with_cow_codes(crosswalk: pl.DataFrame, cow_codes: pl.DataFrame) -> pl.DataFrame:
    """cow_code = gw_code, except where cow_codes.csv records a COW/GW difference (an empty code: no COW code)."""
    # COW and Gleditsch-Ward share most codes; the hand file lists only where they part (DEU 255 vs 260, ...).
    unknown = cow_codes.join(crosswalk, on="iso3", how="anti")["iso3"].to_list()
    if unknown:
        raise ValueError(f"cow_codes for iso3 codes not in the crosswalk: {unknown}")
    repeated = cow_codes.filter(pl.col("iso3").is_duplicated())["iso3"].unique().sort().to_list()
    if repeated:
        raise ValueError(f"cow_codes lists an iso3 more than once: {repeated}")
    overrides = cow_codes.select("iso3", _year("cow_code").alias("_cow"), pl.lit(True).alias("_listed"))
    return (
        crosswalk.join(overrides, on="iso3", how="left")
        .with_columns(pl.when(pl.col("_listed")).then(pl.col("_cow")).otherwise(pl.col("gw_code")).alias("cow_code"))
        .drop("_cow", "_listed")
    )


def combine_fips_codes(geonames: pl.DataFrame, hand: pl.DataFrame) -> pl.DataFrame:
    """FIPS code -> iso3 (null: no country) from GeoNames (fips_code, iso3), the hand file adding or overriding."""
    def codes(frame: pl.DataFrame, origin: str) -> pl.DataFrame:
        return frame.select(
            pl.col("fips_code").str.strip_chars().str.to_uppercase(),
            pl.col("iso3").str.strip_chars().replace("", None),
            pl.lit(origin).alias("origin"),
        ).filter(pl.col("fips_code").fill_null("") != "")

    hand_codes = codes(hand, "hand")
    for frame, what in ((hand_codes, "fips_codes.csv"), (codes(geonames, "geonames"), "the GeoNames table")):
        repeated = frame.filter(pl.col("fips_code").is_duplicated())["fips_code"].unique().sort().to_list()
        if repeated:
            raise ValueError(f"{what} lists a FIPS code more than once: {repeated}")
    without = set(hand_codes.filter(pl.col("iso3").is_null())["fips_code"].to_list())
    if without != FIPS_WITHOUT_COUNTRY:
        raise ValueError(
            f"fips_codes.csv rows without iso3 {sorted(without)} differ from FIPS_WITHOUT_COUNTRY "
            f"{sorted(FIPS_WITHOUT_COUNTRY)}: keep the two in step"
        )
    combined = pl.concat([hand_codes, codes(geonames, "geonames").join(hand_codes, on="fips_code", how="anti")])
    return combined.select(FIPS_CODES_SCHEMA.names()).cast(dict(FIPS_CODES_SCHEMA)).sort("fips_code")


def _with_fips_codes(crosswalk: pl.DataFrame, fips_codes: pl.DataFrame) -> pl.DataFrame:
    """fips_code = the entity's FIPS codes, GeoNames' first, then the hand file's in code order."""
    mapped = fips_codes.filter(pl.col("iso3").is_not_null())
    unknown = mapped.join(crosswalk, on="iso3", how="anti").select("fips_code", "iso3").rows()
    if unknown:
        raise ValueError(f"FIPS codes for iso3 codes not in the crosswalk (map them in fips_codes.csv): {unknown}")
    joined = (
        mapped.sort([pl.col("iso3"), pl.col("origin") != "geonames", pl.col("fips_code")])
        .group_by("iso3", maintain_order=True)
        .agg(pl.col("fips_code").str.join(FIPS_SEPARATOR).alias("_fips"))
    )
    return (
        crosswalk.join(joined, on="iso3", how="left")
        .with_columns(pl.col("_fips").alias("fips_code"))
        .drop("_fips")
    )


def library_country_names(coco: pl.DataFrame, iso: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    """Every ISO (name, official, common) and coco (short, official) name of the crosswalk's entities, long form."""
    iso_names = iso.select(
        "iso3", pl.col("name").alias("iso_name"), pl.col("official_name").alias("iso_official_name"),
        pl.col("common_name").alias("iso_common_name"),
    )
    coco_names = coco.select(
        pl.col("ISO3").alias("iso3"), pl.col("name_short").alias("coco_name_short"),
        pl.col("name_official").alias("coco_name_official"),
    )
    return (
        pl.concat([f.unpivot(index="iso3", variable_name="origin", value_name="name") for f in (iso_names, coco_names)])
        .filter(pl.col("name").is_not_null() & pl.col("iso3").is_in(crosswalk["iso3"].implode()))
        .select("iso3", "name", "origin")
    )


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("alias").map_elements(normalize_country_name, return_dtype=pl.String).alias("alias_key")
    ).filter(pl.col("alias_key") != "")


def build_country_alias_table(
    crosswalk: pl.DataFrame, aliases: pl.DataFrame, library_names: pl.DataFrame | None = None
) -> pl.DataFrame:
    """alias_key -> iso3 from crosswalk names, codes, library names and hand aliases; raises on unresolved clashes."""
    generated = [
        crosswalk.select(pl.col("name").alias("alias"), "iso3", pl.lit("crosswalk_name").alias("origin")),
        library_names.select(pl.col("name").alias("alias"), "iso3", "origin") if library_names is not None else None,
        crosswalk.select(pl.col("iso3").alias("alias"), "iso3", pl.lit("iso3").alias("origin")),
        # ISO 3166-3 re-issues alpha-2 codes (CS was Czechoslovakia, then Serbia and Montenegro): current ones only.
        crosswalk.filter(~pl.col("is_historical") & pl.col("iso2").is_not_null())
        .select(pl.col("iso2").alias("alias"), "iso3", pl.lit("iso2").alias("origin")),
    ]
    auto = _keyed(pl.concat([g for g in generated if g is not None]))
    auto = auto.unique(["alias_key", "iso3"], keep="first", maintain_order=True)
    hand = _keyed(aliases.select("alias", "iso3", pl.lit("hand").alias("origin")))
    # A hand alias with an empty iso3 marks a label that is not a country: it stays unmapped, never regex-matched.
    unknown = hand.filter(pl.col("iso3").is_not_null()).join(crosswalk, on="iso3", how="anti")["alias"].to_list()
    if unknown:
        raise ValueError(f"hand aliases point to iso3 codes not in the crosswalk: {unknown}")
    for frame, what in ((hand, "hand aliases"), (auto, "library names and codes")):
        clashes = frame.group_by("alias_key").agg(pl.col("iso3").unique().sort()).filter(pl.col("iso3").list.len() > 1)
        if what == "library names and codes":
            clashes = clashes.join(hand, on="alias_key", how="anti")
        if clashes.height:
            listed = "; ".join(f"{k!r} -> {', '.join(map(str, v))}" for k, v in clashes.sort("alias_key").iter_rows())
            raise ValueError(f"ambiguous {what} (add a hand alias to decide): {listed}")
    combined = pl.concat([hand, auto.join(hand, on="alias_key", how="anti")])
    return combined.select(ALIAS_SCHEMA.names()).unique("alias_key", maintain_order=True).sort("alias_key")
