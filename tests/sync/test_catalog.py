"""docs/tabs.md is generated from the tab declarations and kept up to date."""

from sync.catalog import catalogue, main


def test_catalogue_is_up_to_date() -> None:
    """docs/tabs.md equals what the declarations generate (run `python -m sync.catalog` after changing a tab)."""
    assert main(["--check"]) == 0


def test_every_column_is_defined() -> None:
    """Every declared column has a definition: the About tab and docs/tabs.md print it."""
    from kpi.tables import all_tabs

    missing = [f"{t.name}/{c.name}" for t in all_tabs() for c in t.columns if not c.description.strip()]
    assert missing == []
    assert "## About" in catalogue()


def test_readme_tab_table_lists_every_tab_once_in_order() -> None:
    """README's tab table has one row per declared tab, in the workbook's order, each saying in one line what it is for."""
    from pathlib import Path

    from kpi.tables import all_tabs

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| tab | what it is for | data |"):].split("\n\n")[0].splitlines()[2:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert [r[0] for r in rows] == [t.name for t in all_tabs()]
    assert all(len(r) == 3 and r[1] for r in rows)
