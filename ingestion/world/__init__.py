"""The deterministic demo world: a devtool vendor, its market, what developers do, and the ground truth.

    from ingestion.world import generate
    summary = generate(".devsignal/world", seed=7, companies=200, people=2000, days=90, end_date="2025-06-30")

Same arguments → byte-identical files. The folder layout is "Contract 1" in ingestion/README.md; truth/ is
for tests and bench/ only, never for the pipeline. The world is built in a temporary sibling folder, meta.json
is written last, and the folder is renamed into place, so a reader never sees a half-written world.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingestion.world import vocab
from ingestion.world.activity import build_plan
from ingestion.world.common import Window, write_json
from ingestion.world.companies import build_companies
from ingestion.world.crm import write_crm
from ingestion.world.github import write_github
from ingestion.world.packages import release_history, write_npm, write_pypi
from ingestion.world.people import HUMAN, VENDOR, build_people
from ingestion.world.segment import write_segment
from ingestion.world.truth import IdentifierLog, write_truth

__all__ = ["WorldSummary", "generate"]


@dataclass(frozen=True)
class WorldSummary:
    out_dir: str
    seed: int
    start_date: str
    end_date: str
    companies: int
    people: int  # humans, vendor staff included
    vendor_employees: int
    bots: int  # GitHub bots, CI accounts and test accounts (people rows with is_bot)
    github_users: int
    stars: int
    forks: int
    issues: int
    pull_requests: int
    segment_calls: int  # archived lines, retried duplicates included
    segment_files: int
    crm_contacts: int
    crm_companies: int
    deals: int
    identifiers: int

    @property
    def signals(self) -> int:
        """Person-level activity rows: stars + forks + issues + pull requests + Segment calls."""
        return self.stars + self.forks + self.issues + self.pull_requests + self.segment_calls

    def __str__(self) -> str:
        return (f"world in {self.out_dir} ({self.start_date}..{self.end_date}, seed {self.seed}): "
                f"{self.companies:,} companies, {self.people:,} people, {self.signals:,} signals "
                f"({self.segment_calls:,} Segment calls, {self.stars:,} stars, {self.forks:,} forks, "
                f"{self.issues:,} issues, {self.pull_requests:,} PRs), {self.crm_contacts:,} CRM contacts")


def _end_date(end_date: dt.date | str | None) -> dt.date:
    if end_date is None:
        return dt.datetime.now(dt.timezone.utc).date()  # the only wall-clock input
    if isinstance(end_date, dt.datetime):
        return end_date.date()
    if isinstance(end_date, dt.date):
        return end_date
    return dt.date.fromisoformat(str(end_date))


def _check_replaceable(out: Path) -> None:
    """Only ever replace an empty folder or a previous world, never somebody's other files."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "meta.json").exists()
                                              and not (out / "truth").is_dir())):
        raise FileExistsError(f"{out} exists and is not a world folder; refusing to replace it")


def _swap_into_place(built: Path, out: Path) -> None:
    if not out.exists():
        os.rename(built, out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    os.rename(built, out)
    shutil.rmtree(old)


def generate(out_dir: str | os.PathLike, seed: int = 7, companies: int = 200, people: int = 2000, days: int = 90,
             end_date: dt.date | str | None = None,
             progress: Callable[[str], None] | None = None) -> WorldSummary:
    """Write a world into `out_dir` (replacing a previous world there) and return its counts."""
    if companies < 3 or people < 20 or days < 7:
        raise ValueError("a world needs at least 3 companies, 20 people and 7 days")
    if people - max(4, min(40, people // 250)) < companies - 1:
        raise ValueError("need at least one person per company (people ≳ companies)")
    say = progress or (lambda message: None)
    end = _end_date(end_date)
    window = Window(end - dt.timedelta(days=days - 1), end)
    out = Path(out_dir).absolute()
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    built = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if built.exists():
        shutil.rmtree(built)
    built.mkdir()
    try:
        say(f"building {companies:,} companies and {people:,} people ({window.start_date}..{window.end_date})")
        company_table = build_companies(seed, companies, window)
        person_table, spells = build_people(seed, company_table, people, window)
        plan = build_plan(seed, company_table, person_table, spells, window)
        history = release_history(seed, window)
        identifiers = IdentifierLog()

        say("npm and PyPI: registry documents and download series")
        write_npm(built / "npm", seed, window, history, person_table, spells, identifiers)
        write_pypi(built / "pypi", seed, window, history, person_table, spells, identifiers)
        say("GitHub: users, orgs, stars, forks, issues, pull requests, contributors, releases")
        github = write_github(built / "github", seed, company_table, person_table, spells, plan, window, history,
                              identifiers)
        say("CRM: HubSpot and Salesforce exports")
        crm = write_crm(built / "crm", seed, company_table, person_table, spells, plan, window, identifiers)
        say("Segment archive")
        segment = write_segment(built / "segment" / "archive", seed, company_table, person_table, spells, plan,
                                window, identifiers, progress)
        say("ground truth")
        identifier_count = write_truth(built / "truth", company_table, person_table, spells, identifiers)

        write_json(built / "meta.json", {  # last: its presence marks a complete world
            "seed": seed, "companies": companies, "people": people, "days": days,
            "start_date": window.start_date.isoformat(), "end_date": window.end_date.isoformat(),
            "vendor": {"name": vocab.VENDOR_NAME, "domain": vocab.VENDOR_DOMAIN, "github_org": vocab.VENDOR_GITHUB_ORG},
            "npm_packages": list(vocab.NPM_PACKAGES), "pypi_packages": list(vocab.PYPI_PACKAGES),
            "github_repos": list(vocab.GITHUB_REPOS),
        })
        _swap_into_place(built, out)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise

    kinds = person_table.kind
    return WorldSummary(
        out_dir=str(out), seed=seed, start_date=window.start_date.isoformat(), end_date=window.end_date.isoformat(),
        companies=len(company_table), people=int(((kinds == HUMAN) | (kinds == VENDOR)).sum()),
        vendor_employees=int((kinds == VENDOR).sum()), bots=int(person_table.is_bot.sum()),
        github_users=github.users, stars=github.stars, forks=github.forks, issues=github.issues,
        pull_requests=github.pull_requests, segment_calls=segment.calls, segment_files=segment.files,
        crm_contacts=crm.hubspot_contacts + crm.salesforce_contacts,
        crm_companies=crm.hubspot_companies + crm.salesforce_accounts,
        deals=crm.hubspot_deals + crm.salesforce_opportunities, identifiers=identifier_count,
    )
