"""Payment-log files -> charges and customers frames (validated; every problem named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kpi.schedule import coded_ids
from sync.errors import ConfigError, InputDataError
from sync.sources.files import FileRead, Mapper, read_all
from sync.sources.loaded import Loaded
from sync.sources.ndjson import (
    Issue,
    ReadResult,
    dropped_lines,
    field_renames,
    fields_from_spec,
    issues_frame,
    limits_from,
)

if TYPE_CHECKING:
    from sync.settings import Settings

# canonical name -> (default name in the files, kind, required, nullable)
INVOICE_FIELDS = {
    "customer_id": ("customerId", "id", True, False),
    "amount": ("amountPaid", "number", True, False),
    "paid_at": ("timestampPaid", "timestamp", True, False),
}
CUSTOMER_FIELDS = {
    "customer_id": ("customerId", "id", True, False),
    "sessions": ("nrSessions", "number", False, True),
    "seats": ("nrSeats", "number", False, True),
}


def load_payments(settings: Settings, now: pd.Timestamp | None = None, mapper: Mapper | None = None) -> Loaded:
    """Read invoices and customers.

    Returns Loaded with charges [customer_id, paid_at, amount, line] (every valid charge, zero
    and negative amounts included: kpi/ ignores them for MRR) and customers [customer_id, seats,
    sessions, other attributes...], one row per customer. `now` is the run's clock: later timestamps are bad lines.
    Each input may be one file, a glob of several or a URL (sync.sources.files); each file is read by the same
    reader, through `mapper` (an engine's: on its workers; default: here, one after the other).
    """
    src = settings.sources
    for key in ("invoices", "customers"):
        if not getattr(src, key):
            raise ConfigError(f"{settings.config_path}: sources.{key} is not set (a payment log needs invoices and customers)")
    renames = field_renames(settings, set(INVOICE_FIELDS) | set(CUSTOMER_FIELDS), "payments")
    limits = limits_from(settings, now)
    invoice_files = read_all(src.invoices, FileRead("invoices", tuple(fields_from_spec(INVOICE_FIELDS, renames)), limits,
                                                    coded=True), mapper)
    customer_files = read_all(src.customers, FileRead("customers", tuple(fields_from_spec(CUSTOMER_FIELDS, renames)),
                                                      limits, unique="customer_id", extras=True), mapper)
    customers, customer_issues = _customers(customer_files, renames)
    issues: list[Issue] = [i for _, read in invoice_files for i in read.issues]
    issues += customer_issues
    parts = [read.frame.loc[:, ["customer_id", "paid_at", "amount", "line"]] for _, read in invoice_files]
    charges = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    # the ids hashed once, here: every later step takes their codes (kpi.schedule.text_codes)
    charges = charges.assign(customer_id=coded_ids(charges["customer_id"]))
    customer_codes = pd.Index(charges["customer_id"].cat.categories).get_indexer(customers["customer_id"].astype(str))
    at = 0
    for (name, _), part in zip(invoice_files, parts, strict=True):
        issues += _charge_notes(charges.iloc[at:at + len(part)], customer_codes, name, renames)
        at += len(part)
    if charges.empty:
        raise InputDataError(f"{src.invoices}: no valid charges")
    customer_frame = customers.drop(columns="line")
    revenue = charges.loc[charges["amount"] > 0, "paid_at"]
    return Loaded(
        customers=customer_frame,
        issues=issues_frame(issues),
        dropped=dropped_lines(issues),
        inputs=(*(read.info for _, read in invoice_files), *(read.info for _, read in customer_files)),
        revenue_times=revenue,
        charges=charges,
    )


COUNT_FIELDS = ("seats", "sessions")  # counts: a negative one is no count (blanked and reported, as a bad attribute)


def _counts_checked(name: str, frame: pd.DataFrame, renames: dict[str, str]) -> tuple[pd.DataFrame, list[Issue]]:
    """A customers file's seat and session counts with the negative ones blanked, each reported (a warning naming
    file, line and field): -3 seats is no seat count, and would make a "Seats < 1" segment or a price per seat."""
    issues: list[Issue] = []
    for field in COUNT_FIELDS:
        if field not in frame.columns:
            continue
        values = pd.to_numeric(frame[field], errors="coerce")
        negative = (values < 0).to_numpy(dtype=bool)
        if negative.any():
            source = renames.get(field, CUSTOMER_FIELDS[field][0])
            issues += [Issue(name, int(line), source, "negative count: read as unknown", "warning", f"{value:g}")
                       for line, value in zip(frame.loc[negative, "line"], values[negative], strict=True)]
            frame = frame.assign(**{field: frame[field].mask(negative)})
    return frame, issues


def _customers(files: list[tuple[str, ReadResult]], renames: dict[str, str]) -> tuple[pd.DataFrame, list[Issue]]:
    """The customers of every customers file, one row each: a customer in two files keeps its first row (the
    later one is reported, as a repeat within one file is); negative seat and session counts blanked and reported."""
    issues = [i for _, read in files for i in read.issues]
    if len(files) == 1:
        frame, found = _counts_checked(files[0][0], files[0][1].frame, renames)
        return frame, issues + found
    frames = []
    seen: pd.Index = pd.Index([], dtype="object")
    id_field = renames.get("customer_id", "customerId")
    for name, read in files:
        frame = read.frame
        again = frame["customer_id"].isin(seen)
        issues += [Issue(name, int(line), id_field, "customer already in an earlier customers file: the first row is "
                         "kept", "warning", str(cid))
                   for line, cid in zip(frame.loc[again, "line"], frame.loc[again, "customer_id"], strict=True)]
        kept, found = _counts_checked(name, frame.loc[~again], renames)  # the rows kept: a dropped row's count is moot
        issues += found
        frames.append(kept)
        seen = seen.append(pd.Index(frame.loc[~again, "customer_id"]))
    return pd.concat(frames, ignore_index=True), issues


def _mixed_repeats(customer: np.ndarray, paid_ns: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Rows whose (customer, instant, amount) may repeat another row's: those whose one 64-bit mix of the three
    repeats (equal keys mix equally; unequal ones rarely collide). Hashing one integer column instead of three
    columns took 10M charges' repeats from 6.8 s to under a second."""
    with np.errstate(over="ignore"):
        mix = (customer.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ (
            paid_ns.view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)) ^ (amount + 0.0).view(np.uint64)  # -0.0 is 0.0
    ordered = np.sort(mix)
    again = ordered[1:][ordered[1:] == ordered[:-1]]  # the mixes that repeat (few): then each row looked up in them
    return np.asarray(pd.Series(mix).isin(again).to_numpy(), dtype=bool) if len(again) else np.zeros(len(mix), bool)


