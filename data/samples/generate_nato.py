"""Write the synthetic NATO sample workbook into data/samples/nato/.

openpyxl, seeded, fixed document and zip-entry times: running it again rewrites byte-identical bytes.
The layout copies NATO's June 2024 "Defence Expenditure of NATO Countries" tables workbook (sheet
names, row and column positions, labels, `*`, year headers, hidden #REF! rows, footnotes, page
numbers); every number is invented, never NATO data.
Usage: python data/samples/generate_nato.py [output_dir]
"""

from __future__ import annotations

import datetime
import io
import random
import sys
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter

FILE_NAME = "240617-def-exp-2024-TABLES-en.xlsx"
DOC_TIME = datetime.datetime(2025, 7, 1, 10, 3, 56)
ZIP_TIME = (2025, 7, 1, 10, 3, 56)
YEARS = list(range(2014, 2025))
HEADER = [2014, 2015, 2016, 2017, 2018, "2019", 2020, 2021, 2022, "2023e", "2024e"]  # NATO's mixed types
COLS = "DEFGHIJKLMN"

# Name as printed, 2 % law star, currency as TABLE1 prints it, invented: GDP 2015 (US$ bn), share of GDP
# 2014 (%), personnel 2014 (thousands), population 2014 (millions), national currency per US$ in 2015.
ALLIES = [
    ("Albania", False, "Leks", 12, 1.3, 7.5, 2.9, 125.0),
    ("Belgium", False, "Euros", 460, 0.95, 31, 11.2, 0.9),
    ("Bulgaria", False, "Leva", 50, 1.3, 28, 7.2, 1.77),
    ("Canada", False, "Canadian dollars", 1550, 1.0, 67, 35.5, 1.28),
    ("Croatia", False, "Euros", 50, 1.8, 16, 4.2, 0.9),
    ("Czechia", True, "Koruny", 190, 1.0, 21, 10.5, 24.6),
    ("Denmark", False, "Kroner", 300, 1.15, 17, 5.6, 6.7),
    ("Estonia", True, "Euros", 23, 1.9, 6, 1.3, 0.9),
    ("Finland", False, "Euros", 235, 1.45, 31, 5.5, 0.9),
    ("France", False, "Euros", 2440, 1.8, 205, 66.0, 0.9),
    ("Germany", False, "Euros", 3360, 1.2, 180, 81.0, 0.9),
    ("Greece", False, "Euros", 195, 2.2, 108, 10.9, 0.9),
    ("Hungary", False, "Forint", 125, 0.86, 18, 9.9, 279.0),
    ("Iceland", False, "Kronur", 17, None, None, 0.33, 131.0),  # no armed forces: GDP tables only
    ("Italy", False, "Euros", 1835, 1.15, 182, 60.8, 0.9),
    ("Latvia", True, "Euros", 27, 0.94, 4.7, 2.0, 0.9),
    ("Lithuania", True, "Euros", 41, 0.88, 8.5, 2.9, 0.9),
    ("Luxembourg", False, "Euros", 60, 0.37, 0.8, 0.55, 0.9),
    ("Montenegro", False, "Euros", 4, 1.5, 1.9, 0.62, 0.9),
    ("Netherlands", False, "Euros", 765, 1.15, 41, 16.9, 0.9),
    ("North Macedonia", False, "Denars", 10, 1.1, 6.5, 2.07, 55.5),
    ("Norway", False, "Kroner", 390, 1.55, 21, 5.1, 8.1),
    ("Poland", True, "Zlotys", 475, 1.9, 99, 38.5, 3.77),
    ("Portugal", False, "Euros", 200, 1.3, 31, 10.4, 0.9),
    ("Romania", True, "New Lei", 178, 1.35, 65, 19.9, 4.0),
    ("Slovak Republic", False, "Euros", 89, 1.0, 12.5, 5.4, 0.9),
    ("Slovenia", False, "Euros", 43, 0.97, 6.8, 2.06, 0.9),
    ("Spain", False, "Euros", 1195, 0.92, 122, 46.5, 0.9),
    ("Sweden", False, "Kronor", 505, 1.06, 14.7, 9.7, 8.4),
    ("Türkiye", False, "Liras", 865, 1.45, 427, 77.0, 2.72),
    ("United Kingdom", False, "Pounds", 2930, 2.14, 169, 64.6, 0.65),
    ("United States", False, "US dollars", 18300, 3.7, 1338, 318.0, 1.0),
]
EASTERN_FLANK = {"Poland", "Estonia", "Latvia", "Lithuania", "Finland", "Romania", "Denmark", "Germany", "Sweden"}
STAR_NOTE = ("*  These Allies have national laws or political agreements which call for 2% of GDP or more to be "
             "spent on defence annually (synthetic sample: the numbers in this file are invented).")
