"""Write two synthetic SIPRI Milex workbooks (a release and its predecessor) into data/samples/sipri/.

openpyxl only, seeded, fixed timestamps: running it again rewrites byte-identical files. The layout
copies SIPRI's 10-sheet workbook (sheet names, header rows, region rows, blue/red fonts, markers,
Notes symbols, Footnotes); every number and footnote text is invented, never SIPRI data.
Usage: python data/samples/generate_sipri.py [output_dir]
"""

from __future__ import annotations

import datetime
import io
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.styles.colors import Color
from openpyxl.writer.excel import ExcelWriter

ZIP_TIME = (2025, 4, 28, 8, 0, 0)
DOC_TIME = datetime.datetime(2025, 4, 28, 8, 0, 0)
BLUE, RED = Font(color=Color(indexed=12)), Font(color=Color(indexed=10))  # SIPRI: estimate, highly uncertain
REGION_FONT, SUBREGION_FONT = Font(b=True, sz=14), Font(b=True, sz=10)
NAME_FONT = Font(sz=11, color=Color(indexed=8))
SYMBOLS = [  # legend texts written for this sample (same meaning as SIPRI's, own words)
    ("\u2020", "Sample legend: these figures leave out military pensions."),
    ("\u2021", "Sample legend: these figures cover current spending only, without capital spending."),
    ("\u00a7", "Sample legend: these figures are the adopted budget, not actual spending."),
    ("\u00b6", "Sample legend: these figures leave out paramilitary forces."),
    ("\u2016", "Sample legend: the currency was changed or redenominated; older figures are converted."),
]


@dataclass(frozen=True)
class Country:
    """Invented parameters of one sample country (2014 values, growth rates)."""

    name: str
    old_name: str  # the spelling of the older vintage (the 2021 release wrote 'USA', 'UK', 'Turkey')
    gdp: float  # US$ bn in 2014
    share: float  # % of GDP in 2014
    currency: str
    fx: float  # local currency per US$ in 2014
    population: float  # millions
    notes: str = ""
    fiscal: str = ""
    kind: str = "normal"  # normal | missing (Iceland: no armed forces) | gone (state no longer exists)


