"""Contract files -> customers, contracts and projects frames (validated; every problem named).

Three NDJSON files, set in `[sources]` as `customers`, `contracts` and `projects` (projects may be left
out: the Projects tab is then skipped). Field names in the files can be renamed with `[sources.fields]`,
canonical name = name in the file (see docs/contracts.md).

A line is dropped and reported as an error (file, line, field, reason) when a required field is missing
or unreadable, and also when a contract ends before it starts, names a customer the customers file does
not have, has a negative amount or an unknown kind, or when a project names an unknown customer. The run
fails when more than `quality.max_bad_share` of a file's lines are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kpi.contracts import CONTRACT_COLUMNS, KINDS, SUBSCRIPTION
from sync.errors import ConfigError, InputDataError
from sync.sources.loaded import Loaded
from sync.sources.ndjson import (
    Issue,
    Limits,
    ReadResult,
    bad_shares,
    dropped_lines,
    field_renames,
    fields_from_spec,
    issues_frame,
    limits_from,
)
from sync.sources.reader import read_ndjson

if TYPE_CHECKING:
    from sync.settings import Settings

# canonical name -> (default name in the files, kind, required, nullable)
CUSTOMER_FIELDS = {
    "customer_id": ("customerId", "id", True, False),
    "name": ("name", "string", False, True),
    "sector": ("sector", "string", False, True),
    "partner_type": ("partnerType", "string", False, True),
    "partner_name": ("partnerName", "string", False, True),
}
CONTRACT_FIELDS = {
    "contract_id": ("contractId", "id", True, False),
    "customer_id": ("customerId", "id", True, False),
    "solution": ("solution", "string", True, False),
    "kind": ("kind", "string", True, False),
    "amount": ("amount", "number", True, False),
    "start_date": ("startDate", "date", True, False),
    # required but nullable: null means "still running"; an unreadable end must not turn into "running"
    "end_date": ("endDate", "date", True, True),
}
PROJECT_FIELDS = {
    "project_id": ("projectId", "id", True, False),
    "customer_id": ("customerId", "id", True, False),
    "project_type": ("type", "string", True, False),
    "deployed_on": ("deployedOn", "date", True, True),  # null: not deployed yet (kept, not counted)
    "solutions": ("solutions", "list", True, False),
}
CONTRACTS_CANONICAL = set(CUSTOMER_FIELDS) | set(CONTRACT_FIELDS) | set(PROJECT_FIELDS)


def _source_name(spec: dict, renames: dict[str, str], canonical: str) -> str:
    return renames.get(canonical, spec[canonical][0])


def _check_share(read: ReadResult, extra_bad: int, limits: Limits, issues: list[Issue]) -> None:
    """Fail when the file's dropped lines (unreadable + rejected here) pass the allowed share."""
    bad = read.bad_lines + extra_bad
    rows = read.info.rows
    if rows and bad / rows > limits.max_bad_share:
        first = next(i for i in issues if i.severity == "error" and i.file == read.info.path)
        said, allowed = bad_shares(bad / rows, limits.max_bad_share)  # not %-formatted: a file name may hold a %
        raise InputDataError(
            f"{read.info.path}: {bad:,} of {rows:,} lines are bad ({said}%, more than the allowed {allowed}%); first: "
            f"line {first.line}"
            + (f", field {first.field}" if first.field else "")
            + f": {first.reason}"
        )


def _reject(frame: pd.DataFrame, mask: pd.Series, file: str, field: str, reason: str,
            values: pd.Series) -> list[Issue]:
    """One error issue per masked row (the caller drops those rows)."""
    return [Issue(file, int(line), field, reason, "error", str(value))
            for line, value in zip(frame.loc[mask, "line"], values.loc[mask], strict=True)]


