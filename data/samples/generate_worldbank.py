"""Write the synthetic World Bank samples (API JSON pages and bulk zips) into data/samples/worldbank/.

Stdlib only, seeded: running it again rewrites byte-identical files. Values are invented
(plausible orders of magnitude), never publisher data. Both formats encode the same numbers.
Usage: python data/samples/generate_worldbank.py [output_dir]
"""

from __future__ import annotations

import io
import json
import random
import sys
import zipfile
from pathlib import Path

LAST_UPDATED = "2025-07-01"
ZIP_TIME = (2025, 7, 1, 10, 3, 56)
YEARS = range(2014, 2025)  # years that carry data
BULK_YEARS = range(1960, 2026)  # the bulk file has a column for every year since 1960, most of them empty
PERSONNEL_LAST_YEAR = 2020  # like the real series, personnel stops years before expenditure
API_PER_PAGE = 250  # 50 entities x 11 years = 550 rows: three pages per indicator

INDICATORS = {  # code: (name, decimal, file number in the bulk names)
    "MS.MIL.XPND.GD.ZS": ("Military expenditure (% of GDP)", 1, 7101),
    "MS.MIL.XPND.CD": ("Military expenditure (current USD)", 0, 7102),
    "MS.MIL.XPND.ZS": ("Military expenditure (% of general government expenditure)", 1, 7103),
    "MS.MIL.TOTL.P1": ("Armed forces personnel, total", 0, 7104),
}
REGIONS = {
    "ECS": ("Z7", "Europe & Central Asia"), "NAC": ("XU", "North America"), "EAS": ("Z4", "East Asia & Pacific"),
    "SAS": ("8S", "South Asia"), "MEA": ("ZQ", "Middle East & North Africa"),
    "LCN": ("ZJ", "Latin America & Caribbean"), "SSF": ("ZG", "Sub-Saharan Africa"),
}
INCOMES = {"HIC": ("XD", "High income"), "UMC": ("XT", "Upper middle income"), "LMC": ("XN", "Lower middle income")}