# (region, subregion, countries) in SIPRI's order; names as in SIPRI's 2026 release.
REGIONS: list[tuple[str, str, list[Country]]] = [
    ("Africa", "North Africa", [Country("Algeria", "Algeria", 210, 5.5, "Dinar", 80, 39, "\u00a71")]),
    ("Africa", "sub-Saharan Africa", [Country("South Africa", "South Africa", 350, 1.1, "Rand", 10.8, 54)]),
    ("Americas", "North America", [
        Country("Canada", "Canada", 1800, 1.0, "Dollars", 1.1, 35),
        Country("United States of America", "USA", 17500, 3.5, "Dollars", 1.0, 319, "6", "Oct.\u2013Sep."),
    ]),
    ("Americas", "South America", [Country("Brazil", "Brazil", 2400, 1.3, "Reais", 2.4, 202)]),
    ("Asia & Oceania", "South Asia", [Country("India", "India", 2000, 2.5, "Rupees", 61, 1290, "", "Apr.\u2013Mar.")]),
    ("Asia & Oceania", "East Asia", [
        Country("China", "China", 10400, 1.8, "Yuan", 6.2, 1370, "\u20202"),
        Country("Japan", "Japan", 4900, 1.0, "Yen", 106, 127, "\u00a7", "Apr.\u2013Mar."),
        Country("Korea, South", "Korea, South", 1480, 2.5, "Won", 1050, 50),
    ]),
    ("Europe", "Central Europe", [
        Country("Albania", "Albania", 13, 1.3, "Leks", 105, 2.9),
        Country("Bulgaria", "Bulgaria", 57, 1.3, "Leva", 1.5, 7.2),
        Country("Croatia", "Croatia", 58, 1.8, "Euros", 0.75, 4.2, "\u2016"),
        Country("Czechia", "Czechia", 210, 1.0, "Koruny", 21, 10.5),
        Country("Czechoslovakia", "Czechoslovakia", 0, 0, "Koruny", 0, 0, kind="gone"),
        Country("Estonia", "Estonia", 27, 1.9, "Euros", 0.75, 1.3, "\u2016"),
        Country("Hungary", "Hungary", 140, 0.9, "Forint", 230, 9.9),
        Country("Latvia", "Latvia", 31, 0.95, "Euros", 0.75, 2.0, "\u2016"),
        Country("Lithuania", "Lithuania", 48, 0.9, "Euros", 0.75, 2.9, "\u2016"),
        Country("North Macedonia", "North Macedonia", 11, 1.1, "Denars", 46, 2.1),
        Country("Montenegro", "Montenegro", 4.6, 1.5, "Euros", 0.75, 0.62),
        Country("Poland", "Poland", 545, 1.9, "Zlotys", 3.15, 38),
        Country("Romania", "Romania", 200, 1.3, "Lei", 3.35, 19.9),
        Country("Slovakia", "Slovakia", 100, 1.0, "Euros", 0.75, 5.4, "\u2016"),
        Country("Slovenia", "Slovenia", 50, 1.0, "Euros", 0.75, 2.06),
    ]),
    ("Europe", "Eastern Europe", [
        Country("Russia", "Russia", 2050, 4.0, "Roubles", 38, 144, "\u00b6"),
        Country("Ukraine", "Ukraine", 133, 3.0, "Hryvnias", 12, 45, "5"),
        Country("USSR", "USSR", 0, 0, "Roubles", 0, 0, kind="gone"),
    ]),
    ("Europe", "Western Europe", [
        Country("Belgium", "Belgium", 530, 0.95, "Euros", 0.75, 11.2),
        Country("Denmark", "Denmark", 350, 1.15, "Kroner", 5.6, 5.6),
        Country("Finland", "Finland", 270, 1.4, "Euros", 0.75, 5.5),
        Country("France", "France", 2850, 1.9, "Euros", 0.75, 66),
        Country("Germany", "Germany", 3900, 1.15, "Euros", 0.75, 81),
        Country("Greece", "Greece", 235, 2.2, "Euros", 0.75, 10.9, "\u2020"),
        Country("Iceland", "Iceland", 17, 0, "Kronur", 116, 0.33, kind="missing"),
        Country("Italy", "Italy", 2150, 1.4, "Euros", 0.75, 60),
        Country("Luxembourg", "Luxembourg", 66, 0.4, "Euros", 0.75, 0.55),
        Country("Netherlands", "Netherlands", 890, 1.15, "Euros", 0.75, 16.9),
        Country("Norway", "Norway", 500, 1.5, "Kroner", 6.3, 5.1),
        Country("Portugal", "Portugal", 230, 1.6, "Euros", 0.75, 10.4),
        Country("Spain", "Spain", 1380, 1.2, "Euros", 0.75, 46.5),
        Country("Sweden", "Sweden", 575, 1.1, "Kronor", 6.9, 9.7),
        Country("United Kingdom", "UK", 3060, 2.2, "Pounds", 0.61, 64.6, "", "Apr.\u2013Mar."),
    ]),
    ("Middle East", "", [
        Country("Israel", "Israel", 310, 5.5, "New Shekels", 3.6, 8.2),
        Country("Saudi Arabia", "Saudi Arabia", 760, 10.0, "Riyals", 3.75, 30, "\u2021\u00a7\u00b63"),
        Country("T\u00fcrkiye", "Turkey", 940, 1.9, "Liras", 2.2, 77, "\u20164"),
    ]),
]
FOOTNOTES = {n: f"Sample footnote {n}: invented text for the ThreatWatch test workbook, not SIPRI's." for n in range(1, 7)}
# A few cells flagged the way SIPRI does it: (country, year) -> font colour, on every country sheet.
ESTIMATES = {("Algeria", 2024), ("Saudi Arabia", 2023), ("Saudi Arabia", 2024), ("China", 2024), ("India", 2015)}
UNCERTAIN = {("Ukraine", 2022), ("Ukraine", 2023), ("Russia", 2024)}


@dataclass(frozen=True)
class Vintage:
    """One release of the sample: its years, price base, copyright year, naming and header style."""

    file: str
    last_year: int
    price_base: int
    copyright: int
    old_names: bool
    float_years: bool  # SIPRI's Apache POI exports write year headers as 2014.0
    seed: int


VINTAGES = [
    Vintage("current/SIPRI-Milex-data-2014-2024.xlsx", 2024, 2023, 2025, False, False, 2025),
    Vintage("previous/SIPRI-Milex-data-2014-2023.xlsx", 2023, 2022, 2024, True, True, 2024),
]
FIRST_YEAR = 2014


def series(country: Country, vintage: Vintage) -> dict[str, dict[int, float]]:
    """Invented, roughly consistent series in SIPRI's units (US$ m., fractions, local currency)."""
    rng = random.Random(f"{vintage.seed}-{country.name}")
    years = range(FIRST_YEAR, vintage.last_year + 1)
    growth, drift = rng.uniform(0.01, 0.05), rng.uniform(-0.02, 0.12)
    govt = rng.uniform(0.3, 0.5)  # government spending as a share of GDP
    out: dict[str, dict[int, float]] = {k: {} for k in ("constant", "current", "gdp", "capita", "govt", "lcu", "lcu_fy")}
    for year in years:
        t = year - FIRST_YEAR
        share = (country.share + drift * t) * rng.uniform(0.97, 1.03) / 100
        current = share * country.gdp * (1 + growth) ** t * 1000
        out["gdp"][year] = share
        out["current"][year] = current
        out["constant"][year] = current * 1.025 ** (vintage.price_base - year)
        out["capita"][year] = current / country.population if country.population else 0.0
        out["govt"][year] = share / govt
        out["lcu"][year] = round(current * 1e6 * country.fx * 1.03 ** t, -3)
        out["lcu_fy"][year] = round(out["lcu"][year] * (1.01 if country.fiscal else 1.0), -3)
    return out