def validate_contracts(frame: pd.DataFrame, known_customers: pd.Series, file: str,
                       renames: dict[str, str]) -> tuple[pd.DataFrame, list[Issue]]:
    """Rules across fields and files: returns (kept contracts, issues). Each dropped line gets one error (the first rule it breaks)."""
    name = lambda canonical: _source_name(CONTRACT_FIELDS, renames, canonical)  # noqa: E731
    kind = frame["kind"].astype(str).str.strip().str.lower()
    frame = frame.assign(kind=kind)
    rules = [
        (frame["solution"].astype(str).str.strip() == "", name("solution"), "empty solution", frame["solution"]),
        (~kind.isin(KINDS), name("kind"), f"unknown kind: expected {' or '.join(KINDS)}", frame["kind"]),
        ((frame["amount"] < 0) & (kind == SUBSCRIPTION), name("amount"), "negative ARR", frame["amount"]),
        (frame["amount"] < 0, name("amount"), "negative amount", frame["amount"]),
        (frame["end_date"].notna() & (frame["end_date"] < frame["start_date"]), name("end_date"),
         "ends before it starts", frame["end_date"].dt.strftime("%Y-%m-%d")),
        (~frame["customer_id"].isin(known_customers), name("customer_id"),
         "customer not in the customers file", frame["customer_id"]),
    ]
    issues: list[Issue] = []
    dropped = pd.Series(False, index=frame.index)
    for mask, field, reason, values in rules:
        hit = mask & ~dropped
        issues += _reject(frame, hit, file, field, reason, values)
        dropped |= hit
    zero = ~dropped & (frame["amount"] == 0) & (kind == SUBSCRIPTION)
    issues += [Issue(file, int(line), name("amount"), "zero ARR: kept, no MRR", "info", "0")
               for line in frame.loc[zero, "line"]]
    kept = frame.loc[~dropped, [*CONTRACT_COLUMNS, "line"]].reset_index(drop=True)
    return kept, issues


def validate_projects(frame: pd.DataFrame, known_customers: pd.Series, file: str,
                      renames: dict[str, str]) -> tuple[pd.DataFrame, list[Issue]]:
    """Projects naming an unknown customer or listing non-text solutions are dropped; returns (kept, issues)."""
    name = lambda canonical: _source_name(PROJECT_FIELDS, renames, canonical)  # noqa: E731
    not_text = frame["solutions"].map(lambda items: not all(isinstance(s, str) and s.strip() for s in items))
    unknown = ~frame["customer_id"].isin(known_customers)
    issues = _reject(frame, not_text, file, name("solutions"), "expected a list of solution names", frame["solutions"])
    issues += _reject(frame, unknown & ~not_text, file, name("customer_id"), "customer not in the customers file",
                      frame["customer_id"])
    kept = frame.loc[~(not_text | unknown)].assign(
        solutions=lambda d: d["solutions"].map(lambda items: [s.strip() for s in items])
    )
    return kept.reset_index(drop=True), issues


def load_contracts(settings: Settings, now: pd.Timestamp | None = None) -> Loaded:
    """Read customers, contracts and (optionally) projects.

    Returns Loaded with
    customers [customer_id, name, sector, partner_type, partner_name, other attributes...], one row per customer;
    contracts [contract_id, customer_id, solution, kind, amount, start_date, end_date, line] (kpi.contracts);
    projects [project_id, customer_id, project_type, deployed_on, solutions (list of names), line] or None;
    revenue_times: the end of each contract's start day (for the default as_of).
    """
    src = settings.sources
    for key in ("customers", "contracts"):
        if not getattr(src, key):
            raise ConfigError(
                f"{settings.config_path}: sources.{key} is not set (contract data needs customers and contracts)"
            )
    renames = field_renames(settings, CONTRACTS_CANONICAL, "contracts")
    limits = limits_from(settings, now)

    customers = read_ndjson(src.customers, "customers", fields_from_spec(CUSTOMER_FIELDS, renames), limits,
                            unique="customer_id", extras=True)
    known = customers.frame["customer_id"]
    contracts_read = read_ndjson(src.contracts, "contracts", fields_from_spec(CONTRACT_FIELDS, renames), limits,
                                 unique="contract_id")
    contracts, contract_issues = validate_contracts(contracts_read.frame, known, contracts_read.info.path, renames)
    issues: list[Issue] = [*customers.issues, *contracts_read.issues, *contract_issues]
    _check_share(contracts_read, len([i for i in contract_issues if i.severity == "error"]), limits, issues)
    inputs = [customers.info, contracts_read.info]

    projects = None
    if src.projects:
        projects_read = read_ndjson(src.projects, "projects", fields_from_spec(PROJECT_FIELDS, renames), limits,
                                    unique="project_id")
        projects, project_issues = validate_projects(projects_read.frame, known, projects_read.info.path, renames)
        issues += [*projects_read.issues, *project_issues]
        _check_share(projects_read, len(project_issues), limits, issues)
        inputs.append(projects_read.info)

    if contracts.empty:
        raise InputDataError(f"{src.contracts}: no valid contracts")
    day_ends = (
        (contracts["start_date"] + pd.Timedelta(days=1)).dt.tz_localize(
            settings.timezone, ambiguous="NaT", nonexistent="shift_forward")
        - pd.Timedelta(seconds=1)
    ).dt.tz_convert("UTC")
    return Loaded(
        customers=customers.frame.drop(columns="line"),
        issues=issues_frame(issues),
        dropped=dropped_lines(issues),
        inputs=tuple(inputs),
        revenue_times=day_ends,
        contracts=contracts,
        projects=projects,
    )