# iso3, WB iso2, WB name, region, income, GDP 2014 (US$ bn), share of GDP 2014 (%), gov. spending (% GDP), personnel
COUNTRIES = [
    ("ALB", "AL", "Albania", "ECS", "UMC", 13, 1.3, 30, 8_000),
    ("BEL", "BE", "Belgium", "ECS", "HIC", 530, 0.95, 53, 31_000),
    ("BGR", "BG", "Bulgaria", "ECS", "UMC", 57, 1.3, 38, 31_000),
    ("CAN", "CA", "Canada", "NAC", "HIC", 1800, 1.0, 40, 71_000),
    ("HRV", "HR", "Croatia", "ECS", "HIC", 58, 1.8, 47, 16_000),
    ("CZE", "CZ", "Czechia", "ECS", "HIC", 210, 1.0, 42, 25_000),
    ("DNK", "DK", "Denmark", "ECS", "HIC", 350, 1.15, 55, 17_000),
    ("EST", "EE", "Estonia", "ECS", "HIC", 27, 1.9, 39, 6_000),
    ("FIN", "FI", "Finland", "ECS", "HIC", 270, 1.4, 57, 25_000),
    ("FRA", "FR", "France", "ECS", "HIC", 2850, 1.9, 57, 305_000),
    ("DEU", "DE", "Germany", "ECS", "HIC", 3900, 1.15, 44, 180_000),
    ("GRC", "GR", "Greece", "ECS", "HIC", 235, 2.2, 50, 145_000),
    ("HUN", "HU", "Hungary", "ECS", "HIC", 140, 0.9, 48, 27_000),
    ("ISL", "IS", "Iceland", "ECS", "HIC", 17, None, 43, None),
    ("ITA", "IT", "Italy", "ECS", "HIC", 2150, 1.4, 50, 350_000),
    ("LVA", "LV", "Latvia", "ECS", "HIC", 31, 0.95, 38, 6_000),
    ("LTU", "LT", "Lithuania", "ECS", "HIC", 48, 0.9, 35, 16_000),
    ("LUX", "LU", "Luxembourg", "ECS", "HIC", 66, 0.4, 42, 900),
    ("MNE", "ME", "Montenegro", "ECS", "UMC", 4.6, 1.5, 45, 2_000),
    ("NLD", "NL", "Netherlands", "ECS", "HIC", 890, 1.15, 45, 41_000),
    ("MKD", "MK", "North Macedonia", "ECS", "UMC", 11, 1.1, 33, 8_000),
    ("NOR", "NO", "Norway", "ECS", "HIC", 500, 1.5, 47, 23_000),
    ("POL", "PL", "Poland", "ECS", "HIC", 545, 1.9, 42, 105_000),
    ("PRT", "PT", "Portugal", "ECS", "HIC", 230, 1.6, 48, 34_000),
    ("ROU", "RO", "Romania", "ECS", "HIC", 200, 1.3, 35, 126_000),
    ("SVK", "SK", "Slovak Republic", "ECS", "HIC", 100, 1.0, 42, 16_000),
    ("SVN", "SI", "Slovenia", "ECS", "HIC", 50, 1.0, 48, 7_500),
    ("ESP", "ES", "Spain", "ECS", "HIC", 1380, 1.2, 44, 196_000),
    ("SWE", "SE", "Sweden", "ECS", "HIC", 575, 1.1, 50, 30_000),
    ("TUR", "TR", "Turkiye", "ECS", "UMC", 940, 1.9, 34, 510_000),
    ("GBR", "GB", "United Kingdom", "ECS", "HIC", 3060, 2.2, 42, 160_000),
    ("USA", "US", "United States", "NAC", "HIC", 17600, 3.6, 37, 1_380_000),
    ("RUS", "RU", "Russian Federation", "ECS", "HIC", 2050, 4.0, 36, 1_450_000),
    ("CHN", "CN", "China", "EAS", "UMC", 10500, 1.8, 31, 2_600_000),
    ("UKR", "UA", "Ukraine", "ECS", "UMC", 133, 3.0, 44, 230_000),
    ("IND", "IN", "India", "SAS", "LMC", 2040, 2.5, 28, 3_000_000),
    ("ISR", "IL", "Israel", "MEA", "HIC", 310, 5.5, 40, 175_000),
    ("IRN", "IR", "Iran, Islamic Rep.", "MEA", "UMC", 430, 2.5, 20, 560_000),
    ("JPN", "JP", "Japan", "EAS", "HIC", 4900, 0.95, 39, 260_000),
    ("KOR", "KR", "Korea, Rep.", "EAS", "HIC", 1480, 2.5, 32, 630_000),
    ("SAU", "SA", "Saudi Arabia", "MEA", "HIC", 760, 10.0, 38, 250_000),
    ("BRA", "BR", "Brazil", "LCN", "UMC", 2450, 1.4, 40, 730_000),
    ("ZAF", "ZA", "South Africa", "SSF", "UMC", 350, 1.1, 33, 80_000),
    ("XKX", "XK", "Kosovo", "ECS", "UMC", 7.4, 0.8, 28, None),
    ("AGO", "AO", "Angola", "SSF", "LMC", 145, 3.5, 30, 115_000),
]
EASTERN_FLANK = {"POL", "EST", "LVA", "LTU", "FIN", "ROU", "BGR", "SVK", "HUN", "CZE", "DEU", "DNK", "SWE", "NOR"}
EU = {"BEL", "BGR", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ITA", "LVA", "LTU", "LUX",
      "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE"}
AGGREGATES = [("WLD", "1W", "World"), ("EUU", "EU", "European Union"), ("NAC", "XU", "North America"),
              ("HIC", "XD", "High income")]
NOT_CLASSIFIED = ("INX", "XY", "Not classified")  # in the data files, not in Metadata_Country
# Gaps on purpose: (iso3, indicator or None for all, years)
GAPS = [
    ("XKX", None, range(2014, 2018)), ("XKX", "MS.MIL.XPND.ZS", YEARS), ("MKD", "MS.MIL.XPND.GD.ZS", [2015]),
    ("MKD", "MS.MIL.XPND.CD", [2015]), ("UKR", "MS.MIL.TOTL.P1", [2014]), ("IRN", "MS.MIL.XPND.ZS", [2023, 2024]),
    ("SAU", None, [2024]), ("CHN", "MS.MIL.XPND.ZS", [2024]), ("RUS", "MS.MIL.XPND.ZS", [2024]),
]


def g15(x: float) -> float:
    """Keep 15 significant digits, as the bulk CSV prints them, so JSON and CSV hold the same double."""
    return float(f"{x:.15g}")


