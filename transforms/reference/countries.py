"""The one country crosswalk every source resolves through, and the name/code resolvers.

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

# Columns of country_entities_extra.csv that fill or override what the libraries give.
_EXTRA_OVERRIDES = (
    "name", "iso2", "iso_numeric", "gw_code", "region", "continent", "valid_from", "valid_until", "regex"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'"})
# Footnote symbols, numbered footnotes, NATO's '*' and stray quotes that publishers glue to names.
_TRAILING_MARKS = re.compile(r"[\s*\u2020\u2021\u00a7\u00b6\u2016\d\"]+$")


def normalize_country_name(name: str) -> str:
    """The alias-lookup key: NFKC, straight apostrophes, no diacritics, casefolded, one space, no trailing marks."""
    text = unicodedata.normalize("NFKC", name.translate(_APOSTROPHES))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = " ".join(text.casefold().split())
    return _TRAILING_MARKS.sub("", text).lstrip('" ')


def _year(column: str) -> pl.Expr:
    # Hand-file years: a typo must fail the build, not become an open-ended validity.
    return pl.col(column).cast(pl.String).str.strip_chars().cast(pl.Int32)


def _data_year(column: str) -> pl.Expr:
    # A publisher's year column (text or number); an unreadable year falls back to the name-only rule.
    return pl.col(column).cast(pl.Int32, strict=False)


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
