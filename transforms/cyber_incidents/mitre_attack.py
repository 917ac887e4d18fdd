"""MITRE ATT&CK intrusion sets (STIX 2.0 bundles, mitre/cti layout) to one row per group, with rule-based attribution.

Decisions (../shared/data/cyber_incidents/SOURCES.md §6):
- Files may be mitre/cti's one-group bundles (`enterprise-attack/intrusion-set/intrusion-set--….json`) or whole
  collection bundles (`enterprise-attack.json`): every intrusion-set inside is read, other objects are ignored.
- One row per STIX id. A group published in several domains (enterprise/mobile/ics) appears once per domain
  with the same id: `domains` is the union of every copy's `x_mitre_domains` and of the domain its file name
  states (folder or collection file); every other field comes from the copy with the newest `modified` (ties: the
  first file name in sort order), and `source_file` names that copy. In v18.1 the copies differ only in
  `x_mitre_domains`.
- Revoked and deprecated groups are kept and flagged; revoked ones carry no description or aliases.
- ATT&CK has no country field. `attribute_attack_groups` reads the country from the description with the rules
  of data/reference/attack_attribution_rules.csv, only where the prose states it; among all rule matches the one
  earliest in the text wins (descriptions open with the group's origin), ties going to the earlier rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import polars as pl

from transforms.errors import SourceFormatError
from transforms.reference.countries import normalize_country_name

SOURCE = "mitre_attack"

GROUP_SCHEMA = pl.Schema(
    {
        "stix_id": pl.Utf8,
        "attack_id": pl.Utf8,
        "name": pl.Utf8,
        "aliases": pl.List(pl.Utf8),
        "description": pl.Utf8,
        "created": pl.Datetime("us", "UTC"),
        "modified": pl.Datetime("us", "UTC"),
        "revoked": pl.Boolean,
        "deprecated": pl.Boolean,
        "domains": pl.List(pl.Utf8),
        "version": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
ATTRIBUTED_SCHEMA = pl.Schema(
    {**GROUP_SCHEMA, "attributed_iso3": pl.Utf8, "attribution_basis": pl.Utf8, "attribution_rule": pl.Utf8}
)
RULES_SCHEMA = pl.Schema({"rule_id": pl.Utf8, "kind": pl.Utf8, "pattern": pl.Utf8, "iso3": pl.Utf8, "note": pl.Utf8})
DOMAINS = ("enterprise-attack", "mobile-attack", "ics-attack")

_STIX_ID = re.compile(r"intrusion-set--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ATTACK_ID = re.compile(r"G\d{4}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
# A domain folder (mitre/cti: enterprise-attack/intrusion-set/…) or a collection file (enterprise-attack.json,
# enterprise-attack-18.0.json) names the domain of every group inside.
_FOLDER_DOMAIN = re.compile(r"(?:^|[/\\])((?:enterprise|mobile|ics)-attack)(?:[/\\]|\.json$|-\d)")
_CITATION = re.compile(r"\(Citation:[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_COUNTRY_SLOT = "{country}"


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _timestamp(obj: dict[str, Any], key: str, file: str) -> datetime:
    value = obj.get(key)
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise _fail(file, f"{obj.get('id')}: {key} {value!r} is not a STIX UTC timestamp")
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _strings(obj: dict[str, Any], key: str, file: str) -> list[str]:
    value = obj.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(file, f"{obj.get('id')}: {key} is not a list of strings")
    return value


def _attack_id(obj: dict[str, Any], file: str) -> str:
    refs = obj.get("external_references") or []
    ids = {r.get("external_id") for r in refs if isinstance(r, dict) and r.get("source_name") == "mitre-attack"}
    found = next(iter(ids)) if len(ids) == 1 else None
    if not isinstance(found, str) or not _ATTACK_ID.fullmatch(found):
        raise _fail(file, f"{obj.get('id')}: expected one mitre-attack external_id G####, found {sorted(map(str, ids))}")
    return found


def _group(obj: dict[str, Any], file: str) -> dict[str, Any]:
    """One intrusion-set object as a GROUP_SCHEMA row (domains from the object and the file's folder)."""
    stix_id = obj.get("id")
    if not isinstance(stix_id, str) or not _STIX_ID.fullmatch(stix_id):
        raise _fail(file, f"malformed intrusion-set id {stix_id!r}")
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(file, f"{stix_id}: no name")
    domains = set(_strings(obj, "x_mitre_domains", file))
    if folder := _FOLDER_DOMAIN.search(file):
        domains.add(folder.group(1))
    unknown = sorted(domains - set(DOMAINS))
    if unknown:
        raise _fail(file, f"{stix_id}: unknown ATT&CK domain {unknown[0]!r}")
    description = obj.get("description")
    if description is not None and not isinstance(description, str):
        raise _fail(file, f"{stix_id}: description is not a string")
    version = obj.get("x_mitre_version")
    return {
        "stix_id": stix_id,
        "attack_id": _attack_id(obj, file),
        "name": name,
        "aliases": _strings(obj, "aliases", file),
        "description": description or None,
        "created": _timestamp(obj, "created", file),
        "modified": _timestamp(obj, "modified", file),
        "revoked": obj.get("revoked") is True,
        "deprecated": obj.get("x_mitre_deprecated") is True,
        "domains": sorted(domains, key=DOMAINS.index),
        "version": None if version is None else str(version),
        "source_file": file,
    }


def _bundle_groups(file: str, raw: bytes) -> list[dict[str, Any]]:
    try:
        bundle = json.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(file, f"not a JSON file ({e})") from e
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise _fail(file, "not a STIX bundle (type 'bundle' with an 'objects' array)")
    groups = [o for o in bundle["objects"] if isinstance(o, dict) and o.get("type") == "intrusion-set"]
    if not groups:
        raise _fail(file, "the bundle holds no intrusion-set")
    return [_group(o, file) for o in groups]


def read_attack_bundles(files: list[tuple[str, bytes]]) -> pl.DataFrame:
    """Intrusion sets from STIX bundles (file name, bytes), one GROUP_SCHEMA row per STIX id across domains."""
    copies: dict[str, list[dict[str, Any]]] = {}
    for file, raw in sorted(files, key=lambda f: f[0]):
        for group in _bundle_groups(file, raw):
            copies.setdefault(group["stix_id"], []).append(group)
    rows = []
    for stix_id, versions in copies.items():
        # Newest `modified` wins; sorted() is stable, so equal timestamps keep file-name order.
        kept = dict(sorted(versions, key=lambda g: g["modified"], reverse=True)[0])
        kept["domains"] = sorted({d for g in versions for d in g["domains"]}, key=DOMAINS.index)
        if len({g["attack_id"] for g in versions}) > 1:
            raise _fail(kept["source_file"], f"{stix_id} carries different ATT&CK ids across domains")
        rows.append(kept)
    return pl.DataFrame(rows, schema=GROUP_SCHEMA, orient="row").sort("attack_id", "stix_id")


def clean_description(text: str) -> str:
    """ATT&CK Markdown as plain prose: no (Citation: …) markers, link text only, straight quotes and hyphens."""
    text = _LINK.sub(r"\1", _CITATION.sub("", text))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2011", "-")
    return " ".join(text.split())


def check_attribution_rules(rules: pl.DataFrame, crosswalk: pl.DataFrame) -> None:
    """Raise ValueError on a malformed rule set: kinds, duplicate ids, unknown iso3, patterns that do not compile."""
    missing = [c for c in RULES_SCHEMA.names() if c not in rules.columns]
    if missing:
        raise ValueError(f"attribution rules lack columns {missing}")
    repeated = rules.filter(pl.col("rule_id").is_duplicated())["rule_id"].unique().sort().to_list()
    if repeated:
        raise ValueError(f"duplicate rule ids: {repeated}")
    kinds = sorted(set(rules["kind"].to_list()) - {"term", "phrase"}, key=str)
    if kinds:
        raise ValueError(f"unknown rule kinds {kinds} (expected term or phrase)")
    stray = rules.filter(pl.col("iso3").is_not_null() & ~pl.col("iso3").is_in(crosswalk["iso3"].implode()))
    if stray.height:
        raise ValueError(f"rules map to iso3 codes not in the crosswalk: {stray['rule_id'].to_list()}")
    if rules.filter((pl.col("kind") == "term") & pl.col("iso3").is_null()).height:
        raise ValueError("every term rule needs an iso3")
    phrases = rules.filter(pl.col("kind") == "phrase").select("rule_id", "pattern", "iso3")
    for rule_id, pattern, iso3 in phrases.iter_rows():
        try:
            compiled = re.compile(pattern.replace(_COUNTRY_SLOT, "(?P<country>x)"))
        except re.error as e:
            raise ValueError(f"rule {rule_id}: pattern does not compile: {e}") from e
        if iso3 is None and compiled.groups == 0:
            raise ValueError(f"rule {rule_id}: a phrase without iso3 must capture the country")


@dataclass(frozen=True)
class _Attributor:
    """Compiled phrase rules, the term table and the alias keys, built once per call."""

    phrases: tuple[tuple[str, re.Pattern[str], str | None], ...]
    terms: dict[str, str]
    aliases: dict[str, str]

    def country(self, match: re.Match[str], iso3: str | None) -> str | None:
        if iso3 is not None:
            return iso3
        captured = match.group("country") if "country" in match.re.groupindex else match.group(1)
        if not captured:
            return None
        return self.terms.get(captured) or self.aliases.get(normalize_country_name(captured))

    def attribute(self, text: str | None) -> tuple[str, str, str] | None:
        """(iso3, 'description: <phrase>', rule_id) of the earliest match naming a country, else None."""
        if not text:
            return None
        prose = clean_description(text)
        best: tuple[int, int, str, str, str] | None = None
        for order, (rule_id, pattern, iso3) in enumerate(self.phrases):
            for match in pattern.finditer(prose):
                if (country := self.country(match, iso3)) is not None:
                    candidate = (match.start(), order, country, match.group(0).strip(), rule_id)
                    best = candidate if best is None else min(best, candidate)
                    break
        return None if best is None else (best[2], f"description: {best[3]}", best[4])


def _attributor(rules: pl.DataFrame, aliases: pl.DataFrame) -> _Attributor:
    terms = dict(rules.filter(pl.col("kind") == "term").select("pattern", "iso3").iter_rows())
    # Longest first, so 'North Korean' wins over 'North Korea' and 'Iranian' over 'Iran'.
    slot = "(?P<country>" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + ")"
    phrases = tuple(
        (rule_id, re.compile(pattern.replace(_COUNTRY_SLOT, slot)), iso3)
        for rule_id, pattern, iso3 in rules.filter(pl.col("kind") == "phrase").select("rule_id", "pattern", "iso3").rows()
    )
    return _Attributor(phrases, terms, dict(aliases.select("alias_key", "iso3").drop_nulls().iter_rows()))


def attribute_attack_groups(
    groups: pl.DataFrame, rules: pl.DataFrame, aliases: pl.DataFrame, crosswalk: pl.DataFrame
) -> pl.DataFrame:
    """Add attributed_iso3, attribution_basis and attribution_rule from each description (null where none is stated)."""
    rules = rules.cast({c: pl.Utf8 for c in rules.columns})
    check_attribution_rules(rules, crosswalk)
    attributor = _attributor(rules, aliases)
    found = [attributor.attribute(d) for d in groups["description"].to_list()]
    return groups.with_columns(
        pl.Series("attributed_iso3", [f[0] if f else None for f in found], pl.Utf8),
        pl.Series("attribution_basis", [f[1] if f else None for f in found], pl.Utf8),
        pl.Series("attribution_rule", [f[2] if f else None for f in found], pl.Utf8),
    )