def header_year(year: int, vintage: Vintage) -> int | float:
    return float(year) if vintage.float_years else year


def sheet_specs(v: Vintage) -> list[tuple[str, list[str], list[str], str]]:
    """(sheet name, legend rows above the header, label columns, series key) in SIPRI's order and rows."""
    span = f"{FIRST_YEAR}\u2013{v.last_year}   \u00a9 SIPRI {v.copyright}"
    colours = "Figures in blue are SIPRI estimates. Figures in red indicate highly uncertain data."
    markers = '"..." = data unavailable. "xxx" = country did not exist or was not independent during all or part of the year in question.'
    return [
        ("Local currency financial years", [f"Military expenditure by country, in local currency, {span}",
          "Figures are in local currency at current prices and are for financial years.",
          "(Synthetic ThreatWatch sample: invented numbers.)", "Financial years are treated as starting in the specified year.",
          colours, markers, ""], ["Country", "Currency", "Fiscal Year (Jan.\u2013Dec. if not stated)", "Notes"], "lcu_fy"),
        ("Local currency calendar years", [f"Military expenditure by country, in local currency, {span}",
          "Figures are in local currency at current prices and are for calendar years.",
          "(Synthetic ThreatWatch sample: invented numbers.)", colours, markers, ""],
         ["Country", "Currency", "Notes"], "lcu"),
        (f"Constant ({v.price_base}) US$", [f"Military expenditure by country, in constant ({v.price_base}) US$ m., {span}",
          f"Figures are in US $m., at constant {v.price_base} prices and exchange rates.", colours, markers, ""],
         ["Country", "", "Notes"], "constant"),
        ("Current US$", [f"Military expenditure by country, in millions of US$ at current prices and exchange rates, {span}",
          "Figures are in US $m., in current prices, converted at the exchange rate for the given year.", colours,
          markers, ""], ["Country", "Notes"], "current"),
        ("Share of GDP", [f"Military expenditure by country as percentage of gross domestic product, {span}",
          "Countries are grouped by region and subregion.", colours, markers, ""], ["Country", "Notes"], "gdp"),
        ("Per capita", [f"Military expenditure per capita by country, {span}", "Figures are in current US$.",
          "Countries are grouped by region and subregion", colours, markers, ""], ["Country", "Notes"], "capita"),
        ("Share of Govt. spending", [f"Military expenditure by country as percentage of government spending, {span}",
          "Countries are grouped by region and subregion.", "Figures are for calendar years except where otherwise stated.",
          "(Synthetic ThreatWatch sample: invented numbers.)", colours, markers, ""],
         ["Country", "Notes", "Reporting year"], "govt"),
    ]


def label_cells(country: Country, labels: list[str], v: Vintage) -> list[object]:
    notes: object = country.notes
    if v.old_names and notes.isdigit():
        notes = int(notes)  # the 2021 release stored a bare footnote number as a number
    by_label = {"Currency": country.currency, "Notes": notes, "": None, "Reporting year": country.fiscal,
                "Fiscal Year (Jan.\u2013Dec. if not stated)": country.fiscal}
    return [by_label[label] for label in labels[1:]]


def cell_value(country: Country, key: str, year: int, data: dict) -> object:
    if country.kind == "gone":
        return "xxx"
    if country.kind == "missing":
        return "..."
    # A few gaps, written with the markers the real releases use.
    if (country.name, key, year) in {("Saudi Arabia", "govt", 2014), ("Russia", "lcu_fy", 2024), ("Israel", "capita", 2014)}:
        return "..."
    if (country.name, key, year) == ("Ukraine", "constant", 2014):
        return "\u2026"
    if (country.name, key, year) == ("Brazil", "govt", 2015):
        return ". . "  # the 2021 release's spelling (openpyxl cannot write the 2026 release's '' cells)
    return data[key][year]


