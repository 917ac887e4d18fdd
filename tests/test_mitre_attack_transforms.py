"""MITRE ATT&CK intrusion sets: STIX bundles to one row per group, and rule-based country attribution.

`python -m tests.test_mitre_attack_transforms` rewrites data/samples/mitre_attack/ (invented groups, G9xxx ids).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.config import REFERENCE_DIR
from pipelines.lib.reference import load_country_aliases, load_country_crosswalk
from transforms.cyber_incidents.mitre_attack import (
    ATTRIBUTED_SCHEMA,
    GROUP_SCHEMA,
    attribute_attack_groups,
    clean_description,
    read_attack_bundles,
)
from transforms.errors import SourceFormatError

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "samples" / "mitre_attack"
RULES_CSV = REFERENCE_DIR / "attack_attribution_rules.csv"
_NS = uuid.UUID("5f0c1d2e-7a41-4b8e-9c3d-2e6f4a1b0c9d")


def _uuid(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def _group(name: str, attack_id: str, domain: str, modified: str, description: str | None, *,
           aliases: list[str] | None = None, revoked: bool | None = False, deprecated: bool = False) -> dict:
    """An intrusion-set object in mitre/cti's STIX 2.0 shape (key order as MITRE writes it)."""
    obj: dict = {"modified": modified, "name": name}
    if description is not None:
        obj["description"] = description
    if aliases is not None:
        obj["aliases"] = aliases
    obj.update({
        "x_mitre_deprecated": deprecated, "x_mitre_version": "1.1", "type": "intrusion-set",
        "id": f"intrusion-set--{_uuid(name)}", "created": "2020-03-02T18:45:07.892Z",
        "created_by_ref": f"identity--{_uuid('publisher')}",
    })
    if revoked is not None:
        obj["revoked"] = revoked
    obj.update({
        "external_references": [
            {"source_name": "mitre-attack", "url": f"https://attack.mitre.org/groups/{attack_id}", "external_id": attack_id},
            {"source_name": "Example Vendor 2021", "description": "(Citation: Example Vendor 2021)"},
        ],
        "object_marking_refs": [f"marking-definition--{_uuid('marking')}"],
        "x_mitre_domains": [domain], "x_mitre_attack_spec_version": "3.2.0",
        "x_mitre_modified_by_ref": f"identity--{_uuid('publisher')}",
    })
    return obj


def _link(name: str, attack_id: str) -> str:
    return f"[{name}](https://attack.mitre.org/groups/{attack_id})"


HERON, FINCH = _link("Paper Heron", "G9001"), _link("Glass Finch", "G9005")
# (domain, object): Paper Heron is in two domains; the mobile copy is newer and adds the attribution.
SAMPLE = [
    ("enterprise-attack", _group(
        "Paper Heron", "G9001", "enterprise-attack", "2024-04-19T19:35:15.637Z",
        f"{HERON} is a threat group that has targeted telecommunications providers in Vietnam and India since "
        "at least 2015.(Citation: Example Vendor 2021)", aliases=["Paper Heron", "Origami Crane"])),
    ("mobile-attack", _group(
        "Paper Heron", "G9001", "mobile-attack", "2025-01-22T21:54:11.727Z",
        f"{HERON} is a threat group that has been attributed to Russia\u2019s Foreign Intelligence Service (SVR). "
        f"{HERON} has targeted telecommunications providers in Vietnam and India since at least 2015."
        "(Citation: Example Vendor 2021)(Citation: Example Vendor 2023)", aliases=["Paper Heron", "Origami Crane"])),
    ("enterprise-attack", _group(
        "Tin Badger", "G9002", "enterprise-attack", "2025-04-25T14:40:07.627Z", None, revoked=True)),
    ("enterprise-attack", _group(
        "Dusty Lantern", "G9003", "enterprise-attack", "2025-04-18T17:59:27.259Z",
        "Dusty Lantern has been deprecated: public reporting has linked Dusty Lantern to Iran\u2019s Ministry of "
        "Intelligence and Security (MOIS), and it is now tracked as part of another group.", aliases=["Dusty Lantern"],
        revoked=None, deprecated=True)),
    ("enterprise-attack", _group(
        "Copper Ledger", "G9004", "enterprise-attack", "2024-10-17T15:20:11.003Z",
        "Copper Ledger is a Russian-speaking, financially motivated criminal group whose victims are mostly banks "
        "in Russia and Ukraine.(Citation: Example Vendor 2021)", aliases=["Copper Ledger"])),
    ("mobile-attack", _group(
        "Glass Finch", "G9005", "mobile-attack", "2025-04-16T20:37:14.201Z",
        f"{FINCH} is a North Korea\u2013based threat group that has targeted journalists with Android spyware. "
        f"{FINCH} shares infrastructure with a suspected Iranian group.(Citation: Example Vendor 2023)",
        aliases=["Glass Finch"])),
]