def build_values() -> dict[tuple[str, str, int], float | int]:
    """(code, indicator, year) -> value for every entity; missing keys are gaps."""
    rng = random.Random(20250701)
    values: dict[tuple[str, str, int], float | int] = {}
    gdp: dict[tuple[str, int], float] = {}
    for iso3, _, _, _, _, gdp14, share14, gov_pct, people in COUNTRIES:
        size, share = gdp14 * 1e9, share14
        for year in YEARS:
            size *= 1 + rng.uniform(-0.02, 0.07)
            gdp[iso3, year] = size
            if share14 is None:
                continue
            step = 0.12 if iso3 in EASTERN_FLANK and year >= 2022 else 0.03
            share = max(0.3, share * (1 + rng.uniform(-0.05, 0.05)) + step)
            if iso3 == "UKR" and year >= 2022:
                share = rng.uniform(25, 36)
            values[iso3, "MS.MIL.XPND.GD.ZS", year] = g15(share)
            values[iso3, "MS.MIL.XPND.CD", year] = g15(share / 100 * size)
            gov = gov_pct * rng.uniform(0.95, 1.05) * (1.4 if iso3 == "UKR" and year >= 2022 else 1)
            values[iso3, "MS.MIL.XPND.ZS", year] = g15(min(share / gov * 100, 66.0))
            if people and year <= PERSONNEL_LAST_YEAR:
                values[iso3, "MS.MIL.TOTL.P1", year] = int(round(people * rng.uniform(0.93, 1.07), -2))
    # Angola 2015: a tiny artefact value that the bulk file prints in scientific notation
    values["AGO", "MS.MIL.XPND.GD.ZS", 2015] = g15(2.31764705882353e-05)
    for iso3, indicator, years in GAPS:
        for key in [k for k in values if k[0] == iso3 and (indicator in (None, k[1])) and k[2] in years]:
            del values[key]
    # sorted lists, not sets: float sums must not depend on hash order
    members = {"WLD": sorted(c[0] for c in COUNTRIES), "EUU": sorted(EU), "NAC": ["CAN", "USA"],
               "HIC": sorted(c[0] for c in COUNTRIES if c[4] == "HIC")}
    scale = {"WLD": 1.12, "EUU": 1.03, "NAC": 1.0, "HIC": 1.06}  # members outside the sample
    for code, group in members.items():
        for year in YEARS:
            spend = sum(values.get((c, "MS.MIL.XPND.CD", year), 0) for c in group) * scale[code]
            size = sum(gdp[c, year] for c in group) * scale[code]
            values[code, "MS.MIL.XPND.CD", year] = g15(spend)
            values[code, "MS.MIL.XPND.GD.ZS", year] = g15(spend / size * 100)
            values[code, "MS.MIL.XPND.ZS", year] = g15(spend / size * 100 * rng.uniform(2.3, 2.7))
            if year <= PERSONNEL_LAST_YEAR:
                people = sum(values.get((c, "MS.MIL.TOTL.P1", year), 0) for c in group)
                values[code, "MS.MIL.TOTL.P1", year] = int(round(people * scale[code], -2))
    for year in (2016, 2017):  # "Not classified" carries a few values in the data file
        values["INX", "MS.MIL.XPND.CD", year] = g15(rng.uniform(1e8, 9e8))
    return values


def entities() -> list[tuple[str, str, str]]:
    """(code, iso2, name) of every row the data files carry."""
    return [(c[0], c[1], c[2]) for c in COUNTRIES] + AGGREGATES + [NOT_CLASSIFIED]