def write_country_sheet(ws, spec: tuple, v: Vintage, all_series: dict) -> None:
    title, legend, labels, key = spec
    for text in legend:
        ws.append([text])
    years = list(range(FIRST_YEAR, v.last_year + 1))
    ws.append(labels + [header_year(y, v) for y in years])
    ws.cell(ws.max_row, 1).font = Font(b=True, sz=14)
    if title != "Per capita":
        ws.append([])  # every sheet but Per capita leaves one empty row under the header
    shown_region = None
    for region, subregion, countries in REGIONS:
        if region != shown_region:
            ws.append([region])
            ws.cell(ws.max_row, 1).font = REGION_FONT
            shown_region = region
        if subregion:
            ws.append([subregion])
            ws.cell(ws.max_row, 1).font = SUBREGION_FONT
        for country in countries:
            name = country.old_name if v.old_names else country.name
            values = [cell_value(country, key, y, all_series[country.name]) for y in years]
            ws.append([name, *label_cells(country, labels, v), *values])
            row = ws.max_row
            ws.cell(row, 1).font = NAME_FONT
            for offset, year in enumerate(years):
                cell = ws.cell(row, len(labels) + 1 + offset)
                if isinstance(cell.value, float):
                    if (country.name, year) in ESTIMATES:
                        cell.font = BLUE
                    elif (country.name, year) in UNCERTAIN:
                        cell.font = RED
                    if key in ("gdp", "govt"):
                        cell.number_format = "0.00%"


def write_regional_totals(ws, v: Vintage, all_series: dict) -> None:
    years = list(range(FIRST_YEAR, v.last_year + 1))
    legend = [
        f"Military expenditure by region in constant US dollars   \u00a9 SIPRI {v.copyright}",
        f"Figures are in US$ b., at constant {v.price_base} prices and exchange rates, except for the last figure "
        f"which is in US$ b. at {v.last_year} prices and exchange rates.",
        "Figures do not always add up to totals because of the conventions of rounding.",
        "Figures in red indicate that more than 10% of the total figure consists of estimates.",
        'The symbol "..." indicates that data is unavailable or the estimate is too uncertain to be reliable.',
        'The symbol "xxx" indicates that none of the countries in the relevant sub-region were independent.',
        "", "Notes regarding estimates and regional coverage",
        "1) Synthetic ThreatWatch sample: totals are sums over the sample countries only.", "2) Invented numbers.",
        "3) Not SIPRI data.", "4) Do not quote.", "",
    ]
    for text in legend:
        ws.append([text])
    ws.append(["Region", *(header_year(y, v) for y in years), f"{v.last_year} (current prices)", "", "Omitted countries"])
    groups: list[tuple[str, list[Country]]] = [("World", [c for _, _, cs in REGIONS for c in cs])]
    for region, subregion, countries in REGIONS:
        members = [c for r, _, cs in REGIONS if r == region for c in cs]
        if region not in [g for g, _ in groups]:
            groups.append((region, members))
        if subregion:
            groups.append((subregion, countries))
    for name, members in groups:
        live = [c for c in members if c.kind == "normal"]
        row: list[object] = [sum(all_series[c.name]["constant"][y] for c in live) / 1000 for y in years]
        row.append(sum(all_series[c.name]["current"][v.last_year] for c in live) / 1000)
        if name == "Eastern Europe":
            row[0] = "..."  # too uncertain to total, as SIPRI marks some regional years
        omitted = ", ".join(c.name for c in members if c.kind == "missing")
        ws.append([name, *row, None, omitted])
        if name == "Middle East":
            ws.cell(ws.max_row, 2).font = RED


def write_footnotes(ws) -> None:
    for row in (["Footnotes and special notes"], [], [], ["The following special notes are used in each worksheet"]):
        ws.append(row)
    for symbol, text in SYMBOLS:
        ws.append([symbol, text])
    ws.append([])
    ws.append(["Numbered footnote references can be found in each of the data sheets"])
    for number, text in FOOTNOTES.items():
        ws.append([number, None, text])


def build(v: Vintage) -> bytes:
    """The workbook of one vintage as xlsx bytes with fixed timestamps."""
    all_series = {c.name: series(c, v) for _, _, cs in REGIONS for c in cs}
    wb = Workbook()
    front = wb.active
    front.title = "Front page"
    front["A1"] = "ThreatWatch synthetic sample in the layout of SIPRI's Milex workbook. Invented numbers, not SIPRI data."
    write_regional_totals(wb.create_sheet("Regional totals"), v, all_series)
    for spec in sheet_specs(v):
        write_country_sheet(wb.create_sheet(spec[0]), spec, v, all_series)
    write_footnotes(wb.create_sheet("Footnotes"))
    wb.properties.creator = "ThreatWatch data/samples/generate_sipri.py"
    wb.properties.created = wb.properties.modified = DOC_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # not wb.save(): that stamps docProps 'modified' with the clock
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(raw: bytes) -> bytes:
    """The same zip with every entry dated ZIP_TIME, so reruns give identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=ZIP_TIME), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(output: Path) -> list[Path]:
    """Write both vintages under output; returns the paths written."""
    written = []
    for vintage in VINTAGES:
        path = output / vintage.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build(vintage))
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "sipri"
    for written_path in main(target):
        print(f"wrote {written_path}")
