"""Comments and docs point at code that exists: a moved module leaves no reader looking for its old path."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("pipelines", "transforms", "sql", "tests", "benchmarks", "data")
SUFFIXES = {".py", ".sql", ".md", ".toml", ".yaml"}
# A path into the code folders, as a comment or doc would write it; templates (<source>, *) are left out.
CODE_PATH = re.compile(r"(?<![\w./-])((?:pipelines|transforms|sql|tests)/[\w./-]*\w)(?![\w<*{])")
MODULE = re.compile(r"(?<![\w.])((?:pipelines|transforms)(?:\.[a-z_]\w*)+)")


def _texts() -> list[tuple[str, str]]:
    files = [p for top in SCANNED for p in (REPO / top).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    files += [p for p in REPO.glob("*") if p.suffix in SUFFIXES]
    return [(str(p.relative_to(REPO)), p.read_text(encoding="utf-8")) for p in files if ".venv" not in p.parts]


def _module_exists(dotted: str) -> bool:
    """True when the dotted name starts with a real package path of at least two parts."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        base = REPO.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def test_every_path_and_module_named_in_the_tree_exists():
    missing = []
    for name, text in _texts():
        for number, line in enumerate(text.splitlines(), 1):
            missing += [f"{name}:{number}: {m}" for m in CODE_PATH.findall(line) if not (REPO / m).exists()]
            missing += [f"{name}:{number}: {m}" for m in MODULE.findall(line) if not _module_exists(m)]
    assert missing == []