def _charge_notes(charges: pd.DataFrame, customer_codes: np.ndarray, file: str, renames: dict[str, str]) -> list[Issue]:
    """Charges that are kept but worth a line in Data quality: unknown customers, identical repeats, zero amounts, refunds.
    `charges`: one file's, their ids coded (kpi.schedule.coded_ids); `customer_codes`: the customers file's ids as codes
    into the same categories (-1: no charge)."""
    id_field = renames.get("customer_id", "customerId")
    amount_field = renames.get("amount", "amountPaid")
    notes: list[Issue] = []
    # Customer ids as integer codes, hashed once: comparing 1M Python strings twice (isin, duplicated) cost 3 s.
    charge_codes = charges["customer_id"].cat.codes.to_numpy().astype(np.int64)
    known = np.zeros(len(charges["customer_id"].cat.categories) + 1, dtype=bool)
    known[customer_codes[customer_codes >= 0]] = True
    unknown = charges.loc[~known[charge_codes]]
    notes += [Issue(file, int(line), id_field, "charge for a customer not in the customers file: kept, attributes unknown",
                    "warning", str(cid)) for line, cid in zip(unknown["line"], unknown["customer_id"], strict=True)]
    zero = charges.loc[charges["amount"] == 0]
    notes += [Issue(file, int(line), amount_field, "zero amount: ignored for MRR", "info", "0")
              for line in zero["line"]]
    refunds = charges.loc[charges["amount"] < 0]
    notes += [Issue(file, int(line), amount_field, "refund (negative amount): ignored for MRR", "info", f"{amount:.2f}")
              for line, amount in zip(refunds["line"], refunds["amount"], strict=True)]
    # Identical charges (same customer, amount and second) all count: the real log has seat charges that repeat
    # exactly. An export that repeated lines would look the same, so each repeat is listed, and counted.
    paid_ns = charges["paid_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    amount = charges["amount"].to_numpy(dtype=np.float64)
    maybe = _mixed_repeats(charge_codes, paid_ns, amount)  # a superset of the repeats: only these are compared
    key = pd.DataFrame({"customer": charge_codes[maybe], "paid_at": paid_ns[maybe].view("datetime64[ns]"),
                        "amount": amount[maybe]}, index=charges.index[maybe])
    shared = key.loc[key.duplicated(keep=False).to_numpy()]  # every charge whose key another one has too
    repeats = charges.loc[shared.index[shared.duplicated(keep="first").to_numpy()]]
    if len(repeats):
        first = charges.loc[shared.index, "line"].groupby([shared["customer"], shared["paid_at"], shared["amount"]],
                                                          sort=False).transform("first")
        notes += [Issue(file, int(line), "", f"identical to line {int(original)}: kept and counted (a repeated export "
                        "line would look the same: check the file)", "warning", f"{cid} {amount:.2f}")
                  for line, original, cid, amount in zip(repeats["line"], first.loc[repeats.index], repeats["customer_id"],
                                                         repeats["amount"], strict=True)]
        notes.append(Issue(file, None, "", f"in all: {_count(len(repeats), 'line')} identical to an earlier line, "
                           "kept and counted", "warning", str(len(repeats))))
    # metrics.md 2b: refunds are counted and summed in data quality; zero amounts counted.
    if len(zero):
        notes.append(Issue(file, None, amount_field, f"in all: {_count(len(zero), 'zero-amount charge')}, ignored for MRR",
                           "info", str(len(zero))))
    if len(refunds):
        notes.append(Issue(file, None, amount_field,
                           f"in all: {_count(len(refunds), 'refund')} totalling {refunds['amount'].sum():.2f}, ignored for MRR",
                           "info", f"{refunds['amount'].sum():.2f}"))
    return notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
