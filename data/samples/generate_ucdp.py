"""Write the synthetic UCDP samples: GED events in three layouts (ucdp_ged/) and an ACD table (ucdp_acd/).

Stdlib only and deterministic (seeded): running it again rewrites byte-identical files.
    python data/samples/generate_ucdp.py [output_dir]   (default: data/samples/)
Every event, actor, place, headline and number below is invented; only the formats copy UCDP's:
- ucdp_ged/GEDEvent_v25_1.csv: the release CSV, 49 columns, minimal quoting, LF, dates 'YYYY-MM-DD 00:00:00.000',
  `;`-joined source lists whose source_article items are themselves quoted; 60 events, Jan-Jun 2024, in Syria,
  Sudan, Myanmar and Ukraine: a 2-6-day event (date_prec 2), a week, a month and a half-year event, one with
  low > best (staged as published, flagged deaths_ordered false), one with number_of_sources -1, two headlines
  with an embedded newline.
- ucdp_ged/conflict_data_syr.csv: the HDX country copy of the same release's Syria events: `iso3` after
  `country` and a row of HXL hashtags under the header.
- ucdp_ged/api/gedevents_25.1_page1.json, page2.json: the API reply pages (pagesize 10) for the Sudan events:
  numbers as JSON numbers, booleans for active_year, dates 'YYYY-MM-DDT00:00:00'.
- ucdp_acd/UcdpPrioConflict_v25_1.csv: 20 conflict-years, every field double-quoted (R write.csv style),
  multi-valued gwno_loc ("651, 666"), region, gwno_a ("651,  663"), GW codes whose country changes with the year
  (365, 345, 678) and one the crosswalk cannot resolve (680 before South Yemen's independence).
"""

from __future__ import annotations

import csv
import json
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

RELEASE = "25.1"
GED_COLUMNS = [
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
    "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
    "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
    "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
    "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
]
# HDX's hashtags, by column (the other columns get an empty cell).
HXL_TAGS = {
    "year": "#date+year", "side_a": "#group+name+first", "side_b": "#group+name+second",
    "source_article": "#meta+source", "source_headline": "#description", "where_coordinates": "#loc+name",
    "adm_1": "#adm1+name", "adm_2": "#adm2+name", "latitude": "#geo+lat", "longitude": "#geo+lon",
    "country": "#country+name", "iso3": "#country+code", "region": "#region+name", "date_start": "#date+start",
    "date_end": "#date+end", "best": "#affected+killed",
}
ACD_COLUMNS = [
    "conflict_id", "location", "side_a", "side_a_id", "side_a_2nd", "side_b", "side_b_id", "side_b_2nd",
    "incompatibility", "territory_name", "year", "intensity_level", "cumulative_intensity", "type_of_conflict",
    "start_date", "start_prec", "start_date2", "start_prec2", "ep_end", "ep_end_date", "ep_end_prec", "gwno_a",
    "gwno_a_2nd", "gwno_b", "gwno_b_2nd", "gwno_loc", "region", "version",
]