NOTES = "Notes: Figures for 2023 and 2024 are estimates. Synthetic ThreatWatch sample, not NATO data."


def g12(x: float) -> float:
    return float(f"{x:.12g}")


def build() -> dict:
    """Invented series per Ally and year, keyed (measure, name, year); aggregates computed from them."""
    rng = random.Random(20240617)
    v: dict = {}
    for name, _, _, gdp15, share14, people, pop, fx in ALLIES:
        gdp, deflator, share, staff, popn = gdp15 * 1e3 * 0.97, 0.97, share14, people, pop
        for year in [2013, *YEARS]:
            gdp *= 1 + rng.uniform(-0.01, 0.04)
            deflator = 1.0 if year == 2015 else deflator * (1 + rng.uniform(-0.08, 0.07))
            popn *= 1 + rng.uniform(-0.004, 0.008)
            v["gdp_constant", name, year], v["gdp_current", name, year] = gdp, gdp * deflator
            v["pop", name, year] = popn
            if share14 is None:
                continue
            step = 0.35 if name in EASTERN_FLANK and year >= 2022 else 0.02
            share = max(0.3, share * (1 + rng.uniform(-0.06, 0.06)) + step)
            const = share / 100 * gdp
            staff = staff * (1 + rng.uniform(-0.04, 0.05))
            equipment, personnel, infra = rng.uniform(8, 40), rng.uniform(25, 55), rng.uniform(0.3, 4.5)
            v.update({("share", name, year): share, ("constant", name, year): const,
                      ("current", name, year): const * deflator, ("lcu_constant", name, year): const * fx,
                      ("lcu_current", name, year): const * deflator * fx * rng.uniform(0.9, 1.15),
                      ("personnel", name, year): staff, ("equipment", name, year): equipment,
                      ("personnel_share", name, year): personnel, ("infrastructure", name, year): infra,
                      ("other", name, year): 100 - equipment - personnel - infra})
    spenders = [a[0] for a in ALLIES if a[4] is not None]
    for name in spenders:
        for year in YEARS:
            v["change", name, year] = (v["constant", name, year] / v["constant", name, year - 1] - 1) * 100
    groups = {"NATO Europe and Canada": [n for n in spenders if n != "United States"], "NATO Total": spenders}
    everyone = {"NATO Europe and Canada": [a[0] for a in ALLIES if a[0] != "United States"],
                "NATO Total": [a[0] for a in ALLIES]}
    for label, members in groups.items():
        for year in [2013, *YEARS]:
            for m in ("constant", "current", "personnel"):
                v[m, label, year] = sum(v[m, n, year] for n in members)
            for m in ("gdp_constant", "gdp_current", "pop"):
                v[m, label, year] = sum(v[m, n, year] for n in everyone[label])
            spend_gdp = sum(v["gdp_constant", n, year] for n in members)
            v["share", label, year] = v["constant", label, year] / spend_gdp * 100
        for year in YEARS:
            v["change", label, year] = (v["constant", label, year] / v["constant", label, year - 1] - 1) * 100
    for key in [k for k in v if k[0] in ("constant", "gdp_constant", "pop")]:
        name, year = key[1], key[2]
        if key[0] == "constant":
            spend_pop = sum(v["pop", n, year] for n in groups.get(name, [name]))
            v["per_capita", name, year] = v["constant", name, year] / spend_pop
        elif key[0] == "gdp_constant":
            v["gdp_per_capita", name, year] = v["gdp_constant", name, year] / v["pop", name, year] / 1e3
    return v