def sample_files() -> list[tuple[str, bytes]]:
    """(path under data/samples/mitre_attack, bytes) in mitre/cti's layout: 4-space indent, ASCII, no final newline."""
    out = []
    for domain, obj in SAMPLE:
        bundle = {"type": "bundle", "id": f"bundle--{_uuid(domain + obj['name'])}", "spec_version": "2.0",
                  "objects": [obj]}
        out.append((f"{domain}/intrusion-set/{obj['id']}.json", json.dumps(bundle, indent=4).encode("ascii")))
    return sorted(out)


def write_sample(folder: Path = SAMPLE_DIR) -> None:
    """Rewrite the bundled sample files (byte-identical on every run)."""
    for name, raw in sample_files():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(raw)


def committed_files() -> list[tuple[str, bytes]]:
    # Only the per-group files: a combined per-domain bundle may sit beside them (generated from them).
    files = SAMPLE_DIR.glob("*-attack/intrusion-set/*.json")
    return sorted((p.relative_to(SAMPLE_DIR).as_posix(), p.read_bytes()) for p in files)


# --- the bundled sample -------------------------------------------------------------------------

def test_committed_sample_is_what_the_generator_writes():
    assert committed_files() == sample_files(), "run python -m tests.test_mitre_attack_transforms"


@pytest.fixture(scope="module")
def groups() -> pl.DataFrame:
    return read_attack_bundles(committed_files())


def by_id(frame: pl.DataFrame, attack_id: str) -> dict:
    return frame.filter(pl.col("attack_id") == attack_id).row(0, named=True)


def test_one_row_per_stix_id(groups):
    assert groups.schema == GROUP_SCHEMA
    assert groups["attack_id"].to_list() == ["G9001", "G9002", "G9003", "G9004", "G9005"]
    assert groups["stix_id"].is_unique().all()


def test_shared_group_merges_domains_and_keeps_the_newest_copy(groups):
    heron = by_id(groups, "G9001")
    assert heron["domains"] == ["enterprise-attack", "mobile-attack"]
    assert heron["modified"] == datetime(2025, 1, 22, 21, 54, 11, 727000, tzinfo=timezone.utc)
    assert "Foreign Intelligence Service" in heron["description"]
    assert heron["source_file"].startswith("mobile-attack/")
    assert heron["aliases"] == ["Paper Heron", "Origami Crane"]
    assert heron["created"] == datetime(2020, 3, 2, 18, 45, 7, 892000, tzinfo=timezone.utc)


def test_file_order_does_not_change_the_result(groups):
    assert read_attack_bundles(list(reversed(committed_files()))).equals(groups)


def test_revoked_and_deprecated_flags(groups):
    assert groups.filter(pl.col("revoked"))["attack_id"].to_list() == ["G9002"]
    assert groups.filter(pl.col("deprecated"))["attack_id"].to_list() == ["G9003"]
    badger = by_id(groups, "G9002")
    assert badger["description"] is None and badger["aliases"] == []
    assert by_id(groups, "G9003")["revoked"] is False  # no `revoked` key means not revoked


def test_folder_domain_joins_the_objects_domains():
    name, raw = sample_files()[-1]  # mobile-attack/…: Glass Finch or Paper Heron's mobile copy
    frame = read_attack_bundles([(name.replace("mobile-attack", "ics-attack"), raw)])
    assert frame["domains"][0].to_list() == ["mobile-attack", "ics-attack"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda o: o["external_references"].pop(0), "mitre-attack external_id"),
        (lambda o: o.update(id="intrusion-set--not-a-uuid"), "malformed intrusion-set id"),
        (lambda o: o.update(modified="2025-01-22"), "modified '2025-01-22' is not a STIX UTC timestamp"),
        (lambda o: o.update(x_mitre_domains=["pre-attack"]), "unknown ATT&CK domain 'pre-attack'"),
        (lambda o: o.update(aliases="Glass Finch"), "aliases is not a list of strings"),
        (lambda o: o.update(type="malware"), "holds no intrusion-set"),
    ],
)
def test_malformed_objects_fail_naming_the_file(edit, message):
    name, raw = sample_files()[0]
    bundle = json.loads(raw)
    edit(bundle["objects"][0])
    with pytest.raises(SourceFormatError, match=message) as e:
        read_attack_bundles([(name, json.dumps(bundle).encode())])
    assert name in str(e.value)


def test_collection_bundle_names_its_domain():
    objects = [json.loads(raw)["objects"][0] for name, raw in sample_files() if name.startswith("mobile-attack/")]
    for obj in objects:
        obj["x_mitre_domains"] = []
    relationship = {"type": "relationship", "id": "relationship--1", "relationship_type": "uses"}
    bundle = {"type": "bundle", "id": "bundle--x", "objects": [relationship, *objects]}
    frame = read_attack_bundles([("mobile-attack-18.1.json", json.dumps(bundle).encode())])
    assert frame["attack_id"].to_list() == ["G9001", "G9005"]
    assert frame["domains"].to_list() == [["mobile-attack"], ["mobile-attack"]]


