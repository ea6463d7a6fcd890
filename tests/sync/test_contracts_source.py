"""Loading contract data: customers, contracts and projects validated line by line; the contracts sample generator."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sync.errors import ConfigError, InputDataError
from sync.samples.contracts import generate, write_sample
from sync.settings import load_settings
from sync.sources.contracts import load_contracts

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "contracts"
SAMPLE = ROOT / "data" / "sample" / "contracts"


def write_lines(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def customers(n: int = 3) -> list[dict]:
    return [{"customerId": f"c{i}", "name": f"N{i}", "sector": "Retail", "partnerType": None, "partnerName": None}
            for i in range(1, n + 1)]


def contract(cid: str = "k", customer: str = "c1", **over: object) -> dict:
    record = {"contractId": cid, "customerId": customer, "solution": "Payroll", "kind": "subscription",
              "amount": 1200, "startDate": "2024-01-01", "endDate": None}
    record.update(over)
    return record


def good_contracts(n: int = 20) -> list[dict]:
    return [contract(f"g{i}", f"c{i % 3 + 1}") for i in range(n)]


def project(pid: str = "p", customer: str = "c1", **over: object) -> dict:
    record = {"projectId": pid, "customerId": customer, "type": "Mid Market", "deployedOn": "2024-02-01",
              "solutions": ["Payroll"]}
    record.update(over)
    return record


def make_settings(tmp_path: Path, contract_lines: list, project_lines: list | None = None,
                  customer_lines: list | None = None, extra: str = "[quality]\nmax_bad_share = 0.7\n",
                  top: str = ""):
    write_lines(tmp_path / "customers.json", customer_lines if customer_lines is not None else customers())
    write_lines(tmp_path / "contracts.json", contract_lines)
    projects = ""
    if project_lines is not None:
        write_lines(tmp_path / "projects.json", project_lines)
        projects = 'projects = "projects.json"\n'
    config = tmp_path / "kpi.toml"
    config.write_text(
        f'{top}[dataset]\nkind = "contracts"\n[sources]\ncustomers = "customers.json"\ncontracts = "contracts.json"\n'
        f"{projects}{extra}",
        encoding="utf-8",
    )
    return load_settings(config, {})


def test_fixture_loads_valid_rows_and_names_every_bad_line() -> None:
    """The hand-computed fixture: 6 customers, 14 of 16 contracts, 9 of 10 projects, three issues with file, line and field."""
    loaded = load_contracts(load_settings(FIXTURE / "config.toml", {}))
    assert len(loaded.customers) == 6
    assert loaded.contracts["contract_id"].tolist() == [f"K{i}" for i in range(1, 15)]
    assert loaded.projects is not None and len(loaded.projects) == 9
    issues = loaded.issues.assign(file=loaded.issues["file"].map(lambda p: Path(p).name))
    assert issues[["file", "line", "field", "reason", "severity", "value"]].values.tolist() == [
        ["contracts.json", 15, "endDate", "ends before it starts", "error", "2024-02-01"],
        ["contracts.json", 16, "customerId", "customer not in the customers file", "error", "Z9"],
        ["projects.json", 10, "customerId", "customer not in the customers file", "error", "Z9"],
    ]
    assert [i.role for i in loaded.inputs] == ["customers", "contracts", "projects"]
    assert [i.rows for i in loaded.inputs] == [6, 16, 10]


def test_contract_columns_and_types() -> None:
    """Contracts come out with canonical columns: ids as text, amount as float, days as naive dates, NaT while running."""
    loaded = load_contracts(load_settings(FIXTURE / "config.toml", {}))
    c = loaded.contracts
    assert list(c.columns) == ["contract_id", "customer_id", "solution", "kind", "amount", "start_date", "end_date",
                               "line"]
    first = c.iloc[0]
    assert (first["customer_id"], first["amount"], first["start_date"]) == ("A", 12000.0, pd.Timestamp("2023-10-01"))
    assert pd.isna(first["end_date"])
    assert c.loc[c["contract_id"] == "K4", "end_date"].iloc[0] == pd.Timestamp("2024-03-31")


# Each case: a bad contract line, the field named, and the reason.
BAD_CONTRACTS = {
    "end before start": (contract("b", startDate="2024-03-01", endDate="2024-02-28"), "endDate", "ends before it starts"),
    "unknown customer": (contract("b", "nobody"), "customerId", "customer not in the customers file"),
    "negative ARR": (contract("b", amount=-1200), "amount", "negative ARR"),
    "negative one-shot": (contract("b", kind="one-shot", amount=-10), "amount", "negative amount"),
    "unknown kind": (contract("b", kind="rental"), "kind", "unknown kind: expected subscription or one-shot"),
    "bad date": (contract("b", startDate="2024-02-30"), "startDate", "expected an ISO date (YYYY-MM-DD)"),
    "bad end date": (contract("b", endDate="soon"), "endDate", "expected an ISO date (YYYY-MM-DD)"),
    "missing end": ({k: v for k, v in contract("b").items() if k != "endDate"}, "endDate", "missing field"),
    "empty solution": (contract("b", solution=" "), "solution", "empty solution"),
    "amount as text": (contract("b", amount="1200"), "amount", "expected a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTRACTS))
def test_bad_contract_line_is_dropped_and_reported(tmp_path: Path, case: str) -> None:
    """A bad contract line is dropped and reported as an error naming its line and field; the good lines stay."""
    record, field, reason = BAD_CONTRACTS[case]
    loaded = load_contracts(make_settings(tmp_path, [*good_contracts(), record]))
    assert len(loaded.contracts) == 20
    errors = loaded.issues.loc[loaded.issues["severity"] == "error"]
    assert errors[["line", "field", "reason"]].values.tolist() == [[21, field, reason]]


def test_kind_is_read_without_case_and_zero_arr_is_kept_with_a_note(tmp_path: Path) -> None:
    """"Subscription " is a subscription; a zero ARR is kept and noted (info), it makes no MRR."""
    loaded = load_contracts(make_settings(tmp_path, [contract("a", kind="Subscription "), contract("z", amount=0)]))
    assert loaded.contracts["kind"].tolist() == ["subscription", "subscription"]
    assert loaded.issues[["line", "reason", "severity"]].values.tolist() == [[2, "zero ARR: kept, no MRR", "info"]]


def test_too_many_bad_lines_fail_the_run(tmp_path: Path) -> None:
    """Past quality.max_bad_share of dropped lines (cross-field rules included) the run fails, naming the first."""
    bad = [contract(f"b{i}", "nobody") for i in range(2)]
    settings = make_settings(tmp_path, [*good_contracts(), *bad], extra="[quality]\nmax_bad_share = 0.05\n")
    with pytest.raises(InputDataError, match=r"contracts.json: 2 of 22 lines are bad .*line 21, field customerId"):
        load_contracts(settings)


def test_duplicate_contract_id_is_reported(tmp_path: Path) -> None:
    """A contract id seen twice with other values keeps the first line and reports the second."""
    loaded = load_contracts(make_settings(tmp_path, [contract("k1"), contract("k1", amount=2400)]))
    assert loaded.contracts["amount"].tolist() == [1200.0]
    assert loaded.issues["line"].tolist() == [2]


def test_missing_or_empty_files_and_unset_sources(tmp_path: Path) -> None:
    """A missing or empty contracts file fails with its path; contracts or customers unset is a config error."""
    settings = make_settings(tmp_path, [contract()])
    (tmp_path / "contracts.json").write_text("\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="contracts file is empty"):
        load_contracts(settings)
    (tmp_path / "contracts.json").unlink()
    with pytest.raises(InputDataError, match="contracts file not found"):
        load_contracts(settings)
    config = tmp_path / "bare.toml"
    config.write_text('[dataset]\nkind = "contracts"\n[sources]\ncustomers = "customers.json"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="sources.contracts is not set"):
        load_contracts(load_settings(config, {}))


def test_projects_are_optional_and_validated(tmp_path: Path) -> None:
    """Without a projects file projects are None; with one, unknown customers and non-text solutions are dropped."""
    assert load_contracts(make_settings(tmp_path, [contract()])).projects is None
    lines = [project("p1"), project("p2", deployedOn=None), project("p3", "nobody"), project("p4", solutions=[1]),
             project("p5", solutions="Payroll")]
    loaded = load_contracts(make_settings(tmp_path, [contract()], lines))
    assert loaded.projects is not None
    assert loaded.projects["project_id"].tolist() == ["p1", "p2"]
    assert pd.isna(loaded.projects["deployed_on"].iloc[1])
    assert loaded.issues[["line", "field", "reason"]].values.tolist() == [
        [5, "solutions", "expected a list"],
        [4, "solutions", "expected a list of solution names"],
        [3, "customerId", "customer not in the customers file"],
    ]


def test_field_renames_and_unknown_rename_keys(tmp_path: Path) -> None:
    """[sources.fields] maps canonical names to the files' names; an unknown canonical name is a config error."""
    renamed = [{"id": c["customerId"], "secteur": "Retail"} for c in customers()]
    lines = [{**{k: v for k, v in contract().items() if k != "customerId"}, "client": "c1"}]
    fields = '[sources.fields]\ncustomer_id = "id"\nsector = "secteur"\n'
    settings = make_settings(tmp_path, lines, customer_lines=renamed, extra=fields)
    with pytest.raises(InputDataError):  # contracts still say "customerId": the one rename applies to every file
        load_contracts(settings)
    contracts_renamed = [{**{k: v for k, v in contract().items() if k != "customerId"}, "id": "c1"}]
    loaded = load_contracts(make_settings(tmp_path, contracts_renamed, customer_lines=renamed, extra=fields))
    assert loaded.customers["sector"].tolist() == ["Retail"] * 3
    assert loaded.contracts["customer_id"].tolist() == ["c1"]
    with pytest.raises(ConfigError, match="unknown key sources.fields.sectr"):
        load_contracts(make_settings(tmp_path, [contract()], extra='[sources.fields]\nsectr = "x"\n'))


