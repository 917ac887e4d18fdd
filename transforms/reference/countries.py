"""The one country crosswalk every source resolves through (built in country_crosswalk.py), and the name/code resolvers.

Pure Polars: the library tables (country_converter's TSV, pycountry) and the hand files in
data/reference/ are handed in as DataFrames by pipelines/lib/reference.py.

Validity years are inclusive and count partial years, so in a transition year both states are
valid (YUG 1918-1992, SCG 1992-2006, SRB 2006-). Year-aware resolution of a name:
  1. the exact alias match, if it is valid that year;
  2. else, among the exact match and every entity whose regex matches, those valid that year;
     if several, the one whose validity ends first (the year began under the outgoing state);
  3. else null: an entity is never returned outside its validity years.
Codes shared by successive entities (GW 365 = SUN then RUS; ISO2 CS = CSK then SCG) follow step 2;
without a year they mean the one current entity, if there is exactly one.
The hand-written regexes of the historical entities say which later names they cover, e.g. SCG's
`serbia|yugoslav`: 'Serbia' 2000 -> SCG (SIPRI: "figures up to 2005 are for the State Union of
Serbia and Montenegro"), 'Serbia (Yugoslavia)' 1989 -> YUG, 'Russia (Soviet Union)' 1989 -> SUN.

Decisions recorded in data/reference/country_entities_extra.csv: YUG is the SFRY (to 1992) and SCG
covers FRY + State Union (1992-2006), although ISO kept the code YUG for the FRY until 2003; North
Yemen is the non-ISO code YAR (ISO kept YE/YEM for unified Yemen), South Vietnam likewise RVN;
RUS starts in 1992 so that 1991, the USSR's last year, stays Soviet.

FIPS 10-4 (GDELT's *Geo_CountryCode): `fips_code` holds every FIPS code of an entity, ';'-joined, the
GeoNames code first, then those of data/reference/fips_codes.csv, which adds what GeoNames lacks (FIPS splits
some ISO entities: Palestine = WE;GZ, the US minor islands and the Iles Eparses have a code each) and lists the
codes that name no entity of the crosswalk (FIPS_WITHOUT_COUNTRY: oceans, disputed islands, ...).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

CROSSWALK_SCHEMA = pl.Schema(
    {
        "iso3": pl.String,
        "name": pl.String,
        "iso2": pl.String,
        "iso_numeric": pl.String,
        "gw_code": pl.Int32,
        "cow_code": pl.Int32,
        "fips_code": pl.String,  # FIPS 10-4, ';'-joined where FIPS has several codes for the entity
        "region": pl.String,
        "continent": pl.String,
        "nato_member_since": pl.Int32,
        "eu_member_since": pl.Int32,
        "eu_member_until": pl.Int32,
        "valid_from": pl.Int32,
        "valid_until": pl.Int32,
        "is_historical": pl.Boolean,
        "regex": pl.String,
    }
)
ALIAS_SCHEMA = pl.Schema({"alias_key": pl.String, "iso3": pl.String, "origin": pl.String})
CODE_SCHEMES = ("iso3", "iso2", "iso_numeric", "gw_code", "cow_code", "fips")
# The crosswalk column of a scheme whose name differs from it.
_SCHEME_COLUMNS = {"fips": "fips_code"}
FIPS_SEPARATOR = ";"
FIPS_CODES_SCHEMA = pl.Schema({"fips_code": pl.String, "iso3": pl.String, "origin": pl.String})
# FIPS 10-4 codes that name no entity of the crosswalk, each documented in data/reference/fips_codes.csv
# (empty iso3 there): a GDELT event coded to one keeps a null iso3 and is not rejected.
FIPS_WITHOUT_COUNTRY = frozenset({"AX", "DX", "NT", "OS", "PF", "PG"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'"})
# Footnote symbols, numbered footnotes, NATO's '*' and stray quotes that publishers glue to names.
_TRAILING_MARKS = re.compile(r"[\s*\u2020\u2021\u00a7\u00b6\u2016\d\"]+$")


def normalize_country_name(name: str) -> str:
    """The alias-lookup key: NFKC, straight apostrophes, no diacritics, casefolded, one space, no trailing marks."""
    text = unicodedata.normalize("NFKC", name.translate(_APOSTROPHES))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = " ".join(text.casefold().split())
    return _TRAILING_MARKS.sub("", text).lstrip('" ')


def _data_year(column: str) -> pl.Expr:
    # A publisher's year column (text or number); an unreadable year falls back to the name-only rule.
    return pl.col(column).cast(pl.Int32, strict=False)


@lru_cache(maxsize=8)
def _compile(patterns: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # coco's regexes use look-arounds, which Polars' Rust regex engine lacks: Python's re does the matching.
    return tuple((iso3, re.compile(p, re.IGNORECASE)) for iso3, p in patterns)


def _valid_in(year: pl.Expr) -> pl.Expr:
    return (pl.col("valid_from").is_null() | (pl.col("valid_from") <= year)) & (
        pl.col("valid_until").is_null() | (year <= pl.col("valid_until"))
    )


def _pick_by_year(candidates: pl.DataFrame, keys: list[str], year: str) -> pl.DataFrame:
    """Per key group, the candidate valid in `year`: exact match first, else the one ending first, else null."""
    ranked = candidates.filter(_valid_in(pl.col(year))).sort(
        [*keys, "_is_exact", "valid_until"], descending=[*(False for _ in keys), True, False], nulls_last=True
    )
    alone_at_top = pl.col("valid_until").eq_missing(pl.col("valid_until").first()).sum() == 1
    return ranked.group_by(keys, maintain_order=True).agg(
        pl.when(pl.col("_is_exact").first() | alone_at_top).then(pl.col("_cand").first()).alias("iso3")
    )


def _attach(df: pl.DataFrame, resolved: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    if "iso3" in df.columns:
        raise ValueError("the frame already has an iso3 column; rename it before resolving")
    return df.join(resolved.select(*on, "iso3"), on=on, how="left", nulls_equal=True, maintain_order="left")


def resolve_country_names(
    df: pl.DataFrame, name_col: str, aliases: pl.DataFrame, crosswalk: pl.DataFrame, year_col: str | None = None
) -> pl.DataFrame:
    """Add iso3 (null where unmapped): exact alias key, else the one matching regex; year-aware with year_col."""
    lookup = dict(zip(aliases["alias_key"].to_list(), aliases["iso3"].to_list()))
    patterns = _compile(tuple(crosswalk.select("iso3", "regex").drop_nulls().iter_rows()))
    bounded = set(crosswalk.filter(pl.any_horizontal(pl.col("valid_from", "valid_until").is_not_null()))["iso3"])
    names, exacts, matches = [], [], []
    for name in df.get_column(name_col).drop_nulls().unique().to_list():
        key = normalize_country_name(name)
        exact = lookup.get(key)
        # Regexes only where needed: no alias at all, or a time-bounded hit that a year may overrule.
        scan = key not in lookup or (year_col is not None and exact in bounded)
        names.append(name)
        exacts.append(exact)
        matches.append([iso3 for iso3, rx in patterns if rx.search(key)] if scan else [])
    per_name = pl.DataFrame(
        {name_col: names, "_exact": exacts, "_regex": matches},
        schema={name_col: df.schema[name_col], "_exact": pl.String, "_regex": pl.List(pl.String)},
    ).with_columns(
        pl.coalesce("_exact", pl.when(pl.col("_regex").list.len() == 1).then(pl.col("_regex").list.first()))
        .alias("iso3")
    )
    if year_col is None:
        return _attach(df, per_name, [name_col])
    pairs = df.select(name_col, year_col).unique().filter(pl.col(name_col).is_not_null()).join(per_name, on=name_col)
    candidates = (
        pairs.with_columns(
            _data_year(year_col).alias("_year"),
            pl.concat_list("_exact", "_regex").list.drop_nulls().list.unique().alias("_cand"),
        )
        .explode("_cand")
        .join(crosswalk.select("iso3", "valid_from", "valid_until"), left_on="_cand", right_on="iso3")
        .with_columns((pl.col("_cand") == pl.col("_exact")).fill_null(False).alias("_is_exact"))
    )
    picked = _pick_by_year(candidates, [name_col, year_col], "_year")
    resolved = pairs.join(picked, on=[name_col, year_col], how="left", suffix="_by_year", nulls_equal=True)
    # A row without a year falls back to the name-only rule.
    resolved = resolved.with_columns(
        pl.when(_data_year(year_col).is_null()).then(pl.col("iso3")).otherwise(pl.col("iso3_by_year")).alias("iso3")
    )
    return _attach(df, resolved, [name_col, year_col])


def _code_key(expr: pl.Expr, scheme: str) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    if scheme in ("iso3", "iso2", "fips"):
        return text.str.to_uppercase()
    # Spreadsheets turn codes into floats ("4.0"); numeric codes are compared as integers.
    number = text.str.replace(r"\.0+$", "").cast(pl.Int32, strict=False)
    return number.cast(pl.String).str.zfill(3) if scheme == "iso_numeric" else number


def resolve_country_codes(
    df: pl.DataFrame, code_col: str, crosswalk: pl.DataFrame, scheme: str, year_col: str | None = None
) -> pl.DataFrame:
    """Add iso3 for a code column in `scheme` (see CODE_SCHEMES; fips = FIPS 10-4); null if unknown/ambiguous."""
    if scheme not in CODE_SCHEMES:
        raise ValueError(f"unknown country code scheme {scheme!r}; expected one of {CODE_SCHEMES}")
    codes = crosswalk.select(
        pl.col(_SCHEME_COLUMNS.get(scheme, scheme)).alias("_code"), "iso3", "valid_from", "valid_until", "is_historical"
    )
    if scheme == "fips":  # an entity may hold several FIPS codes (PSE: WE;GZ)
        codes = codes.with_columns(pl.col("_code").str.split(FIPS_SEPARATOR)).explode("_code")
    table = codes.select(
        _code_key(pl.col("_code"), scheme).alias("_key"),
        pl.col("iso3").alias("_cand"),
        "valid_from", "valid_until", "is_historical",
    ).filter(pl.col("_key").is_not_null() & (pl.col("_key").cast(pl.String) != ""))
    on = [code_col] if year_col is None else [code_col, year_col]
    keys = df.select(on).unique().with_columns(_code_key(pl.col(code_col), scheme).alias("_key"))
    # Without a year a shared code (GW 365 = SUN and RUS) means the one current entity, if exactly one.
    plain = (
        keys.join(table, on="_key")
        .sort([*on, "is_historical"], nulls_last=True)
        .group_by(on, maintain_order=True)
        .agg(pl.when((pl.len() == 1) | (~pl.col("is_historical")).sum().eq(1)).then(pl.col("_cand").first())
             .alias("iso3"))
    )
    resolved = keys.join(plain, on=on, how="left", nulls_equal=True)
    if year_col is not None:
        candidates = (
            keys.with_columns(_data_year(year_col).alias("_year"), pl.lit(False).alias("_is_exact"))
            .join(table, on="_key")
        )
        by_year = _pick_by_year(candidates, on, "_year").rename({"iso3": "_by_year"})
        resolved = resolved.join(by_year, on=on, how="left", nulls_equal=True).with_columns(
            pl.when(_data_year(year_col).is_null()).then(pl.col("iso3")).otherwise(pl.col("_by_year")).alias("iso3")
        )
    return _attach(df, resolved, on)


def unmapped_country_names(df: pl.DataFrame, name_col: str) -> list[str]:
    """Sorted distinct non-null names whose iso3 is null, so a validation failure can name them."""
    return df.filter(pl.col("iso3").is_null() & pl.col(name_col).is_not_null())[name_col].unique().sort().to_list()
