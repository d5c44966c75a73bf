"""License names people use ("E3", "Office 365 E3") -> the SKU part numbers Graph knows.

The table is Microsoft's (`data/license_names.toml`, with its source and date). Which of the matching
part numbers can be meant is the tenant's business: `skus_meant` keeps only the SKUs the tenant
subscribes to (refreshed from Graph's subscribedSkus), so the grammar never offers an invented SKU.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("data") / "license_names.toml"
_PART_NUMBER = re.compile(r"\b[A-Z][A-Z0-9_]{2,39}\b")


@dataclass(frozen=True)
class Product:
    """One row of Microsoft's table (plus the short names people write)."""

    name: str
    string_id: str
    guid: str
    short: tuple[str, ...]


@cache
def products(path: Path = TABLE_PATH) -> tuple[Product, ...]:
    """The table's rows."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(Product(p["name"], p["string_id"], p["guid"], tuple(p.get("short", ()))) for p in raw["product"])


def _phrase(text: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in text.split())
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", re.IGNORECASE)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for product in products():
        for name in (product.name, product.string_id, *product.short):
            out.append((_phrase(name), product.string_id))
    return tuple(out)


def license_mentions(text: str) -> tuple[str, ...]:
    """Every part number a text may mean, in order of appearance: a longer name wins over the short
    name inside it ("Office 365 E3" means ENTERPRISEPACK only, a bare "E3" means either E3)."""
    found: list[tuple[int, int, str]] = []
    for pattern, string_id in _patterns():
        found += [(m.start(), m.end(), string_id) for m in pattern.finditer(text)]
    found += [(m.start(), m.end(), m.group(0)) for m in _PART_NUMBER.finditer(text) if "_" in m.group(0)
              or m.group(0).endswith("PACK")]
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, str]] = []
    for start, end, string_id in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if any(start < t_end and t_start < end and (start, end) != (t_start, t_end) for t_start, t_end in taken):
            continue
        taken.append((start, end))
        chosen.append((start, string_id))
    return tuple(dict.fromkeys(string_id for _, string_id in sorted(chosen)))


def skus_meant(texts: list[str], subscribed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The part numbers the texts mention, kept to the tenant's subscribed SKUs (None: no tenant known)."""
    mentioned = [sku for text in texts for sku in license_mentions(text)]
    if subscribed is not None:
        tenant = {sku.upper() for sku in subscribed}
        mentioned = [sku for sku in mentioned if sku.upper() in tenant]
    return tuple(dict.fromkeys(mentioned))