# country: (GW code, ISO3 (HDX copies only), UCDP region)
COUNTRIES = {
    "Syria": (652, "SYR", "Middle East"),
    "Sudan": (625, "SDN", "Africa"),
    "Myanmar (Burma)": (775, "MMR", "Asia"),
    "Ukraine": (369, "UKR", "Europe"),
}
# dyad key: (type_of_violence, conflict id, conflict name, dyad id, side a id, side a, side b id, side b, gwnoa, gwnob)
DYADS = {
    "syr_gov": (1, 91001, "Syria: Government", 92001, 93001, "Government of Syria", 93002, "Eastern Plains Front",
                "652", ""),
    "syr_os": (3, 91002, "Ridge Brigades - civilians", 92002, 93003, "Ridge Brigades", 1, "Civilians", "", ""),
    "sdn_gov": (1, 91003, "Sudan: Government", 92003, 93004, "Government of Sudan", 93005,
                "Northern Valley Forces", "625", ""),
    "sdn_ns": (2, 91004, "Sand River Militia - Hill Guard", 92004, 93006, "Sand River Militia", 93007, "Hill Guard",
               "", ""),
    "mmr_gov": (1, 91005, "Myanmar (Burma): Government", 92005, 93008, "Government of Myanmar (Burma)", 93009,
                "Coastal Unity Army", "775", ""),
    "ukr_int": (1, 91006, "Russia (Soviet Union) - Ukraine", 92006, 93010, "Government of Russia (Soviet Union)",
                93011, "Government of Ukraine", "365", "369"),
}
# country: [(place, adm_1, adm_2, lat, lon, where_prec)], invented places at plausible coordinates.
PLACES = {
    "Syria": [("Tall Sabir village", "Halab governorate", "Sample district", 36.21, 37.13, 1),
              ("Khirbat Nour town", "Idlib governorate", "", 35.93, 36.63, 1),
              ("Wadi Qasr area", "Dayr Az Zawr governorate", "", 35.33, 40.14, 2)],
    "Sudan": [("Um Badir town", "Khartoum state", "Sample locality", 15.59, 32.53, 1),
              ("Jebel Sara village", "North Darfur state", "", 13.63, 25.35, 1),
              ("Abu Tabr area", "South Kordofan state", "", 11.02, 29.72, 3)],
    "Myanmar (Burma)": [("Kyauk Ywa village", "Sagaing region", "Sample township", 22.01, 95.94, 1),
                        ("Minbya coast", "Rakhine state", "", 20.37, 93.27, 2),
                        ("Nam Hsan hills", "Shan state", "", 22.96, 97.16, 4)],
    "Ukraine": [("Sample Yar town", "Donetska oblast", "Sample raion", 48.59, 37.99, 1),
                ("Velyka Pole village", "Kharkivska oblast", "", 49.71, 37.61, 1),
                ("Dniprovske area", "Zaporizka oblast", "", 47.48, 35.39, 2)],
}
OFFICES = ["Sample Wire", "Invented Daily", "Example Monitor", "Placeholder Radio"]
HEADLINES = ["Clashes reported near {p}", "Shelling hits {p}", "Fighters killed in raid on {p}",
             "Residents report deaths in {p}", "Attack on checkpoint near {p}"]


def priogrid(lat: float, lon: float) -> int:
    """PRIO-GRID cell id of a point (0.5 degree cells, numbered from (-90, -180) row by row)."""
    return math.floor((lat + 90) / 0.5) * 720 + math.floor((lon + 180) / 0.5) + 1


def ged_events() -> list[dict]:
    """The 60 invented events, in release order (by country block, then date)."""
    rng = random.Random(2501)
    # country, dyad keys cycled, number of events
    plan = [("Syria", ["syr_gov", "syr_gov", "syr_os"], 15), ("Sudan", ["sdn_gov", "sdn_ns"], 20),
            ("Myanmar (Burma)", ["mmr_gov"], 13), ("Ukraine", ["ukr_int"], 12)]
    events, next_id, seq = [], 610001, {}
    for country, dyads, count in plan:
        gw, _, region = COUNTRIES[country]
        for n in range(count):
            key = dyads[n % len(dyads)]
            tov, conflict_id, conflict, dyad_id, a_id, side_a, b_id, side_b, gwnoa, gwnob = DYADS[key]
            place, adm1, adm2, lat0, lon0, where_prec = PLACES[country][n % 3]
            lat, lon = round(lat0 + rng.uniform(-0.05, 0.05), 6), round(lon0 + rng.uniform(-0.05, 0.05), 6)
            start = date(2024, 1, 1) + timedelta(days=int(n * 180 / count) + rng.randrange(0, 5))
            deaths = [rng.randrange(0, 6), rng.randrange(0, 8), rng.randrange(0, 5), rng.randrange(0, 3)]
            if tov == 3:
                deaths = [0, 0, rng.randrange(1, 9), 0]
            best = sum(deaths) or 1
            deaths[3] += best - sum(deaths)
            sources = 1 + rng.randrange(0, 3)
            seq[dyad_id] = seq.get(dyad_id, 0) + 1
            days = [start + timedelta(days=i) for i in range(sources)]
            offices = [OFFICES[(n + i) % len(OFFICES)] for i in range(sources)]
            heads = [HEADLINES[(n + i) % len(HEADLINES)].format(p=place) for i in range(sources)]
            events.append({
                "id": next_id, "relid": f"{COUNTRIES[country][1]}-2024-{tov}-{dyad_id}-{seq[dyad_id]}", "year": 2024,
                "active_year": 1, "code_status": "Clear", "type_of_violence": tov, "conflict_dset_id": str(conflict_id),
                "conflict_new_id": conflict_id, "conflict_name": conflict, "dyad_dset_id": str(dyad_id),
                "dyad_new_id": dyad_id, "dyad_name": f"{side_a} - {side_b}", "side_a_dset_id": str(a_id),
                "side_a_new_id": a_id, "side_a": side_a, "side_b_dset_id": str(b_id), "side_b_new_id": b_id,
                "side_b": side_b, "number_of_sources": sources,
                "source_article": ";".join(f'"{o},{d.isoformat()},{h}"' for o, d, h in zip(offices, days, heads)),
                "source_office": ";".join(offices), "source_date": ";".join(d.isoformat() for d in days),
                "source_headline": ";".join(heads), "source_original": "local residents" if n % 2 else "",
                "where_prec": where_prec, "where_coordinates": place,
                "where_description": f"{place} ({adm1.split()[0]})", "adm_1": adm1, "adm_2": adm2,
                "latitude": lat, "longitude": lon, "geom_wkt": f"POINT ({lon!r} {lat!r})",
                "priogrid_gid": priogrid(lat, lon), "country": country, "country_id": gw, "region": region,
                "event_clarity": 1, "date_prec": 1, "date_start": start, "date_end": start,
                "deaths_a": deaths[0], "deaths_b": deaths[1], "deaths_civilians": deaths[2],
                "deaths_unknown": deaths[3], "best": best, "high": best + rng.randrange(0, 4),
                "low": max(0, best - rng.randrange(0, 3)), "gwnoa": gwnoa, "gwnob": gwnob,
            })
            next_id += 1 + rng.randrange(0, 3)
    by_id = {e["id"]: e for e in events}
    ids = list(by_id)
    # The quirks, on fixed events.
    syr, sdn, mmr, ukr = ids[0:15], ids[15:35], ids[35:48], ids[48:60]
    _span(by_id[mmr[3]], 2, 3)  # 2-6 days: range
    _span(by_id[sdn[7]], 3, 6)  # a week
    month = by_id[ukr[4]]
    month["date_start"], month["date_end"], month["date_prec"] = date(2024, 3, 1), date(2024, 3, 31), 4
    half = by_id[sdn[12]]
    half["date_start"], half["date_end"], half["date_prec"], half["event_clarity"] = (
        date(2024, 1, 1), date(2024, 6, 30), 5, 2)
    broken = by_id[mmr[6]]
    broken["low"] = broken["best"] + 2  # low > best: kept as published, flagged
    by_id[mmr[9]]["number_of_sources"] = -1  # UCDP's "unknown"
    by_id[syr[4]]["source_headline"] = "Shelling in the north\nresidents flee " + by_id[syr[4]]["where_coordinates"]
    by_id[ukr[2]]["source_headline"] = "Strike on a depot\ntwo soldiers killed"
    by_id[ukr[2]]["source_original"] = "Sample oblast\nadministration"
    return events


