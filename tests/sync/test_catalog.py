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
