"""Write the synthetic ACLED and GDELT 2.0 samples: an ACLED export and API pages; GDELT export zips and file lists.

Stdlib only and deterministic (seeded; fixed zip timestamps): running it again rewrites byte-identical files.
    python data/samples/generate_conflict_acled_gdelt.py [output_dir]   (default: data/samples)
Every event, actor, note and URL below is invented; only the formats and their quirks copy the publishers'.

acled/acled_export_2024.csv: the 31-column 2023+ export layout, raw-export style (empty cells for missing
  values, `28 December 2022` dates, epoch-second timestamps, ISO numeric `iso`); 60 rows, 2024-01..2024-06,
  Nigeria / Ukraine / Mexico; one event_id_cnty twice (an older version with an older timestamp) and one row
  with negative fatalities, so staging keeps 58 events and rejects 2.
acled/api/acled_read_page1.json, page2.json: the read API's JSON (`{"status":200,"success":true,"count":n,
  "messages":[],"data":[...]}`), every value a string, ISO dates, plus an `iso3` field the export lacks;
  12 + 8 events, no rejects.
gdelt/<YYYYMMDDHHMMSS>.export.CSV.zip: six 15-minute export files, 2024-06-01 23:00, 23:15, 23:30 and
  2024-06-02 00:00, 00:15, 00:30 (23:45 is a hole: no file, as GDELT has), 38-42 rows each, each zip holding
  one tab-separated, header-less, 61-column member; codes with leading zeros (EventCode `0211`), Goldstein and
  QuadClass taken from data/reference/cameo/eventcodes.csv, FIPS country codes (US, UK, IS, GZ, WE, UP,
  RS, NI, GM, CH, BR, and OS = oceans, which names no country), rows with geo type 0 (empty geography),
  SQLDATEs up to a year before DATEADDED, non-ASCII place names. GLOBALEVENTIDs are contiguous in a file,
  with gaps between files. No reject is planted.
gdelt/masterfilelist.txt: `<bytes> <md5> <url>` for the six slots (export, mentions, gkg lines; sizes and
  md5 of the exports are those of the zips here; mentions/gkg files are listed, not shipped, and their
  sizes/md5s are made up); gdelt/lastupdate.txt: the three lines of the last slot.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVENTCODES_CSV = HERE.parent / "reference" / "cameo" / "eventcodes.csv"

# --- ACLED ---------------------------------------------------------------------------------------------

ACLED_HEADER = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
    "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
    "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]

# country: (id prefix, iso numeric, iso3, region, places (admin1, admin2, admin3, location, lat, lon))
COUNTRIES = {
    "Nigeria": ("NIG", "566", "NGA", "Western Africa", [
        ("Borno", "Maiduguri", "", "Maiduguri", 11.8333, 13.1500),
        ("Zamfara", "Gusau", "", "Gusau", 12.1628, 6.6614),
        ("Kaduna", "Kaduna North", "", "Kaduna", 10.5264, 7.4388),
        ("Benue", "Makurdi", "", "Makurdi", 7.7322, 8.5391),
        ("Lagos", "Ikeja", "", "Ikeja", 6.6059, 3.3491),
    ]),
    "Ukraine": ("UKR", "804", "UKR", "Europe", [
        ("Donetsk", "Pokrovskyi", "Avdiivska", "Avdiivka", 48.1394, 37.7425),
        ("Kharkiv", "Kupianskyi", "Kupianska", "Kupiansk", 49.7106, 37.6156),
        ("Zaporizhia", "Polohivskyi", "Orikhivska", "Robotyne", 47.4436, 35.8386),
        ("Kherson", "Khersonskyi", "Khersonska", "Kherson", 46.6354, 32.6169),
        ("Kyiv City", "", "", "Kyiv", 50.4501, 30.5234),
    ]),
    "Mexico": ("MEX", "484", "MEX", "Central America", [
        ("Guerrero", "Acapulco de Juarez", "", "Acapulco", 16.8634, -99.8901),
        ("Michoacan de Ocampo", "Uruapan", "", "Uruapan", 19.4213, -102.0630),
        ("Ciudad de Mexico", "Cuauhtemoc", "", "Mexico City - Cuauhtemoc", 19.4326, -99.1332),
        ("Zacatecas", "Fresnillo", "", "Fresnillo", 23.1750, -102.8697),
        ("Chiapas", "Tuxtla Gutierrez", "", "Tuxtla Gutierrez", 16.7528, -93.1167),
    ]),
}
ACTORS = {
    "Nigeria": {"state": "Military Forces of Nigeria (2023-)", "police": "Police Forces of Nigeria (2023-)",
                "rebel": "Invented Insurgent Front", "militia": "Sample Communal Militia (Nigeria)"},
    "Ukraine": {"state": "Military Forces of Ukraine (2019-)", "police": "Police Forces of Ukraine (2019-)",
                "rebel": "Military Forces of Russia (2000-)", "militia": "Invented Volunteer Unit (Ukraine)"},
    "Mexico": {"state": "Military Forces of Mexico (2018-2024)", "police": "Police Forces of Mexico (2018-2024)",
               "rebel": "Invented Cartel del Norte", "militia": "Sample Self-Defense Group (Mexico)"},
}
# (disorder_type, event_type, sub_event_type, actor1 role, inter1, actor2 role, inter2, fatality range)
EVENT_KINDS = [
    ("Political violence", "Battles", "Armed clash", "state", "1", "rebel", "2", (0, 12)),
    ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack", "rebel", "8",
     "civilians", "7", (0, 6)),
    ("Political violence", "Explosions/Remote violence", "Air/drone strike", "rebel", "8", "", "0", (0, 3)),
    ("Political violence", "Violence against civilians", "Attack", "militia", "4", "civilians", "7", (1, 9)),
    ("Political violence", "Violence against civilians", "Abduction/forced disappearance", "rebel", "2",
     "civilians", "7", (0, 0)),
    ("Demonstrations", "Protests", "Peaceful protest", "protesters", "6", "", "0", (0, 0)),
    ("Demonstrations", "Protests", "Protest with intervention", "protesters", "6", "police", "1", (0, 0)),
    ("Political violence; Demonstrations", "Riots", "Mob violence", "rioters", "5", "civilians", "7", (0, 2)),
    ("Strategic developments", "Strategic developments", "Arrests", "police", "1", "civilians", "7", (0, 0)),
    ("Strategic developments", "Strategic developments", "Looting/property destruction", "militia", "4",
     "civilians", "7", (0, 0)),
]
SOURCES = ["Invented Daily", "Sample Wire", "Example Tribune; Sample Wire", "Made-up Radio", "Fictional Gazette"]
SOURCE_SCALES = ["National", "Local partner-Other", "National-International", "New media", "Subnational"]
PRECISIONS = ["1"] * 8 + ["2", "3"]


def _actor(country: str, role: str) -> str:
    if role in ("", None):
        return ""
    if role in ACTORS[country]:
        return ACTORS[country][role]
    return {"civilians": f"Civilians ({country})", "protesters": f"Protesters ({country})",
            "rioters": f"Rioters ({country})"}[role]


def _acled_day(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def _epoch(moment: datetime) -> str:
    return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))


def acled_events(rng: random.Random, count: int, first_id: int, start: date, days: int) -> list[dict[str, str]]:
    """`count` invented ACLED events (values as text) between start and start + days."""
    events = []
    names = list(COUNTRIES)
    for n in range(count):
        country = names[n % len(names)]
        prefix, iso, _, region, places = COUNTRIES[country]
        admin1, admin2, admin3, location, lat, lon = rng.choice(places)
        disorder, event_type, sub, role1, inter1, role2, inter2, (low, high) = rng.choice(EVENT_KINDS)
        day = start + timedelta(days=rng.randrange(days))
        actor2 = _actor(country, role2)
        fatalities = rng.randint(low, high)
        civilians = role2 == "civilians" and disorder.startswith("Political violence")
        what = sub.lower()
        events.append({
            "event_id_cnty": f"{prefix}{first_id + n}",
            "event_date": _acled_day(day),
            "year": str(day.year),
            "time_precision": rng.choice(PRECISIONS),
            "disorder_type": disorder,
            "event_type": event_type,
            "sub_event_type": sub,
            "actor1": _actor(country, role1),
            "assoc_actor_1": "Invented Students Union" if role1 == "protesters" and n % 3 == 0 else "",
            "inter1": inter1,
            "actor2": actor2,
            "assoc_actor_2": "",
            "inter2": inter2 if actor2 else "0",
            "interaction": f"{inter1}{inter2 if actor2 else '0'}",
            "civilian_targeting": "Civilian targeting" if civilians else "",
            "iso": iso,
            "region": region,
            "country": country,
            "admin1": admin1,
            "admin2": admin2,
            "admin3": admin3,
            "location": location,
            "latitude": f"{lat + rng.uniform(-0.02, 0.02):.4f}",
            "longitude": f"{lon + rng.uniform(-0.02, 0.02):.4f}",
            "geo_precision": rng.choice(["1", "1", "2", "3"]),
            "source": rng.choice(SOURCES),
            "source_scale": rng.choice(SOURCE_SCALES),
            "notes": f"On {_acled_day(day)}, an invented {what} was reported in {location} ({admin1}), "
                     f"for this synthetic sample only. [fatalities={fatalities}]",
            "fatalities": str(fatalities),
            "tags": "crowd size=no report" if event_type in ("Protests", "Riots") else "",
            "timestamp": _epoch(datetime.combine(day + timedelta(days=rng.randint(3, 12)), datetime.min.time())
                                + timedelta(hours=rng.randint(6, 20), minutes=rng.randint(0, 59))),
        })
    return events


def write_acled(output: Path, rng: random.Random) -> None:
    """The export CSV (58 events + an older duplicate + a negative-fatalities row) and two API pages."""
    events = acled_events(rng, 58, 31000, date(2024, 1, 1), 182)
    # An older version of one event: same id, an earlier timestamp, the fatality count before a revision.
    older = dict(events[10])
    older["fatalities"] = str(max(int(older["fatalities"]) - 2, 0))
    older["timestamp"] = str(int(older["timestamp"]) - 5 * 86400)
    negative = acled_events(rng, 1, 31900, date(2024, 3, 1), 30)[0]
    negative["fatalities"] = "-1"
    rows = sorted(events + [negative], key=lambda e: (datetime.strptime(e["event_date"], "%d %B %Y"),
                                                      e["event_id_cnty"]), reverse=True)
    rows.insert(rows.index(events[10]) + 1, older)
    target = output / "acled"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "acled_export_2024.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=ACLED_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    api = acled_events(rng, 20, 32000, date(2024, 5, 1), 61)
    for event in api:  # the API's dates are ISO; it also returns iso3
        event["event_date"] = datetime.strptime(event["event_date"], "%d %B %Y").date().isoformat()
        event["iso3"] = COUNTRIES[event["country"]][2]
    pages = (api[:12], api[12:])
    (target / "api").mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(pages, 1):
        body = {"status": 200, "success": True, "count": len(page), "messages": [], "data": page}
        text = json.dumps(body, ensure_ascii=False, indent=1) + "\n"
        (target / "api" / f"acled_read_page{number}.json").write_text(text, encoding="utf-8")


# --- GDELT ---------------------------------------------------------------------------------------------

GDELT_BASE_URL = "http://data.gdeltproject.org/gdeltv2"
SLOTS = [datetime(2024, 6, 1, 23, 0), datetime(2024, 6, 1, 23, 15), datetime(2024, 6, 1, 23, 30),
         datetime(2024, 6, 2, 0, 0), datetime(2024, 6, 2, 0, 15), datetime(2024, 6, 2, 0, 30)]  # 23:45 is a hole
# (code, name, CAMEO country, type code)
GDELT_ACTORS = [
    ("USA", "UNITED STATES", "USA", ""), ("USAGOV", "WHITE HOUSE", "USA", "GOV"), ("RUS", "RUSSIA", "RUS", ""),
    ("RUSMIL", "RUSSIAN ARMY", "RUS", "MIL"), ("UKR", "UKRAINE", "UKR", ""),
    ("UKRMIL", "UKRAINIAN TROOP", "UKR", "MIL"),
    ("ISR", "ISRAEL", "ISR", ""), ("ISRMIL", "ISRAELI DEFENSE FORCES", "ISR", "MIL"), ("PSE", "PALESTINIAN", "PSE", ""),
    ("NGA", "NIGERIA", "NGA", ""), ("NGACOP", "NIGERIAN POLICE", "NGA", "COP"), ("DEU", "GERMANY", "DEU", ""),
    ("CHN", "CHINA", "CHN", ""), ("GBR", "UNITED KINGDOM", "GBR", ""), ("BRA", "BRAZIL", "BRA", ""),
    ("COP", "POLICE", "", "COP"), ("CVL", "RESIDENTS", "", "CVL"), ("REB", "MILITANT", "", "REB"),
    ("GOV", "PRESIDENT", "", "GOV"), ("", "", "", ""),
]
EVENT_CODES = ["010", "0211", "036", "040", "042", "043", "046", "051", "057", "061", "071", "0831", "111", "112",
               "120", "130", "138", "141", "1411", "145", "173", "180", "190", "193", "194", "195"]
# (geo type, full name, FIPS country, ADM1, ADM2, lat, lon, feature id)
PLACES = [
    (4, "Kyiv, Kyyiv, Misto, Ukraine", "UP", "UP12", "", 50.4332, 30.5166, "-1044367"),
    (1, "Ukraine", "UP", "UP", "", 49.0, 32.0, "UP"),
    (4, "Kharkiv, Kharkivs'ka Oblast', Ukraine", "UP", "UP07", "", 49.9836, 36.2264, "-1041400"),
    (3, "Washington, District of Columbia, United States", "US", "USDC", "USDC001", 38.8948, -77.0364, "531871"),
    (2, "Texas, United States", "US", "USTX", "", 31.1060, -97.6475, "TX"),
    (1, "United States", "US", "US", "", 39.828175, -98.5795, "US"),
    (4, "Tel Aviv, Tel Aviv, Israel", "IS", "IS05", "", 32.0665, 34.7656, "-781521"),
    (4, "Gaza, Gaza Strip, Palestine", "GZ", "GZ", "", 31.5028, 34.4663, "-780910"),
    (4, "Ramallah, West Bank, Palestine", "WE", "WE", "", 31.8996, 35.2042, "-788112"),
    (4, "Abuja, Federal Capital Territory, Nigeria", "NI", "NI11", "", 9.0578, 7.4951, "-2007320"),
    (4, "Maiduguri, Borno, Nigeria", "NI", "NI27", "", 11.8464, 13.1603, "-2019950"),
    (4, "Moscow, Moskva, Russia", "RS", "RS48", "", 55.7558, 37.6173, "-2960545"),
    (4, "Berlin, Berlin, Germany", "GM", "GM16", "", 52.5200, 13.4049, "-1746400"),
    (4, "Beijing, Beijing, China", "CH", "CH22", "", 39.9042, 116.4074, "-1898550"),
    (4, "London, London, City of, United Kingdom", "UK", "UKH9", "", 51.5073, -0.1276, "-2601880"),
    (4, "São Paulo, São Paulo, Brazil", "BR", "BR27", "", -23.5505, -46.6333, "-735120"),
    (1, "Red Sea", "OS", "OS", "", 20.2802, 38.5125, "OS"),
]
NO_GEO = (0, "", "", "", "", None, None, "")


def read_eventcodes(path: Path = EVENTCODES_CSV) -> dict[str, tuple[str, str, str, str]]:
    """code -> (base code, root code, quad class, goldstein) from the repo's CAMEO table."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    out = {}
    for code in EVENT_CODES:
        if code not in rows:
            raise SystemExit(f"CAMEO code {code} is not in {path}")
        row = rows[code]
        out[code] = (code[:3], row["root_code"], row["quad_class"], row["goldstein_scale"])
    return out


