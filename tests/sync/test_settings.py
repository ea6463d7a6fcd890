"""Configuration: strict TOML, paths relative to the config file, secrets only from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sync.settings
from kpi.params import PriceList
from sync.errors import ConfigError
from sync.settings import DEFAULT_CONFIG, default_config, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "kpi.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_loads() -> None:
    """The committed config/default.toml is valid and points at files that exist."""
    settings = load_settings(DEFAULT_CONFIG, {})
    assert settings.dataset.kind == "payments"
    assert Path(settings.sources.invoices).is_file()
    assert Path(settings.sources.customers).is_file()


def test_default_config_is_the_current_folders_then_the_checkouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    """Without --config: config/default.toml of the current folder when there is one (`pip install .` puts the
    package in site-packages, where no config folder is: a platform runs the Procfile from the app's folder), else
    the checkout's; neither is a ConfigError that says where it looked and what to do (a reviewer's repro: a
    non-editable install's worker failed with "config file .../site-packages/config/default.toml not found")."""
    assert default_config(tmp_path) == DEFAULT_CONFIG
    write(tmp_path, "")  # conf/kpi.toml: not config/default.toml
    assert default_config(tmp_path) == DEFAULT_CONFIG
    own = tmp_path / "config" / "default.toml"
    own.parent.mkdir()
    own.write_text('timezone = "Europe/Paris"\n', encoding="utf-8")
    assert default_config(tmp_path) == own
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, {}).timezone == "Europe/Paris"
    own.unlink()
    monkeypatch.setattr(sync.settings, "DEFAULT_CONFIG", tmp_path / "site-packages" / "config" / "default.toml")
    with pytest.raises(ConfigError, match=r"no config/default.toml in \S+: give --config PATH") as info:
        load_settings(None, {})
    assert "site-packages" not in str(info.value)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    """A relative source path is taken from the config file's folder, not the current directory."""
    settings = load_settings(write(tmp_path, '[sources]\ninvoices = "../data/inv.json"\n'), {})
    assert settings.sources.invoices == str((tmp_path / "data" / "inv.json").resolve())


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[billing]\nrenewal_tolerence_hours = 3\n", "billing.renewal_tolerence_hours"),
        ("[bililng]\nprorations = 'ignore'\n", "bililng"),
        ("timezon = 'UTC'\n", "timezon"),
    ],
)
def test_unknown_key_is_an_error_naming_it(tmp_path: Path, text: str, named: str) -> None:
    """A typo in a key fails with a message that names the key."""
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(write(tmp_path, text), {})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[billing]\nprorations = 'spread'\n", "expected one of 'normalize', 'share', 'ignore'"),
        ("[billing]\nunlisted_tiers = 'annual'\n", "expected one of 'year', 'month'"),
        ("[billing]\nannual_min_amount = 'lots'\n", "expected a number"),
        ("timezone = 'Mars/Olympus'\n", "unknown timezone"),
        ("[billing\n", "not valid TOML"),
    ],
)
def test_bad_values_are_errors(tmp_path: Path, text: str, words: str) -> None:
    """A value of the wrong type, an unknown choice, an unknown timezone or broken TOML is a clear error."""
    with pytest.raises(ConfigError, match=words):
        load_settings(write(tmp_path, text), {})


def test_settings_are_typed_and_reach_the_kpi_parameters(tmp_path: Path) -> None:
    """Billing settings and the timezone arrive in the pure Params object kpi/ reads."""
    text = "timezone = 'Europe/Paris'\n[billing]\nrenewal_tolerance_hours = 3\nbilling_overrides = { 42 = 'annual' }\n"
    params = load_settings(write(tmp_path, text), {}).params
    assert params.timezone == "Europe/Paris"
    assert params.billing.renewal_tolerance_hours == 3.0
    assert params.billing.billing_overrides == (("42", "annual"),)


def test_secrets_come_from_the_environment_and_never_show(tmp_path: Path) -> None:
    """Secrets are read from the environment only, and the Settings repr does not show them."""
    env = {"LUCCA_API_KEY": "s3cr3t-lucca", "GOOGLE_SERVICE_ACCOUNT_JSON": '{"private_key": "xyz"}'}
    settings = load_settings(write(tmp_path, ""), env)
    assert settings.secrets.get("LUCCA_API_KEY") == "s3cr3t-lucca"
    assert settings.google_configured
    assert "s3cr3t" not in repr(settings) and "xyz" not in repr(settings)
    assert all("s3cr3t" not in v for _k, v in settings.about_rows())


