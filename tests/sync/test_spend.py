"""The acquisition spend file and the [economics] / [segments] settings."""

from __future__ import annotations

import pytest

from sync.errors import ConfigError, InputDataError
from sync.settings import load_settings
from sync.sources.spend import load_spend


def test_csv_spend_file_reads_months_and_amounts(tmp_path):
    """A CSV month,spend file gives (YYYY-MM, amount) pairs in month order; a full date counts as its month."""
    path = tmp_path / "spend.csv"
    path.write_text("Month,Spend\n2017-02-01, 4200.5\n2017-01,3500\n\n", encoding="utf-8")
    assert load_spend(path) == (("2017-01", 3500.0), ("2017-02", 4200.5))


def test_ndjson_spend_file_reads_months_and_amounts(tmp_path):
    """An NDJSON file of {"month", "spend"} objects gives the same pairs, blank lines skipped."""
    path = tmp_path / "spend.ndjson"
    path.write_text('{"month": "2017-03", "spend": 10}\n\n{"month": "2017-01", "spend": 0}\n', encoding="utf-8")
    assert load_spend(path) == (("2017-01", 0.0), ("2017-03", 10.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("month,spend\n2017-13,10\n", "line 2: month '2017-13' is not YYYY-MM"),
        ("month,spend\n2017-01,-5\n", "line 2: spend '-5' is not a number >= 0"),
        ("month,spend\n2017-01,5\n2017-01,6\n", "line 3: month 2017-01 is given twice"),
        ("when,amount\n2017-01,5\n", "expected a header with columns month and spend"),
    ],
)
def test_bad_spend_lines_fail_with_file_and_line(tmp_path, text, message):
    """A bad month, a negative spend, a repeated month or a wrong header fails, naming the line."""
    path = tmp_path / "spend.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError, match=message):
        load_spend(path)


def test_missing_spend_file_names_the_setting(tmp_path):
    """A spend file that does not exist fails with a message naming economics.spend_file."""
    with pytest.raises(InputDataError, match="economics.spend_file"):
        load_spend(tmp_path / "nope.csv")


def test_economics_settings_merge_file_and_table(tmp_path):
    """spend_file is loaded into params; a spend_by_month entry wins over the file for the same month."""
    (tmp_path / "spend.csv").write_text("month,spend\n2017-01,3500\n2017-02,4200\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(
        '[economics]\nspend_file = "spend.csv"\nspend_by_month = {"2017-02" = 100}\ngross_margin = 0.8\n'
        "[segments]\nseat_buckets = [1, 3]\n",
        encoding="utf-8",
    )
    params = load_settings(config).params
    assert params.economics.spend_by_month == (("2017-01", 3500.0), ("2017-02", 100.0))
    assert params.economics.gross_margin == 0.8
    assert params.segments.seat_buckets == (1, 3)


def test_economics_defaults_are_the_documented_ones(tmp_path):
    """With no [economics] section: spend 4000 a month, gross margin 1.0, benchmarks 3 and 12 months."""
    config = tmp_path / "c.toml"
    config.write_text("", encoding="utf-8")
    e = load_settings(config).params.economics
    assert (e.acquisition_spend_per_month, e.gross_margin, e.ltv_cac_benchmark, e.payback_benchmark_months) == (
        4000.0, 1.0, 3.0, 12.0)


def test_economics_settings_say_which_inputs_are_defaults(tmp_path):
    """The [economics] keys a config sets reach the parameters, so a spend of 4000 written out is not a default."""
    (tmp_path / "spend.csv").write_text("month,spend\n2017-01,3500\n", encoding="utf-8")
    unset = tmp_path / "unset.toml"
    unset.write_text("", encoding="utf-8")
    e = load_settings(unset).params.economics
    assert e.stated == frozenset() and e.spend_is_default("2017-01") and e.margin_is_default()
    stated = tmp_path / "stated.toml"
    stated.write_text("[economics]\nacquisition_spend_per_month = 4000\n", encoding="utf-8")
    e = load_settings(stated).params.economics
    assert not e.spend_is_default("2017-01") and e.margin_is_default()
    by_file = tmp_path / "file.toml"
    by_file.write_text('[economics]\nspend_file = "spend.csv"\ngross_margin = 1.0\n', encoding="utf-8")
    e = load_settings(by_file).params.economics
    assert not e.spend_is_default("2017-01") and e.spend_is_default("2017-02") and not e.margin_is_default()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[economics]\ngross_margin = 0\n", "gross_margin"),
        ("[economics]\nspend_by_month = {jan = 5}\n", "spend_by_month.jan"),
        ("[segments]\nseat_buckets = [1, 1, 5]\n", "seat_buckets"),
    ],
)
def test_bad_economics_settings_are_config_errors(tmp_path, toml, message):
    """An impossible gross margin, a spend key that is not a month or unordered seat buckets is a ConfigError."""
    config = tmp_path / "c.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)