def _geo_fields(place: tuple) -> list[str]:
    geo_type, name, fips, adm1, adm2, lat, lon, feature = place
    return [str(geo_type), name, fips, adm1, adm2, "" if lat is None else f"{lat:g}",
            "" if lon is None else f"{lon:g}", feature]


def _actor_fields(actor: tuple) -> list[str]:
    code, name, country, type_code = actor
    return [code, name, country, "", "", "", "", type_code, "", ""]


def gdelt_rows(rng: random.Random, slot: datetime, first_id: int, count: int,
               codes: dict[str, tuple[str, str, str, str]]) -> list[list[str]]:
    """`count` invented 61-field export rows added at `slot`."""
    rows = []
    for n in range(count):
        back = rng.choice([0] * 10 + [1, 2, 30, 95, 366])
        day = slot.date() - timedelta(days=back)
        actor1, actor2 = rng.choice(GDELT_ACTORS), rng.choice(GDELT_ACTORS)
        code = rng.choice(EVENT_CODES)
        base, root, quad, goldstein = codes[code]
        action = NO_GEO if n % 10 == 3 else rng.choice(PLACES)  # every file has events without geography
        geo1 = action if actor1[0] else NO_GEO
        geo2 = rng.choice(PLACES) if actor2[0] else NO_GEO
        mentions = rng.randint(1, 20)
        sources = rng.randint(1, min(mentions, 5))
        fraction = f"{day.year + day.timetuple().tm_yday / 365:.4f}"
        row = [
            str(first_id + n), day.strftime("%Y%m%d"), day.strftime("%Y%m"), str(day.year), fraction,
            *_actor_fields(actor1), *_actor_fields(actor2),
            rng.choice(["1", "1", "0"]), code, base, root, quad, goldstein,
            str(mentions), str(sources), str(mentions), repr(round(rng.uniform(-9, 4), 14)),
            *_geo_fields(geo1), *_geo_fields(geo2), *_geo_fields(action),
            slot.strftime("%Y%m%d%H%M%S"), f"https://news.example.org/{day:%Y/%m/%d}/invented-story-{first_id + n}",
        ]
        assert len(row) == 61, len(row)
        rows.append(row)
    return rows


