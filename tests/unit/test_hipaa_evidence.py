"""The HIPAA evidence pack (hipaa/*.md) names only tests and modules that exist.

Every `tests/...py::name` reference must point at a file that defines a test function or test class of
that name (read with `ast`; nothing is imported or run), every `appliance/...`, `deploy/...` and
`docs/...` path must exist, and controls.md must have a section for each 45 CFR 164.312 technical
safeguard that names a module, a test and what is not covered. Renaming or removing a test, or moving a
module, without updating the pack makes this fail.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HIPAA = REPO / "hipaa"
DOCUMENTS = ("controls.md", "threat-model.md", "data-flow.md", "retention.md", "offboarding.md")
TEST_REF = re.compile(r"(?<![\w/.-])(tests/[\w/]+\.py)::([A-Za-z_]\w*)(?:::([A-Za-z_]\w*))?")
PATH_REF = re.compile(r"(?<![\w/.$-])((?:appliance|deploy|docs)/[\w./-]*)")
SAFEGUARDS = {
    "164.312(a)(1)": "Access control",
    "164.312(a)(2)(i)": "Unique user identification",
    "164.312(a)(2)(ii)": "Emergency access procedure",
    "164.312(a)(2)(iii)": "Automatic logoff",
    "164.312(a)(2)(iv)": "Encryption and decryption",
    "164.312(b)": "Audit controls",
    "164.312(c)(1)": "Integrity",
    "164.312(c)(2)": "Mechanism to authenticate ePHI",
    "164.312(d)": "Person or entity authentication",
    "164.312(e)(1)": "Transmission security",
    "164.312(e)(2)(i)": "Integrity controls",
    "164.312(e)(2)(ii)": "Encryption",
}
# Specifications the appliance leaves to the customer's Microsoft 365 / Entra controls: the section must
# say so plainly and name who covers it.
COVERED_BY_THE_CUSTOMER = ("164.312(a)(2)(ii)", "164.312(a)(2)(iii)")
STRIDE = ("Spoofing", "Tampering", "Repudiation", "Information disclosure", "Denial of service",
          "Elevation of privilege", "Residual risks")


def _text(name: str) -> str:
    return (HIPAA / name).read_text(encoding="utf-8")


def _documents() -> dict[str, str]:
    return {name: _text(name) for name in DOCUMENTS if (HIPAA / name).is_file()}


def _test_refs() -> list[tuple[str, str, str, str | None]]:
    """(document, file, name, method) for every test reference, without duplicates, in order."""
    seen: dict[tuple[str, str, str | None], str] = {}
    for document, text in _documents().items():
        for match in TEST_REF.finditer(text):
            seen.setdefault((match[1], match[2], match[3]), document)
    return [(document, path, name, method) for (path, name, method), document in seen.items()]


def _path_refs() -> list[tuple[str, str]]:
    """(document, path) for every appliance/, deploy/ and docs/ path, trailing punctuation removed."""
    seen: dict[str, str] = {}
    for document, text in _documents().items():
        for match in PATH_REF.finditer(text):
            seen.setdefault(match[1].rstrip("."), document)
    return [(document, path) for path, document in seen.items()]


@cache
def _definitions(path: str) -> dict[str, set[str] | None]:
    """Top-level functions (None) and classes (their method names) defined in a test file."""
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"), filename=path)
    found: dict[str, set[str] | None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = None
        elif isinstance(node, ast.ClassDef):
            found[node.name] = {
                item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
    return found


def _sections(text: str) -> dict[str, str]:
    """controls.md's `## ` sections by their heading line."""
    sections: dict[str, str] = {}
    heading = None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = ""
        elif heading is not None:
            sections[heading] += line + "\n"
    return sections


def _section(safeguard: str) -> tuple[str, str]:
    found = [(heading, body) for heading, body in _sections(_text("controls.md")).items()
             if heading.startswith(safeguard + " ")]
    assert len(found) == 1, f"controls.md needs exactly one '## {safeguard} ...' section, found {len(found)}"
    return found[0]


def test_every_document_exists_and_cites_tests() -> None:
    documents = _documents()
    assert sorted(documents) == sorted(DOCUMENTS), f"missing in hipaa/: {set(DOCUMENTS) - set(documents)}"
    for name, text in documents.items():
        assert TEST_REF.search(text), f"hipaa/{name} cites no test"


def _missing_test(path: str, name: str, method: str | None) -> str | None:
    """Why `path::name[::method]` is not a test that exists (None if it is)."""
    if not (REPO / path).is_file():
        return f"{path} does not exist"
    definitions = _definitions(path)
    if name not in definitions:
        return f"{path} defines no function or class {name!r} (renamed?)"
    members = definitions[name]
    if members is None:
        return None if name.startswith("test") and method is None else "it is not a test function"
    if not name.startswith("Test"):
        return "it is not a test class"
    return None if method is None or (method.startswith("test") and method in members) else "no such test"


def test_every_cited_test_and_path_exists() -> None:
    """One check over every reference (a count, not one test case per link)."""
    tests, paths = _test_refs(), _path_refs()
    assert len(tests) >= 100 and len(paths) >= 50, (len(tests), len(paths))  # the patterns still find them
    problems = [
        f"hipaa/{document} cites {path}::{name}{'::' + method if method else ''}, but {why}"
        for document, path, name, method in tests
        if (why := _missing_test(path, name, method))
    ]
    problems += [
        f"hipaa/{document} cites {path}, which does not exist (moved or renamed?)"
        for document, path in paths
        if not (REPO / path).exists()
    ]
    assert problems == [], f"{len(problems)} of {len(tests) + len(paths)} references are broken:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("safeguard", sorted(SAFEGUARDS))
def test_controls_cover_each_technical_safeguard(safeguard: str) -> None:
    heading, body = _section(safeguard)
    assert SAFEGUARDS[safeguard].casefold() in heading.casefold(), f"'{heading}' should name {SAFEGUARDS[safeguard]}"
    assert TEST_REF.search(body), f"{safeguard}: no test cited"
    assert any(path.startswith("appliance/") for path in PATH_REF.findall(body)), f"{safeguard}: no module cited"
    assert "Not covered" in body, f"{safeguard}: say what the appliance does not cover"


@pytest.mark.parametrize("safeguard", COVERED_BY_THE_CUSTOMER)
def test_what_the_customer_covers_is_said_plainly(safeguard: str) -> None:
    _, body = _section(safeguard)
    assert "Not covered by the appliance" in body
    assert "customer's" in body and "Entra" in body, f"{safeguard}: say who covers it"


def test_the_threat_model_walks_stride_and_names_residual_risks() -> None:
    headings = [line[3:].strip() for line in _text("threat-model.md").splitlines() if line.startswith("## ")]
    for category in STRIDE:
        assert category in headings, f"threat-model.md has no '## {category}' section"