def _span(event: dict, precision: int, days: int) -> None:
    event["date_end"] = event["date_start"] + timedelta(days=days)
    event["date_prec"] = precision


def csv_value(column: str, value: object) -> str:
    """A value as the release CSV writes it."""
    if column in ("date_start", "date_end"):
        return f"{value.isoformat()} 00:00:00.000"
    if column in ("latitude", "longitude"):
        return f"{value:.6f}"
    return str(value)


def api_value(column: str, value: object) -> object:
    """A value as the API's JSON carries it."""
    if column in ("date_start", "date_end"):
        return f"{value.isoformat()}T00:00:00"
    if column == "active_year":
        return bool(value)
    if column in ("gwnoa", "gwnob"):
        return value or None
    return value


def write_release_csv(path: Path, events: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(GED_COLUMNS)
        writer.writerows([csv_value(c, e[c]) for c in GED_COLUMNS] for e in events)


def write_hdx_csv(path: Path, events: list[dict]) -> None:
    after = GED_COLUMNS.index("country") + 1
    columns = GED_COLUMNS[:after] + ["iso3"] + GED_COLUMNS[after:]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerow([HXL_TAGS.get(c, "") for c in columns])
        for e in events:
            row = {**e, "iso3": COUNTRIES[e["country"]][1]}
            writer.writerow(csv_value(c, row[c]) for c in columns)


def write_api_pages(folder: Path, events: list[dict], page_size: int = 10) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    base = f"https://ucdpapi.pcr.uu.se/api/gedevents/{RELEASE}?pagesize={page_size}&Country=625"
    pages = [events[i:i + page_size] for i in range(0, len(events), page_size)]
    for number, page in enumerate(pages):
        reply = {
            "TotalCount": len(events), "TotalPages": len(pages),
            "PreviousPageUrl": f"{base}&page={number - 1}" if number > 0 else "",
            "NextPageUrl": f"{base}&page={number + 1}" if number + 1 < len(pages) else "",
            "Result": [{c: api_value(c, e[c]) for c in GED_COLUMNS} for e in page],
        }
        (folder / f"gedevents_{RELEASE}_page{number + 1}.json").write_text(
            json.dumps(reply, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


# conflict_id, location, side_a, side_a_id, side_b, side_b_id, incompatibility, territory, type, gwno_a, gwno_b,
# gwno_loc, region, start_date, start_date2, [(year, intensity, ep_end_date or "")]
ACD_CONFLICTS = [
    (91101, "Egypt, Israel", "Government of Egypt, Government of Jordan", "117, 119", "Government of Israel", "121",
     1, "Sample Border Zone", 2, "651,  663", "666", "651, 666", "2", "2022-03-02", "2022-03-02",
     [(2022, 1, ""), (2023, 1, ""), (2024, 1, "2024-11-30")]),
    (91102, "Russia (Soviet Union)", "Government of Russia (Soviet Union)", "57", "Sample Republic Movement", "9101",
     1, "Sample Highlands", 3, "365", "", "365", "1", "1990-06-11", "1990-06-11",
     [(1990, 1, ""), (1991, 1, ""), (1992, 2, ""), (1993, 1, "1993-08-20")]),
    (91103, "Yemen (North Yemen)", "Government of Yemen (North Yemen)", "127", "Sample Tribal Coalition", "9102",
     2, "", 3, "678", "", "678", "2", "1989-04-15", "1989-04-15",
     [(1989, 1, ""), (1990, 1, "1990-12-01"), (2015, 2, ""), (2016, 2, "")]),
    (91104, "United Kingdom, South Yemen", "Government of United Kingdom", "60", "Sample Liberation Front", "9103",
     1, "Sample Protectorate", 1, "200", "", "680", "2", "1965-02-01", "1965-02-01",
     [(1965, 1, ""), (1966, 1, "1966-12-31")]),
    (91105, "Sudan", "Government of Sudan", "116", "Sample Southern Movement", "9104",
     1, "Sample South", 4, "625", "", "625", "4", "2010-05-20", "2010-05-20",
     [(2010, 1, ""), (2011, 1, ""), (2012, 1, "2012-09-27")]),
    (91106, "Afghanistan, United States of America", "Government of Afghanistan", "130", "Sample Network", "9105",
     2, "", 4, "700", "", "700, 2", "3, 5", "2001-10-07", "2001-10-07", [(2001, 2, "2001-12-22")]),
    (91107, "Serbia (Yugoslavia)", "Government of Serbia (Yugoslavia)", "79", "Sample Valley Army", "9106",
     1, "Sample Valley", 3, "345", "", "345", "1", "1991-07-01", "1998-02-28",
     [(1991, 1, "1991-12-31"), (1998, 2, ""), (1999, 2, "1999-06-10")]),
]


def acd_rows() -> list[list[str]]:
    """20 conflict-years in ACD layout (version 25.1)."""
    rows = []
    for conflict in ACD_CONFLICTS:
        cid, location, side_a, a_id, side_b, b_id, incompat, territory, tov, gwa, gwb, loc, region = conflict[:13]
        start, start2, years = conflict[13:]
        cumulative = 0
        for year, intensity, ep_end_date in years:
            cumulative = 1 if intensity == 2 or cumulative else 0
            a_2nd, gwa_2nd = ("Government of United States of America", "2") if cid == 91106 else ("", "")
            rows.append([
                str(cid), location, side_a, a_id, a_2nd, side_b, b_id, "", str(incompat), territory, str(year),
                str(intensity), str(cumulative), str(tov), start, "1", start2, "1" if start2 == start else "2",
                "1" if ep_end_date else "0", ep_end_date, "", gwa, gwa_2nd, gwb, "", loc, region, RELEASE,
            ])
    return rows


def write_acd_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(ACD_COLUMNS)
        writer.writerows(acd_rows())


def main(output: Path) -> None:
    """Write ucdp_ged/ and ucdp_acd/ into `output`."""
    ged, acd = output / "ucdp_ged", output / "ucdp_acd"
    ged.mkdir(parents=True, exist_ok=True)
    acd.mkdir(parents=True, exist_ok=True)
    events = ged_events()
    write_release_csv(ged / f"GEDEvent_v{RELEASE.replace('.', '_')}.csv", events)
    write_hdx_csv(ged / "conflict_data_syr.csv", [e for e in events if e["country"] == "Syria"])
    write_api_pages(ged / "api", [e for e in events if e["country"] == "Sudan"])
    write_acd_csv(acd / f"UcdpPrioConflict_v{RELEASE.replace('.', '_')}.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