def fill(ws, row: int, label: str, values: list, col: str = "C", first: int = 3) -> None:
    ws[f"{col}{row}"] = label
    for i, value in enumerate(values):
        ws.cell(row, first + 1 + i, value)


def standard(wb, sheet: str, title: str, unit: str, blocks: list, v: dict, notes: list, page: tuple, **opt) -> None:
    """The common layout: title B4, unit B6, years D8:N8, block labels in B, Allies in C, aggregates in B."""
    ws = wb.create_sheet(sheet)
    ws["B4"], ws["B6"] = title, unit
    for i, year in enumerate(opt.get("header", HEADER)):
        ws[f"{COLS[i]}8"] = year
    row = 10
    for block_label, measure, scale in blocks:
        ws[f"B{row}"] = block_label
        row += 1
        for name, star, currency, *_ in ALLIES:
            if (measure, name, 2014) not in v:
                continue  # Iceland in the spending blocks
            label = name + ("*" if star and opt.get("stars") else "")
            label += f"   ({currency})" if opt.get("currency") else ""
            fill(ws, row, label, [g12(v[measure, name, y] * scale) for y in YEARS])
            row += 1
        if opt.get("broken_aggregates"):  # NATO's hidden aggregate rows: no label, cached #REF! errors
            cells = opt["broken_aggregates"].pop(0)
            fill(ws, row, None, cells)
            ws.row_dimensions[row].hidden = True
            row += 1
        else:
            for label in ("NATO Europe and Canada", "NATO Total"):
                fill(ws, row, label, [g12(v[measure, label, y] * scale) for y in YEARS], col="B")
                row += 1
    row += 2
    for note in notes:
        ws[f"C{row}"] = note
        ws.merge_cells(f"C{row}:N{row}")
        row += 1
    ws[f"B{page[1]}"] = page[0]
    ws.print_area = f"B2:O{page[1]}"
    ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 4.6, 28


def table4(wb, v: dict) -> None:
    """TABLE4's summary layout: title B16, header row 20, Allies from C23, no block labels."""
    ws = wb.create_sheet("TABLE4")
    ws["B16"], ws["B18"] = "Table 4 : Defence expenditure real change 2014-2024e", \
        "Million US dollars (2015 prices and exchange rates)"
    for col, text in zip("DEFGH", [2014, "2024e", "Real change 2014-2024e (%)", "Share of real GDP 2014 (%)",
                                   "Share of real GDP 2024e (%)"]):
        ws[f"{col}20"] = text
    row = 23
    for name, *_ in [a for a in ALLIES if a[4] is not None]:
        first, last = v["constant", name, 2014], v["constant", name, 2024]
        fill(ws, row, name, [g12(first), g12(last), g12((last / first - 1) * 100), g12(v["share", name, 2014]),
                             g12(v["share", name, 2024])])
        row += 1
    ws["C57"], ws["B60"] = "Note: Figures for 2024 are estimates.", "-10-"
    ws.merge_cells("C57:D57")


def table7(wb, v: dict) -> None:
    """TABLE7's shifted layout: title C16, header row 20 from column E, Allies in D, aggregates in C."""
    ws = wb.create_sheet("TABLE7")
    ws["C16"], ws["C18"] = "Table 7 : Military personnel", "Thousands"
    for i, year in enumerate(HEADER):
        ws.cell(20, 5 + i, year)
    row = 23
    for name, *_ in [a for a in ALLIES if a[4] is not None]:
        fill(ws, row, name, [g12(v["personnel", name, y]) for y in YEARS], col="D", first=4)
        row += 1
    for label in ("NATO Europe and Canada", "NATO Total"):
        fill(ws, row, label, [g12(v["personnel", label, y]) for y in YEARS], col="C", first=4)
        row += 1
    ws["D59"], ws["C61"] = NOTES, "-13-"
    ws.merge_cells("D59:O59")