def test_revenue_times_are_the_ends_of_start_days_in_the_timezone(tmp_path: Path) -> None:
    """The default as_of is the last second of the newest start day, in the configured timezone."""
    settings = make_settings(tmp_path, [contract("a"), contract("b", startDate="2024-03-05", kind="one-shot")],
                             top='timezone = "Europe/Paris"\n')
    loaded = load_contracts(settings)
    assert loaded.revenue_times.max() == pd.Timestamp("2024-03-05 22:59:59", tz="UTC")


# ---------------------------------------------------------------- the sample generator


def test_generator_is_deterministic_and_seed_dependent(tmp_path: Path) -> None:
    """The same seed writes the same bytes; another seed writes other data."""
    a = write_sample(tmp_path / "a", customers=40, seed=3)
    b = write_sample(tmp_path / "b", customers=40, seed=3)
    c = write_sample(tmp_path / "c", customers=40, seed=4)
    for (pa, _), (pb, _) in zip(a, b, strict=True):
        assert Path(pa).read_bytes() == Path(pb).read_bytes()
    assert Path(a[1][0]).read_bytes() != Path(c[1][0]).read_bytes()


def test_shipped_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    """data/sample/contracts is `kpi-sync sample --kind contracts --customers 200` (seed 7), byte for byte."""
    written = write_sample(tmp_path, customers=200, seed=7)
    for path, _ in written:
        name = Path(path).name
        assert Path(path).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_sample_has_every_feature_and_loads_cleanly() -> None:
    """The sample holds partners of both types, a dozen solutions, one-shots, upgrades, churn, contraction,
    reactivation, several sectors and projects that lag their contracts; it loads with no issue."""
    people, contracts, projects = generate(200, 7)
    c = pd.DataFrame(contracts)
    cust = pd.DataFrame(people)
    assert set(cust["partnerType"].dropna()) == {"Integrateur", "Revendeur"}
    assert cust["sector"].nunique() >= 6 and cust["sector"].isna().any()
    subs = c.loc[c["kind"] == "subscription"]
    assert subs["solution"].nunique() == 12
    assert (c["kind"] == "one-shot").sum() > 100
    first_start = subs.groupby("customerId")["startDate"].transform("min")
    assert (subs["startDate"] > first_start).sum() > 50  # upgrades and renewals after the first bundle
    ended = subs.loc[subs["endDate"].notna()]
    running = subs.loc[subs["endDate"].isna()]
    churned = set(ended["customerId"]) - set(running["customerId"])
    assert len(churned) >= 10
    came_back = ended.merge(subs, on="customerId", suffixes=("", "_next"))
    gap = pd.to_datetime(came_back["startDate_next"]) - pd.to_datetime(came_back["endDate"])
    assert (gap > pd.Timedelta(days=60)).any()  # a reactivation months after a churn
    p = pd.DataFrame(projects)
    assert set(p["type"]) == {"Mid Market", "Enterprise", "Outsourced"}
    assert p["deployedOn"].isna().any()
    lag = pd.to_datetime(p["deployedOn"]) - p["customerId"].map(pd.to_datetime(subs.groupby("customerId")["startDate"].min()))
    assert lag.dropna().min() >= pd.Timedelta(days=30)
    loaded = load_contracts(load_settings(ROOT / "config" / "contracts.toml", {}))
    assert loaded.issues.empty
    assert len(loaded.contracts) == len(contracts)


def test_generator_rejects_nonsense() -> None:
    """No customers or an empty window is a config error."""
    with pytest.raises(ConfigError):
        generate(0)
    with pytest.raises(ConfigError):
        generate(5, start="2024-01-01", end="2023-01-01")
