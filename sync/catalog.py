"""Writes docs/tabs.md, the catalogue of tabs and columns, from the tab declarations in kpi/.

    python -m sync.catalog            # rewrite docs/tabs.md
    python -m sync.catalog --check    # exit 1 if docs/tabs.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from kpi.tables import all_tabs

TARGET = Path(__file__).resolve().parent.parent / "docs" / "tabs.md"
_DATASETS = {"payments": "payment log", "contracts": "contract data"}


def catalogue() -> str:
    """The markdown catalogue: one section per tab, one row per declared column."""
    out = [
        "# Tabs and columns",
        "",
        "Generated from the tab declarations in `kpi/` by `python -m sync.catalog`; do not edit by hand.",
        "Definitions: [metrics.md](metrics.md). Kinds: percent = a fraction shown as a percentage; "
        "month = the month's first day shown yyyy-mm; money in the configured currency, to the cent; "
        "count = a whole number or a median of whole numbers, shown whole (5) or with its half (5.5); "
        "figure = one number per row with its own unit and format (money, percentage, count or ratio).",
        "",
    ]
    for tab in all_tabs():
        datasets = ", ".join(_DATASETS.get(d, d) for d in sorted(tab.datasets))
        out += [f"## {tab.name}", "", tab.description, "", f"Produced for: {datasets}."]
        if tab.requires:
            out.append(f"Needs: {', '.join(tab.requires)} (skipped, with the reason, otherwise).")
        if tab.wide_kind:
            out.append(f"After the columns below come further columns of kind {tab.wide_kind}.")
        out += ["", "| column | kind | definition |", "|---|---|---|"]
        out += [f"| {c.name} | {c.kind} | {c.description.replace('|', '/')} |" for c in tab.columns]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = catalogue()
    if "--check" in args:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python -m sync.catalog", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