def test_not_a_bundle():
    with pytest.raises(SourceFormatError, match="not a STIX bundle"):
        read_attack_bundles([("x.json", b'{"type": "intrusion-set"}')])
    with pytest.raises(SourceFormatError, match="not a JSON file"):
        read_attack_bundles([("x.json", b"<html>")])


# --- attribution ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules() -> pl.DataFrame:
    return pl.read_csv(RULES_CSV, infer_schema=False)


@pytest.fixture(scope="module")
def reference() -> tuple[pl.DataFrame, pl.DataFrame]:
    return load_country_aliases(), load_country_crosswalk()


def attribute(texts: list[str | None], rules, reference) -> list[tuple]:
    frame = pl.DataFrame({"description": texts}, schema={"description": pl.Utf8})
    out = attribute_attack_groups(frame, rules, *reference)
    return list(out.select("attributed_iso3", "attribution_rule").iter_rows())


def test_sample_attribution(groups, rules, reference):
    out = attribute_attack_groups(groups, rules, *reference)
    assert out.schema == ATTRIBUTED_SCHEMA
    got = {r["attack_id"]: (r["attributed_iso3"], r["attribution_basis"]) for r in out.iter_rows(named=True)}
    assert got == {
        "G9001": ("RUS", "description: attributed to Russia"),  # from the newer copy; the curly ’ is handled
        "G9002": (None, None),  # revoked, no description
        "G9003": ("IRN", "description: linked Dusty Lantern to Iran's"),
        "G9004": (None, None),  # Russian-speaking criminals with Russian victims: no state is named
        "G9005": ("PRK", "description: is a North Korea-based"),  # en dash; the later Iranian mention loses
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X is a suspected Chinese cyber espionage group.", ("CHN", "subject_nationality")),
        ("X is a People's Republic of China (PRC) state-sponsored actor.", ("CHN", "subject_nationality")),
        ("X is a Lebanon-based group that targeted Israeli firms.", ("LBN", "subject_nationality")),
        ("X is a group believed to operate out of China.", ("CHN", "operates_from")),
        ("X is a group that is likely based in Brazil.", ("BRA", "based_in")),
        ("X is a group with likely Chinese origins.", ("CHN", "origins")),
        ("X is a group with a suspected Iranian nexus.", ("IRN", "nexus")),
        ("X works on behalf of the Iranian government.", ("IRN", "acts_for_state")),
        ("X has been attributed to the Reconnaissance General Bureau.", ("PRK", "organ_north_korea")),
        ("X is a group attributed to the GRU.", ("RUS", "organ_russia")),
        # Not attributions: languages, victims, regions, hedged links, interests of two states.
        ("X is a Chinese-speaking group.", (None, None)),
        ("X has targeted banks in Russia, China and Iran.", (None, None)),
        ("X is a Middle Eastern threat group.", (None, None)),
        ("X's motivations appear to overlap with those of the Chinese government.", (None, None)),
        ("X is a group linked to Russian and Belorussian interests.", (None, None)),
        ("X targeted organizations based in Singapore.", (None, None)),
        ("X is a suspected South America espionage group.", (None, None)),
        (None, (None, None)),
    ],
)
def test_rules_on_phrases(text, expected, rules, reference):
    assert attribute([text], rules, reference) == [expected]


def test_free_capture_resolves_through_the_aliases(rules, reference):
    # A rule may capture any country name; names outside the term list resolve through the crosswalk aliases.
    extra = pl.DataFrame([{"rule_id": "free", "kind": "phrase", "pattern": r"sponsored by the state of (\w+)",
                           "iso3": None, "note": "test"}], schema={c: pl.Utf8 for c in rules.columns})
    assert attribute(["X is sponsored by the state of Kazakhstan."], pl.concat([rules, extra]), reference) == [
        ("KAZ", "free")]


def test_malformed_rule_sets_fail(rules, reference):
    bad_iso3 = rules.with_columns(pl.when(pl.col("rule_id") == "organ_iran").then(pl.lit("XXX")).otherwise("iso3").alias("iso3"))
    with pytest.raises(ValueError, match="organ_iran"):
        attribute(["x"], bad_iso3, reference)
    with pytest.raises(ValueError, match="duplicate rule ids"):
        attribute(["x"], pl.concat([rules, rules.head(1)]), reference)
    no_capture = rules.with_columns(pl.when(pl.col("rule_id") == "nexus").then(pl.lit("nexus")).otherwise("pattern").alias("pattern"))
    with pytest.raises(ValueError, match="must capture the country"):
        attribute(["x"], no_capture, reference)


def test_clean_description():
    text = "[APT0](https://attack.mitre.org/groups/G0000) is a \u2018test\u2019 group.(Citation: A B 2020)  Next\u2013line"
    assert clean_description(text) == "APT0 is a 'test' group. Next-line"


if __name__ == "__main__":
    write_sample()
    print(f"wrote {SAMPLE_DIR}")
