"""GDELT export lines and files for the tests: one plausible event with fields replaced, and the sample zips."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path


from transforms.conflict_events.gdelt import GDELT_EVENT_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
GDELT_SAMPLES = SAMPLES / "gdelt"
SAMPLE_ZIPS = sorted(GDELT_SAMPLES.glob("*.export.CSV.zip"))
UTC = timezone.utc


def gdelt_row(**values: str) -> str:
    """One export line: a plausible event, with `values` (column name -> text) replacing fields."""
    base = dict.fromkeys(GDELT_EVENT_COLUMNS, "")
    base.update({
        "GLOBALEVENTID": "1180000001", "SQLDATE": "20240601", "MonthYear": "202406", "Year": "2024",
        "FractionDate": "2024.4164", "Actor1Code": "USAGOV", "Actor1Name": "WHITE HOUSE", "Actor1CountryCode": "USA",
        "Actor1Type1Code": "GOV", "Actor2Code": "RUS", "Actor2Name": "RUSSIA", "Actor2CountryCode": "RUS",
        "IsRootEvent": "1", "EventCode": "0211", "EventBaseCode": "021", "EventRootCode": "02", "QuadClass": "1",
        "GoldsteinScale": "3.4", "NumMentions": "4", "NumSources": "1", "NumArticles": "4",
        "AvgTone": "-1.25", "ActionGeo_Type": "4", "ActionGeo_FullName": "Kyiv, Kyyiv, Misto, Ukraine",
        "ActionGeo_CountryCode": "UP", "ActionGeo_ADM1Code": "UP12", "ActionGeo_Lat": "50.43",
        "ActionGeo_Long": "30.52", "ActionGeo_FeatureID": "-1044367", "DATEADDED": "20240601231500",
        "SOURCEURL": "https://news.example.org/a",
    })
    unknown = set(values) - set(GDELT_EVENT_COLUMNS)
    assert not unknown, unknown
    base.update(values)
    return "\t".join(base[c] for c in GDELT_EVENT_COLUMNS)


def export(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8")
