"""Combine the per-group sample files into one STIX bundle per domain: the shape the live fetch stores.

Run from the repository root: python data/samples/generate_mitre_attack_bundles.py
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "mitre_attack"


def main() -> None:
    out = SAMPLES / "bundles"
    out.mkdir(exist_ok=True)
    for domain_dir in sorted(p for p in SAMPLES.iterdir() if p.name.endswith("-attack")):
        objects = []
        for path in sorted(domain_dir.rglob("*.json")):
            objects += json.loads(path.read_text(encoding="utf-8"))["objects"]
        bundle = {"type": "bundle", "id": f"bundle--threatwatch-sample-{domain_dir.name}", "spec_version": "2.0",
                  "objects": objects}
        (out / f"{domain_dir.name}.json").write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