def workbook(v: dict) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ref = ["#REF!"] * 6  # openpyxl stores these strings as error cells (t="e"), like the cached errors
    spend = dict(notes=[NOTES, STAR_NOTE], stars=True)
    standard(wb, "TABLE1", "Table 1 : Defence expenditure", "Million national currency units",
             [("Current prices", "lcu_current", 1), ("Constant 2015 prices ", "lcu_constant", 1)], v,
             page=("-7-", 81), currency=True, broken_aggregates=[ref, ref], **spend)
    standard(wb, "TABLE2", "Table 2 : Defence expenditure", "Million US dollars",
             [("Current prices and exchange rates", "current", 1),
              ("Constant 2015 prices and exchange rates", "constant", 1)], v, page=("-8-", 83), **spend)
    standard(wb, "TABLE3", "Table 3 : Defence expenditure as a share of GDP and annual real change",
             "Based on 2015 prices", [("Share of real GDP (%)", "share", 1), ("Annual real change (%)", "change", 1)],
             v, page=("-9-", 82), **spend)
    table4(wb, v)
    plain_header = [2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, "2023e", "2024e"]
    standard(wb, "TABLE5", "Table 5 : GDP", "Million US dollars",
             [("Current prices and exchange rates", "gdp_current", 1),
              ("Constant 2015 prices and exchange rates", "gdp_constant", 1)], v, notes=[NOTES], page=("-11-", 85),
             header=plain_header)
    standard(wb, "TABLE6", "Table 6 : GDP per capita and defence expenditure per capita",
             "2015 prices and exchange rates",
             [("GDP per capita (thousand US dollars)", "gdp_per_capita", 1),
              ("Defence expenditure per capita (US dollars)", "per_capita", 1)], v, notes=[NOTES], page=("-12-", 83),
             header=plain_header)
    table7(wb, v)
    category = "Table 8{} : Distribution of defence expenditure by main category"
    unit = "Percentage of total defence expenditure"
    standard(wb, "TABLE8a", category.format("a"), unit,
             [("Equipment (a)", "equipment", 1), ("Personnel (b)", "personnel_share", 1)], v, page=("-14-", 82),
             notes=[NOTES, "(a) Equipment expenditure includes major equipment and R&D devoted to it.",
                    "(b) Personnel expenditure includes military and civilian expenditure and pensions."],
             broken_aggregates=[ref, ref])
    standard(wb, "TABLE8b", category.format("b"), unit,
             [("Infrastructure (c)", "infrastructure", 1), ("Other (d)", "other", 1)], v, page=("-15-", 82),
             notes=[NOTES, "(c) Infrastructure expenditure includes NATO common infrastructure.",
                    "(d) Other expenditure includes operations and maintenance and other R&D."],
             broken_aggregates=[[0] * 10, ref])  # NATO's row 42 holds zeros, row 75 #REF!
    wb.properties.creator = wb.properties.lastModifiedBy = "ThreatWatch sample generator"
    wb.properties.created = wb.properties.modified = DOC_TIME
    return wb


def workbook_bytes(wb: openpyxl.Workbook) -> bytes:
    """Serialise without openpyxl's save() (which stamps the current time) and re-zip with fixed entry times."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 0, 0
            target.writestr(info, source.read(name), compresslevel=6)
    return out.getvalue()


def main(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / FILE_NAME
    target.write_bytes(workbook_bytes(workbook(build())))
    return target


if __name__ == "__main__":
    print(f"wrote {main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / 'nato')}")