def test_missing_config_file(tmp_path: Path) -> None:
    """A config path that does not exist is a one-line error naming it."""
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "auto"),
        ("[billing]\nprice_book = 'off'\n", "off"),
        ("[billing]\nprice_book = { monthly_seat = [18], annual_seat = [180.0] }\n",
         PriceList(monthly_seat=(18.0,), annual_seat=(180.0,))),
        ("[billing.price_book]\nannual_points = [900, 1800]\n", PriceList(annual_points=(900.0, 1800.0))),
    ],
)
def test_price_book_setting(tmp_path: Path, text: str, expected: object) -> None:
    """billing.price_book is "auto" by default, "off", or a table of list prices that reaches the billing rules."""
    assert load_settings(write(tmp_path, text), {}).params.billing.price_book == expected


def test_unlisted_tiers_setting(tmp_path: Path) -> None:
    """billing.unlisted_tiers is "year" by default and "month" when set, in the billing rules."""
    assert load_settings(write(tmp_path, ""), {}).params.billing.unlisted_tiers == "year"
    assert load_settings(write(tmp_path, "[billing]\nunlisted_tiers = 'month'\n"), {}).params.billing.unlisted_tiers \
        == "month"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[billing]\nprice_book = 'learn'\n", "expected \"auto\", \"off\" or a table of prices"),
        ("[billing]\nprice_book = { monthly = [18] }\n", "billing.price_book.monthly: unknown key"),
        ("[billing]\nprice_book = { annual_seat = ['x'] }\n", r"billing.price_book.annual_seat\[0\] = 'x': expected a number"),
        ("[billing]\nprice_book = { annual_seat = [0] }\n", "prices must be > 0"),
        ("[billing]\nprice_book = { monthly_seat = [inf] }\n", r"billing.price_book.monthly_seat = \[inf\]: prices must be "
         "> 0 and finite"),
        ("[billing]\nprice_book = [\"auto\"]\n", r"billing.price_book = \['auto'\]: expected \"auto\", \"off\" or a table"),
        ("[billing]\nprice_book = 5\n", r"billing.price_book = 5: expected \"auto\", \"off\" or a table"),
        ("[billing]\nprice_book = {}\n", "the table lists no price"),
    ],
)
def test_bad_price_book_is_an_error_naming_the_key(tmp_path: Path, text: str, words: str) -> None:
    """A wrong price book fails with a message naming what is wrong in it."""
    with pytest.raises(ConfigError, match=words):
        load_settings(write(tmp_path, text), {})


@pytest.mark.parametrize("currency", ["\u0007", 'E"U', "E\\\\U", "LONGER THAN TEN"])
def test_a_currency_no_number_format_can_hold_is_a_config_error(tmp_path, currency: str) -> None:
    """output.currency goes into number formats: a control character, a quote, a backslash or a long text is refused, naming the key."""
    config = tmp_path / "k.toml"
    config.write_text(f"[output]\ncurrency = {json.dumps(currency)}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="output.currency"):
        load_settings(config, {})


def test_about_marks_the_economics_defaults_as_assumptions(tmp_path: Path) -> None:
    """The spend and gross margin the unit economics rest on are shown as defaults (assumptions) until the config sets
    them; set, they are shown as they are (a spend table for some months leaves the constant a default)."""
    unset = dict(load_settings(write(tmp_path, ""), {}).about_rows())
    assert unset["economics.acquisition_spend_per_month"].startswith("4000.0 (default, not set in the config")
    assert unset["economics.gross_margin"].startswith("1.0 (default, not set in the config")
    assert unset["economics.churn_window_months"] == "3"
    text = "[economics]\nacquisition_spend_per_month = 2500\ngross_margin = 0.8\n"
    stated = dict(load_settings(write(tmp_path, text), {}).about_rows())
    assert (stated["economics.acquisition_spend_per_month"], stated["economics.gross_margin"]) == ("2500.0", "0.8")
    some = dict(load_settings(write(tmp_path, "[economics]\nspend_by_month = { 2017-01 = 3500 }\n"), {}).about_rows())
    assert "(default, not set" in some["economics.acquisition_spend_per_month"]