def csv_bytes(rows: list[list[str]], preamble: bool) -> bytes:
    """WB bulk layout: BOM, optional 4-line preamble, every field quoted, a trailing comma, CRLF."""
    lines = ['"Data Source","World Development Indicators",', "", f'"Last Updated Date","{LAST_UPDATED}",', ""]
    lines = lines if preamble else []
    lines += [",".join('"' + f.replace('"', '""') + '"' for f in row) + "," for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def bulk_zip(indicator: str, values: dict) -> bytes:
    name, _, number = INDICATORS[indicator]
    stem = f"{indicator}_DS2_en_csv_v2_{number}"
    data = [["Country Name", "Country Code", "Indicator Name", "Indicator Code", *map(str, BULK_YEARS)]]
    for code, _, label in sorted(entities()):
        cells = [values.get((code, indicator, y)) for y in BULK_YEARS]
        data.append([label, code, name, indicator, *("" if v is None else f"{v:.15G}" for v in cells)])
    meta = [["Country Code", "Region", "IncomeGroup", "SpecialNotes", "TableName"]]
    for code, _, label, region, income, *_ in COUNTRIES:
        note = "Synthetic sample row.\n\nNot publisher data." if code == "XKX" else ""  # WB notes span lines
        meta.append([code, REGIONS[region][1], INCOMES[income][1], note, label])
    meta += [[code, "", "", "Synthetic aggregate.", label] for code, _, label in AGGREGATES]
    meta = [meta[0], *sorted(meta[1:])]
    note = "Synthetic ThreatWatch sample; not World Bank data."
    indicator_meta = [["INDICATOR_CODE", "INDICATOR_NAME", "SOURCE_NOTE", "SOURCE_ORGANIZATION"],
                      [indicator, name, note, "ThreatWatch (synthetic)"]]
    members = [(f"Metadata_Indicator_API_{stem}.csv", csv_bytes(indicator_meta, False)),
               (f"API_{stem}.csv", csv_bytes(data, True)),
               (f"Metadata_Country_API_{stem}.csv", csv_bytes(meta, False))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, payload in members:
            info = zipfile.ZipInfo(member, date_time=ZIP_TIME)  # fixed time: reruns are byte-identical
            info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 0, 0
            archive.writestr(info, payload, compresslevel=6)
    return buffer.getvalue()


def api_pages(indicator: str, values: dict) -> list[bytes]:
    """The /v2/country/all/indicator/<code>?format=json&date=2014:2024 reply, one body per page."""
    name, decimal, _ = INDICATORS[indicator]
    aggregates = sorted(AGGREGATES + [NOT_CLASSIFIED], key=lambda e: e[2])
    countries = sorted([(c[0], c[1], c[2]) for c in COUNTRIES], key=lambda e: e[2])
    rows = [
        {"indicator": {"id": indicator, "value": name}, "country": {"id": iso2, "value": label},
         "countryiso3code": code, "date": str(year), "value": values.get((code, indicator, year)),
         "unit": "", "obs_status": "", "decimal": decimal}
        for code, iso2, label in aggregates + countries  # the API lists aggregates first
        for year in reversed(YEARS)
    ]
    pages = -(-len(rows) // API_PER_PAGE)
    return [page_body({"page": p, "pages": pages, "per_page": API_PER_PAGE, "total": len(rows),
                       "sourceid": "2", "lastupdated": LAST_UPDATED},
                      rows[(p - 1) * API_PER_PAGE: p * API_PER_PAGE]) for p in range(1, pages + 1)]


def countries_page() -> bytes:
    """The /v2/country?format=json reply for the sample's entities (per_page is a string there)."""
    blank = {"id": "", "iso2code": "", "value": ""}
    aggregate = {"id": "NA", "iso2code": "NA", "value": "Aggregates"}
    entries = []
    for code, iso2, label, region, income, *_ in COUNTRIES:
        entries.append({"id": code, "iso2Code": iso2, "name": label,
                        "region": {"id": region, "iso2code": REGIONS[region][0], "value": REGIONS[region][1] + " "},
                        "adminregion": blank, "incomeLevel": {"id": income, "iso2code": INCOMES[income][0],
                                                              "value": INCOMES[income][1]},
                        "lendingType": {"id": "LNX", "iso2code": "XX", "value": "Not classified"},
                        "capitalCity": "", "longitude": "", "latitude": ""})
    for code, iso2, label in AGGREGATES:
        entries.append({"id": code, "iso2Code": iso2, "name": label, "region": aggregate, "adminregion": blank,
                        "incomeLevel": aggregate, "lendingType": aggregate,
                        "capitalCity": "", "longitude": "", "latitude": ""})
    entries.sort(key=lambda e: e["id"])
    return page_body({"page": 1, "pages": 1, "per_page": "50", "total": len(entries)}, entries)


def page_body(meta: dict, rows: list) -> bytes:
    return json.dumps([meta, rows], separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def generate(out: Path) -> list[Path]:
    """Write every sample file under `out` (api/ and bulk/) and return their paths."""
    values = build_values()
    files: dict[Path, bytes] = {out / "api" / "countries.page-001.json": countries_page()}
    for indicator in INDICATORS:
        for number, body in enumerate(api_pages(indicator, values), start=1):
            files[out / "api" / f"{indicator}.page-{number:03d}.json"] = body
        files[out / "bulk" / f"{indicator}.csv.zip"] = bulk_zip(indicator, values)
    for path, payload in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    return sorted(files)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "worldbank"
    for written in generate(target):
        print(written)