def _zip_bytes(member: str, data: bytes, slot: datetime) -> bytes:
    """A deterministic one-member zip (fixed date_time, permissions and compression level)."""
    buffer = io.BytesIO()
    info = zipfile.ZipInfo(member, date_time=slot.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _fake_list_entry(rng: random.Random, name: str) -> str:
    """A listed-but-not-shipped file: made-up size, md5 of its name."""
    return f"{rng.randint(50_000, 9_000_000)} {hashlib.md5(name.encode()).hexdigest()} {GDELT_BASE_URL}/{name}"


def write_gdelt(output: Path, rng: random.Random) -> None:
    """Six export zips, masterfilelist.txt and lastupdate.txt."""
    codes = read_eventcodes()
    target = output / "gdelt"
    target.mkdir(parents=True, exist_ok=True)
    lines: list[list[str]] = []
    next_id = 1180441201
    for slot in SLOTS:
        count = rng.randint(38, 42)
        rows = gdelt_rows(rng, slot, next_id, count, codes)
        next_id += count + rng.randint(150, 900)  # ids are contiguous in a file, with gaps between files
        stamp = slot.strftime("%Y%m%d%H%M%S")
        member = f"{stamp}.export.CSV"
        text = "".join("\t".join(r) + "\n" for r in rows).encode("utf-8")
        blob = _zip_bytes(member, text, slot)
        (target / f"{member}.zip").write_bytes(blob)
        lines.append([
            f"{len(blob)} {hashlib.md5(blob).hexdigest()} {GDELT_BASE_URL}/{member}.zip",
            _fake_list_entry(rng, f"{stamp}.mentions.CSV.zip"),
            _fake_list_entry(rng, f"{stamp}.gkg.csv.zip"),
        ])
    (target / "masterfilelist.txt").write_text("".join(f"{l}\n" for slot in lines for l in slot), encoding="utf-8")
    (target / "lastupdate.txt").write_text("".join(f"{l}\n" for l in lines[-1]), encoding="utf-8")


def main(output: Path) -> None:
    """Write acled/ and gdelt/ under `output`."""
    write_acled(output, random.Random(20240601))
    write_gdelt(output, random.Random(20240602))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
