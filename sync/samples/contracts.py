"""A deterministic, realistic contract dataset: an HR-software vendor selling a dozen solutions.

`generate` returns three lists of records with the input field names (docs/contracts.md):
customers [customerId, name, sector, partnerType, partnerName], contracts [contractId, customerId,
solution, kind, amount, startDate, endDate] and projects [projectId, customerId, type, deployedOn,
solutions]. `write_sample` writes them as NDJSON (customers.json, contracts.json, projects.json).

What the data holds, all from one numpy Generator (same seed and arguments -> same bytes):
- twelve HR solutions priced per employee and year; customers from 20 to 20,000 employees, in eight
  sectors (a few with no sector); sign-ups accelerating over the window;
- about a third sold through integrator partners (partnerType "Integrateur", five partners) and a few
  through resellers ("Revendeur", direct for the KPIs unless configured otherwise);
- a first bundle of one to three solutions, with a setup fee (one-shot) and sometimes training days;
- upgrades: solutions added later, each its own contract; price increases at some anniversaries
  (the contract ends the day before, a new one at +3-6% starts on the anniversary);
- contraction (one solution dropped at an anniversary), churn at an anniversary with a rate that
  depends on the sector and the channel, and some churned customers coming back months later;
- projects deploying each bundle 1 to 6 months after its contracts start (Mid Market, Enterprise or
  Outsourced); a project still running at the end of the window has no deployedOn yet.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sync.errors import ConfigError

DEFAULT_START = "2021-01-01"
DEFAULT_END = "2024-12-31"

# solution -> list price, EUR per employee per year
SOLUTIONS: dict[str, float] = {
    "Payroll": 42.0,
    "Core HR": 18.0,
    "Time & Attendance": 27.0,
    "Absences": 15.0,
    "Expenses": 21.0,
    "Scheduling": 24.0,
    "Recruiting": 19.0,
    "Onboarding": 9.0,
    "Performance": 16.0,
    "Learning": 14.0,
    "Compensation": 12.0,
    "Engagement Surveys": 8.0,
}
FIRST_SOLUTIONS = ("Payroll", "Core HR", "Absences", "Time & Attendance", "Expenses")
FIRST_WEIGHTS = np.array([0.42, 0.2, 0.16, 0.12, 0.10])
# sector -> (weight, yearly churn hazard)
SECTORS: dict[str, tuple[float, float]] = {
    "Retail": (0.17, 0.16),
    "Hospitality": (0.09, 0.30),
    "Healthcare": (0.15, 0.07),
    "Manufacturing": (0.16, 0.08),
    "Professional Services": (0.15, 0.11),
    "Public Sector": (0.08, 0.04),
    "Technology": (0.12, 0.14),
    "Logistics": (0.08, 0.12),
}
INTEGRATORS = ("Axone RH Conseil", "Nordis Intégration", "PayFlow Partners", "Sirius Consulting", "Talentia Services")
RESELLERS = ("BureauPlus", "Office Direct")
NAME_PARTS = (
    ("Alpine", "Atlas", "Azur", "Boréal", "Cobalt", "Delta", "Étoile", "Horizon", "Iris", "Lumen", "Marine",
     "Nova", "Opale", "Prisme", "Quartz", "Rivage", "Solstice", "Terra", "Vega", "Zénith"),
    ("Logistique", "Santé", "Industries", "Conseil", "Distribution", "Services", "Hôtels", "Digital",
     "Énergie", "Transports", "Ateliers", "Retail", "Foods", "Systems", "Habitat", "Mobilité"),
)


def _day(value: str | pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).date(), "D")


def _add_years(day: np.datetime64, years: int) -> np.datetime64:
    ts = pd.Timestamp(day) + pd.DateOffset(years=years)
    return np.datetime64(ts.date(), "D")


def _iso(day: np.datetime64 | None) -> str | None:
    return None if day is None else str(day)


class _Builder:
    """Collects records for one dataset; every random draw comes from one Generator, in a fixed order."""

    def __init__(self, rng: np.random.Generator, start: np.datetime64, end: np.datetime64):
        self.rng = rng
        self.start = start
        self.end = end
        self.customers: list[dict] = []
        self.contracts: list[dict] = []
        self.projects: list[dict] = []

    def _contract(self, customer: str, solution: str, kind: str, amount: float, start: np.datetime64,
                  end: np.datetime64 | None = None) -> dict:
        record = {"contractId": "", "customerId": customer, "solution": solution, "kind": kind,
                  "amount": amount, "startDate": _iso(start), "endDate": _iso(end)}
        self.contracts.append(record)
        return record

    def _project(self, customer: str, kind: str, solutions: list[str], contract_start: np.datetime64) -> None:
        low, high = (60, 180) if kind == "Enterprise" else (30, 120)
        deployed = contract_start + np.timedelta64(int(self.rng.integers(low, high)), "D")
        self.projects.append({"projectId": "", "customerId": customer, "type": kind,
                              "deployedOn": _iso(deployed) if deployed <= self.end else None,
                              "solutions": list(solutions)})

    def _arr(self, solution: str, employees: int) -> float:
        discount = self.rng.uniform(0.78, 1.0)
        return float(max(1200.0, round(SOLUTIONS[solution] * employees * discount / 10.0) * 10.0))

    def customer(self, number: int) -> None:
        rng = self.rng
        cid = f"C{number:05d}"
        sector_names = list(SECTORS)
        weights = np.array([w for w, _ in SECTORS.values()])
        sector = sector_names[int(rng.choice(len(sector_names), p=weights / weights.sum()))]
        hazard = SECTORS[sector][1]
        channel = rng.random()
        if channel < 0.32:
            partner_type, partner = "Integrateur", INTEGRATORS[int(rng.integers(len(INTEGRATORS)))]
            hazard *= 0.75  # integrators hold on to their clients
        elif channel < 0.38:
            partner_type, partner = "Revendeur", RESELLERS[int(rng.integers(len(RESELLERS)))]
        else:
            partner_type, partner = None, None
        employees = int(np.clip(rng.lognormal(np.log(250), 1.0), 20, 20000))
        outsourced = rng.random() < 0.15
        project_type = "Outsourced" if outsourced else ("Enterprise" if employees >= 1000 else "Mid Market")
        name = f"{NAME_PARTS[0][int(rng.integers(len(NAME_PARTS[0])))]} {NAME_PARTS[1][int(rng.integers(len(NAME_PARTS[1])))]}"
        self.customers.append({"customerId": cid, "name": name,
                               "sector": None if rng.random() < 0.03 else sector,
                               "partnerType": partner_type, "partnerName": partner})

        # sign-up day: more customers sign up later in the window (the business grows)
        span = int((self.end - self.start).astype(int))
        signed = self.start + np.timedelta64(int(span * rng.random() ** 0.7), "D")

        first = FIRST_SOLUTIONS[int(rng.choice(len(FIRST_SOLUTIONS), p=FIRST_WEIGHTS))]
        others = [s for s in SOLUTIONS if s != first]
        extra = int(rng.choice([0, 1, 2], p=[0.45, 0.35, 0.2]))
        bundle = [first, *[others[i] for i in rng.choice(len(others), size=extra, replace=False)]]
        running: dict[str, dict] = {s: self._contract(cid, s, "subscription", self._arr(s, employees), signed)
                                    for s in bundle}
        setup = round(sum(r["amount"] for r in running.values()) * rng.uniform(0.15, 0.35) / 50.0) * 50.0
        self._contract(cid, first, "one-shot", float(max(setup, 500.0)), signed)
        if rng.random() < 0.4:
            training = signed + np.timedelta64(int(rng.integers(20, 90)), "D")
            if training <= self.end:
                self._contract(cid, first, "one-shot", float(rng.integers(2, 8) * 450), training)
        self._project(cid, project_type, bundle, signed)

        year = 1
        anniversary = _add_years(signed, 1)
        while anniversary <= self.end:
            # an upgrade during the year before this anniversary
            if running and rng.random() < 0.3:
                owned = set(running)
                candidates = [s for s in SOLUTIONS if s not in owned]
                if candidates:
                    count = min(len(candidates), 1 + int(rng.random() < 0.3))
                    added = [candidates[i] for i in rng.choice(len(candidates), size=count, replace=False)]
                    when = _add_years(signed, year - 1) + np.timedelta64(int(rng.integers(30, 330)), "D")
                    if when < anniversary:
                        for s in added:
                            running[s] = self._contract(cid, s, "subscription", self._arr(s, employees), when)
                        self._project(cid, project_type, added, when)
            last_day = anniversary - np.timedelta64(1, "D")
            if running and rng.random() < hazard:  # churn: every running subscription ends
                for record in running.values():
                    record["endDate"] = _iso(last_day)
                running = {}
                if rng.random() < 0.25:  # comes back later with one solution
                    back = anniversary + np.timedelta64(int(rng.integers(180, 540)), "D")
                    if back <= self.end:
                        s = first if rng.random() < 0.6 else others[int(rng.integers(len(others)))]
                        running[s] = self._contract(cid, s, "subscription", self._arr(s, employees), back)
                        self._project(cid, project_type, [s], back)
                        signed = back
                        year = 0
            elif len(running) >= 2 and rng.random() < 0.08:  # contraction: one solution dropped
                dropped = sorted(running)[int(rng.integers(len(running)))]
                running.pop(dropped)["endDate"] = _iso(last_day)
            elif running and rng.random() < 0.2:  # price increase on every running contract
                rise = rng.uniform(1.03, 1.06)
                for s, record in list(running.items()):
                    record["endDate"] = _iso(last_day)
                    amount = float(round(record["amount"] * rise / 10.0) * 10.0)
                    running[s] = self._contract(cid, s, "subscription", amount, anniversary)
            year += 1
            anniversary = _add_years(signed, year)

    def finish(self) -> tuple[list[dict], list[dict], list[dict]]:
        """Contracts sorted by start day, projects by deployment day; ids numbered in that order."""
        contracts = sorted(self.contracts, key=lambda r: (r["startDate"], r["customerId"], r["kind"], r["solution"]))
        for i, record in enumerate(contracts, start=1):
            record["contractId"] = f"CT{i:06d}"
        projects = sorted(self.projects, key=lambda r: (r["deployedOn"] or "9999", r["customerId"]))
        for i, record in enumerate(projects, start=1):
            record["projectId"] = f"PR{i:05d}"
        contracts = [{**r, "amount": int(r["amount"]) if float(r["amount"]).is_integer() else r["amount"]}
                     for r in contracts]
        return self.customers, contracts, projects


def generate(customers: int = 300, seed: int = 7, start: str | pd.Timestamp = DEFAULT_START,
             end: str | pd.Timestamp = DEFAULT_END) -> tuple[list[dict], list[dict], list[dict]]:
    """Customers signing up between `start` and `end` (days), with their contracts and projects.

    Returns (customers, contracts, projects) as lists of records with the input field names; every
    date is within [start, end]. Raises ConfigError on a non-positive count or an empty window.
    """
    if customers < 1:
        raise ConfigError(f"customers = {customers}: expected at least 1")
    first, last = _day(start), _day(end)
    if last <= first:
        raise ConfigError(f"sample window {start} .. {end} is empty")
    builder = _Builder(np.random.default_rng(seed), first, last)
    for number in range(1, customers + 1):
        builder.customer(number)
    return builder.finish()


def write_sample(out_dir: str | Path, customers: int = 300, seed: int = 7, *,
                 start: str | pd.Timestamp = DEFAULT_START,
                 end: str | pd.Timestamp = DEFAULT_END) -> list[tuple[str, int]]:
    """Write customers.json, contracts.json and projects.json (NDJSON) into out_dir; returns [(path, rows)] per file."""
    files = dict(zip(("customers.json", "contracts.json", "projects.json"),
                     generate(customers, seed, start=start, end=end), strict=True))
    out = Path(out_dir)
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, records in files.items():
            path = out / name
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            path.write_text(text, encoding="utf-8")
            written.append((str(path), len(records)))
    except OSError as exc:
        raise ConfigError(f"cannot write the sample to {out}: {exc.strerror or exc}") from None
    return written
