"""GDELT's CAMEO lookup tables (CAMEO.<kind>.txt) and the repo's own CAMEO reference tables built from them.

Decisions (../shared/data/conflict_events/SOURCES.md §3):
- The lookups are tab-separated with a header row, CRLF (the 2013 copies LF); codes are text and keep their
  leading zeros (`01`, `010`, `0211`); labels are trimmed (`Portuguese ` in ethnic). A wrong header, a line
  without exactly two fields, an empty code, or a Goldstein value that is not a number fails the file, naming
  the line; so does a repeated code in eventcodes or goldsteinscale, where a code must mean one thing.
- The label lookups repeat a few codes (current copies: knowngroup CEM = COMESA and = CEMAC, WTO twice with
  two spellings; type UIS twice, identical). One row per code is kept: identical repeats collapse, differing
  labels are joined with ` | ` in file order, so an ambiguous code stays visibly ambiguous.
- Upstream defect: the current CAMEO.eventcodes.txt glues a second entry onto a label, e.g.
  `1056<TAB>Demand de-escalation of military engagement106:[-5.0] Demand withdrawal`. Any label ending in
  `<code>:[<number>] <label>` whose code is a CAMEO event code (2-4 digits) sharing the row's root is split
  into two rows; the bracketed number is kept in `goldstein_in_label` of the second row. The current
  CAMEO.goldsteinscale.txt then lacks a 106 row; build_cameo_eventcodes fills a missing Goldstein value from
  that glued number (-5.0 for 106, which is what the 2013 copy's goldsteinscale gives).
- data/reference/cameo/eventcodes.csv: code, description, root_code, level (root = 2 digits, base = 3,
  event = 4), goldstein_scale, quad_class (by root: 01-05 verbal cooperation 1, 06-08 material
  cooperation 2, 09-13 verbal conflict 3, 14-20 material conflict 4). data/reference/cameo/country.csv:
  code, label. Both are written by `python -m transforms.conflict_events.cameo [lookup_dir]` as comma CSV,
  LF, sorted by code: the published codes and labels (the standard), in our own layout.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polars as pl

from transforms.errors import SourceFormatError

SOURCE = "gdelt"

LOOKUP_HEADERS = {
    "eventcodes": ("CAMEOEVENTCODE", "EVENTDESCRIPTION"),
    "goldsteinscale": ("CAMEOEVENTCODE", "GOLDSTEINSCALE"),
    "country": ("CODE", "LABEL"),
    "type": ("CODE", "LABEL"),
    "knowngroup": ("CODE", "LABEL"),
    "ethnic": ("CODE", "LABEL"),
    "religion": ("CODE", "LABEL"),
}
EVENTCODES_SCHEMA = pl.Schema(
    {
        "code": pl.Utf8,
        "description": pl.Utf8,
        "root_code": pl.Utf8,
        "level": pl.Utf8,  # root | base | event
        "goldstein_scale": pl.Float64,
        "quad_class": pl.Int8,
    }
)
_LEVELS = {2: "root", 3: "base", 4: "event"}
_GLUED = re.compile(r"^(?P<label>.*?\S)\s*(?P<code>\d{2,4}):\[(?P<goldstein>[-+]?\d+(?:\.\d+)?)\]\s*(?P<label2>\S.*)$")

REPO = Path(__file__).resolve().parents[2]
CAMEO_REFERENCE_DIR = REPO / "data" / "reference" / "cameo"
DEFAULT_LOOKUP_DIR = REPO.parent / "shared" / "data" / "conflict_events" / "gdelt" / "lookups"


def quad_class_for_root(root_code: str) -> int | None:
    """GDELT QuadClass of a CAMEO root code: 01-05 -> 1, 06-08 -> 2, 09-13 -> 3, 14-20 -> 4; else None."""
    if not re.fullmatch(r"\d{2}", root_code or ""):
        return None
    root = int(root_code)
    return 1 if 1 <= root <= 5 else 2 if root <= 8 else 3 if root <= 13 else 4 if root <= 20 else None


def _split_glued(code: str, label: str) -> list[tuple[str, str, float | None]]:
    """(code, label, glued goldstein) rows of one eventcodes line: two where a second entry is glued on."""
    m = _GLUED.match(label)
    if m and m["code"][:2] == code[:2] and m["code"] != code:
        return [(code, m["label"], None), (m["code"], m["label2"], float(m["goldstein"]))]
    return [(code, label, None)]


def read_cameo_lookup(path: Path | str, kind: str) -> pl.DataFrame:
    """CAMEO.<kind>.txt -> (code, label[, goldstein_in_label]) or, for goldsteinscale, (code, goldstein_scale)."""
    if kind not in LOOKUP_HEADERS:
        raise ValueError(f"unknown CAMEO lookup kind {kind!r}; expected one of {tuple(LOOKUP_HEADERS)}")
    path = Path(path)

    def fail(problem: str) -> SourceFormatError:
        return SourceFormatError(SOURCE, path.name, problem)

    try:
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail(f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    lines = text.replace("\r\n", "\n").split("\n")
    header = tuple(lines[0].split("\t"))
    if header != LOOKUP_HEADERS[kind]:
        raise fail(f"header {lines[0]!r}, expected {chr(9).join(LOOKUP_HEADERS[kind])!r} for CAMEO.{kind}")
    strict = kind in ("eventcodes", "goldsteinscale")
    rows: list[tuple[str, str, float | None]] = []
    where: dict[str, int] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip():
            raise fail(f"line {number}: expected '<code><TAB><value>', got {line[:80]!r}")
        code, value = fields[0].strip(), fields[1].strip()
        pieces = _split_glued(code, value) if kind == "eventcodes" else [(code, value, None)]
        for piece in pieces:
            if piece[0] in where and strict:
                raise fail(f"line {number}: code {piece[0]!r} repeats line {where[piece[0]]}")
            if piece[0] in where:  # a label lookup's repeated code: collapse, keeping every distinct label
                index = next(i for i, r in enumerate(rows) if r[0] == piece[0])
                labels = rows[index][1].split(" | ")
                if piece[1] not in labels:
                    rows[index] = (piece[0], " | ".join([*labels, piece[1]]), None)
                continue
            where[piece[0]] = number
            rows.append(piece)
    if kind == "goldsteinscale":
        values = []
        for code, value, _ in rows:
            try:
                values.append((code, float(value)))
            except ValueError:
                raise fail(f"line {where[code]}: Goldstein value {value!r} of code {code!r} is not a number") from None
        return pl.DataFrame(values, schema={"code": pl.Utf8, "goldstein_scale": pl.Float64}, orient="row")
    frame = pl.DataFrame(
        rows, schema={"code": pl.Utf8, "label": pl.Utf8, "goldstein_in_label": pl.Float64}, orient="row"
    )
    return frame if kind == "eventcodes" else frame.drop("goldstein_in_label")


def build_cameo_eventcodes(eventcodes: pl.DataFrame, goldstein: pl.DataFrame) -> pl.DataFrame:
    """eventcodes.csv: every CAMEO event code with its root, level, Goldstein value and QuadClass, by code."""
    bad = eventcodes.filter(~pl.col("code").str.contains(r"^\d{2,4}$"))["code"].to_list()
    if bad:
        raise ValueError(f"CAMEO event codes must be 2-4 digits: {bad[:5]}")
    table = eventcodes.join(goldstein, on="code", how="left").with_columns(
        pl.coalesce("goldstein_scale", "goldstein_in_label").alias("goldstein_scale"),
        pl.col("code").str.slice(0, 2).alias("root_code"),
    )
    missing = table.filter(pl.col("goldstein_scale").is_null())["code"].to_list()
    if missing:
        raise ValueError(f"CAMEO event codes without a Goldstein value: {missing[:10]}")
    orphans = goldstein.join(eventcodes, on="code", how="anti")["code"].to_list()
    if orphans:
        raise ValueError(f"Goldstein values for codes not in the event code list: {orphans[:10]}")
    return (
        table.with_columns(
            pl.col("label").alias("description"),
            pl.col("code").str.len_chars().replace_strict(_LEVELS, return_dtype=pl.Utf8).alias("level"),
            pl.col("root_code").map_elements(quad_class_for_root, return_dtype=pl.Int8).alias("quad_class"),
        )
        .select(EVENTCODES_SCHEMA.names())
        .cast(dict(EVENTCODES_SCHEMA))
        .sort("code")
    )


def build_cameo_countries(country: pl.DataFrame) -> pl.DataFrame:
    """country.csv: CAMEO country and region codes (ISO-3-like plus WSB, GZS, AFR, ...) with their labels."""
    return country.select("code", "label").sort("code")


def write_cameo_reference(lookup_dir: Path, out_dir: Path = CAMEO_REFERENCE_DIR) -> list[Path]:
    """Write eventcodes.csv and country.csv under out_dir from GDELT's lookups in lookup_dir; returns the paths."""
    lookup_dir, out_dir = Path(lookup_dir), Path(out_dir)
    events = build_cameo_eventcodes(
        read_cameo_lookup(lookup_dir / "CAMEO.eventcodes.txt", "eventcodes"),
        read_cameo_lookup(lookup_dir / "CAMEO.goldsteinscale.txt", "goldsteinscale"),
    )
    countries = build_cameo_countries(read_cameo_lookup(lookup_dir / "CAMEO.country.txt", "country"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("eventcodes.csv", events), ("country.csv", countries)):
        target = out_dir / name
        frame.write_csv(target, line_terminator="\n", float_precision=1)
        written.append(target)
    return written


if __name__ == "__main__":
    source_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LOOKUP_DIR
    for written_path in write_cameo_reference(source_dir):
        print(f"wrote {written_path}")
