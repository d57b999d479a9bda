"""GitHub: users and orgs (profiles as people write them), and activity on the vendor's repos.

Stars, forks, issues and pull requests follow the engagement plan (intent → who, when, how much); vendor
staff and bots (dependabot, renovate, github-actions) add the noise a real repository has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.world import vocab
from ingestion.world.activity import Plan
from ingestion.world.common import DAY, Window, date_to_epoch, iso_seconds, random_case, rng_for, unique_ints, \
    write_parquet
from ingestion.world.companies import Companies, name_variant
from ingestion.world.packages import REPO_OF, Release
from ingestion.world.people import CI_BOT, GITHUB_BOT, HUMAN, VENDOR, People, Spells
from ingestion.world.truth import IdentifierLog

STAR_POPULARITY = np.array([1.0, 0.45, 0.25])
FORK_POPULARITY = np.array([0.25, 0.12, 0.3])
ISSUE_REPO_WEIGHTS = np.array([0.6, 0.3, 0.1])
FIRST_ISSUE_NUMBER = (1400, 420, 95)  # the repos had history before the window


@dataclass
class GithubStats:
    users: int = 0
    stars: int = 0
    forks: int = 0
    issues: int = 0
    pull_requests: int = 0


def _time_of_day(rng: np.random.Generator, utc_offset: np.ndarray) -> np.ndarray:
    hour = np.mod(rng.normal(14, 3.5, size=len(utc_offset)) - utc_offset, 24)
    return (hour * 3600).astype("int64")


def _in_range(rng: np.random.Generator, window: Window, first_day: np.ndarray, last_day: np.ndarray,
              utc_offset: np.ndarray) -> np.ndarray:
    """Epoch seconds: a day drawn uniformly in [first_day, last_day] plus a working-hours time of day."""
    day = first_day + np.floor(rng.random(len(first_day)) * (last_day - first_day + 1)).astype("int64")
    return window.start + day * DAY + _time_of_day(rng, utc_offset)


def write_github(out: Path, seed: int, companies: Companies, people: People, spells: Spells, plan: Plan,
                 window: Window, history: dict[str, list[Release]], identifiers: IdentifierLog) -> GithubStats:
    rng = rng_for(seed, "github")
    stats = GithubStats()
    repos = vocab.GITHUB_REPOS
    login = people.github_login
    on_github = np.array([value is not None for value in login])
    vendor_logins = [login[p] for p in np.flatnonzero((people.kind == VENDOR) & on_github).tolist()]

    # Actors on GitHub (employment spells of people with a login).
    actors = np.flatnonzero(on_github[plan.person] & np.isin(plan.kind, (HUMAN, VENDOR, CI_BOT)))
    person = plan.person[actors]
    intent = plan.intent[actors]
    engaged = plan.engaged[actors] & (plan.kind[actors] != CI_BOT)
    vendor = plan.kind[actors] == VENDOR
    offset = plan.utc_offset[actors]
    spell_first = np.concatenate([spells.first_day, np.zeros(len(plan) - len(spells), int)])[actors]
    spell_last = np.concatenate([spells.last_day, np.full(len(plan) - len(spells), window.days - 1)])[actors]

    # --- stars: engaged people star what they use; anyone may drive-by star; some stars predate the window
    star_rows: dict[tuple[int, int], int] = {}
    for repo in range(len(repos)):
        wants = engaged & (rng.random(len(actors)) < STAR_POPULARITY[repo] * (0.35 + 0.6 * intent))
        drive_by = ~wants & (rng.random(len(actors)) < STAR_POPULARITY[repo] * 0.04)
        when = np.where(wants, _in_range(rng, window, plan.active_first[actors], plan.active_last[actors], offset),
                        _in_range(rng, window, spell_first, spell_last, offset))
        older = rng.random(len(actors)) < 0.12
        before = window.start - rng.integers(1, 900, size=len(actors)) * DAY + _time_of_day(rng, offset)
        when = np.where(older | vendor, before, when)
        for index in np.flatnonzero(wants | drive_by | vendor).tolist():
            key = (repo, int(person[index]))
            star_rows[key] = min(star_rows.get(key, 1 << 62), int(when[index]))
    stars = sorted((repo, moment, login[p]) for (repo, p), moment in star_rows.items())
    star_times = iso_seconds(np.array([row[1] for row in stars], dtype="int64"))
    write_parquet(out / "stargazers.parquet", {
        "repo": [repos[row[0]] for row in stars], "login": [row[2] for row in stars], "starred_at": star_times,
    }, pa.schema([("repo", pa.string()), ("login", pa.string()), ("starred_at", pa.string())]))
    stats.stars = len(stars)

    # --- forks: fewer than stars; some are owned by the company's org, CI accounts fork the main repo
    fork_rows: dict[tuple[int, str], int] = {}
    ci = plan.kind[actors] == CI_BOT
    for repo in range(len(repos)):
        wants = (engaged & (rng.random(len(actors)) < FORK_POPULARITY[repo] * (0.05 + 0.35 * intent))) \
            | (ci & (repo == 0) & (rng.random(len(actors)) < 0.5))
        when = _in_range(rng, window, plan.active_first[actors], plan.active_last[actors], offset)
        by_org = rng.random(len(actors)) < 0.06
        for index in np.flatnonzero(wants).tolist():
            company = int(plan.company[actors[index]])
            owner = login[person[index]]
            if by_org[index] and not vendor[index] and companies.github_org[company]:
                owner = companies.github_org[company]
            key = (repo, owner)
            fork_rows[key] = min(fork_rows.get(key, 1 << 62), int(when[index]))
    forks = sorted((repo, moment, owner) for (repo, owner), moment in fork_rows.items())
    write_parquet(out / "forks.parquet", {
        "repo": [repos[row[0]] for row in forks], "id": unique_ints(rng, len(forks), 700_000_000, 40_000),
        "owner_login": [row[2] for row in forks],
        "created_at": iso_seconds(np.array([row[1] for row in forks], dtype="int64")),
    }, pa.schema([("repo", pa.string()), ("id", pa.int64()), ("owner_login", pa.string()),
                  ("created_at", pa.string())]))
    stats.forks = len(forks)

    # --- issues and pull requests
    active_days = (plan.active_last[actors] - plan.active_first[actors] + 1).astype(float)
    heavy = people.heaviness[person]
    issue_rate = np.where(vendor, 0.06, np.where(engaged, 0.012 * (0.4 + 1.5 * intent) * heavy, 0.0))
    pr_rate = np.where(vendor, 0.2, np.where(engaged, 0.004 * (0.3 + 1.5 * intent) * heavy, 0.0))
    items = []  # (repo, created, author login, is_pr, author kind)
    for is_pr, rate in ((False, issue_rate), (True, pr_rate)):
        counts = rng.poisson(rate * active_days)
        owner_index = np.repeat(np.arange(len(actors)), counts)
        created = _in_range(rng, window, plan.active_first[actors][owner_index],
                            plan.active_last[actors][owner_index], offset[owner_index])
        repo = rng.choice(len(repos), size=len(owner_index), p=ISSUE_REPO_WEIGHTS)
        for index, moment, target in zip(owner_index.tolist(), created.tolist(), repo.tolist()):
            kind = "vendor" if vendor[index] else "customer"
            items.append((target, moment, login[person[index]], is_pr, kind))
    for bot, targets, per_week in (("dependabot[bot]", (0, 1), 1.2), ("renovate[bot]", (2,), 1.0)):
        for target in targets:
            count = rng.poisson(window.days / 7 * per_week)
            created = window.start + rng.integers(0, window.days * DAY, size=count)
            items += [(target, int(moment), bot, True, "bot") for moment in created.tolist()]
    items.sort()
    stats.issues = sum(1 for item in items if not item[3])
    stats.pull_requests = len(items) - stats.issues

    ids = unique_ints(rng, len(items), 2_100_000_000, 9_000)
    number_next = list(FIRST_ISSUE_NUMBER)
    columns: dict[str, list] = {name: [] for name in ("repo", "id", "number", "login", "title", "state", "created_at",
                                                       "updated_at", "closed_at", "is_pull_request", "merged_at")}
    merged_by_login: dict[tuple[int, str], int] = {}
    close_draw = rng.random(len(items))
    merge_draw = rng.random(len(items))
    close_delay = rng.exponential(1.0, size=len(items))
    touch_draw = rng.random(len(items))
    title_draw = rng.integers(0, 1 << 30, size=(len(items), 3))
    end = window.end - 1
    for index, (repo, created, author, is_pr, kind) in enumerate(items):
        close_p, merge_p, mean_days = {
            (False, "customer"): (0.55, 0, 6), (False, "vendor"): (0.7, 0, 3), (True, "customer"): (0.7, 0.6, 2.5),
            (True, "vendor"): (0.92, 0.95, 1), (True, "bot"): (0.85, 0.75, 1.5)}.get((is_pr, kind), (0.55, 0, 6))
        closed = created + int(close_delay[index] * mean_days * DAY) + 600
        is_closed = close_draw[index] < close_p and closed <= end
        merged = is_pr and is_closed and merge_draw[index] < merge_p
        updated = closed if is_closed else created + int(touch_draw[index] * (end - created))
        columns["repo"].append(repos[repo])
        columns["id"].append(int(ids[index]))
        columns["number"].append(number_next[repo])
        number_next[repo] += 1
        columns["login"].append(author)
        columns["title"].append(_title(is_pr, author, title_draw[index]))
        columns["state"].append("closed" if is_closed else "open")
        columns["created_at"].append(created)
        columns["updated_at"].append(updated)
        columns["closed_at"].append(closed if is_closed else None)
        columns["is_pull_request"].append(is_pr)
        columns["merged_at"].append(closed if merged else None)
        if merged:
            merged_by_login[(repo, author)] = merged_by_login.get((repo, author), 0) + 1
    for name in ("created_at", "updated_at", "closed_at", "merged_at"):
        values = columns[name]
        present = [value for value in values if value is not None]
        text = iter(iso_seconds(np.array(present, dtype="int64")))
        columns[name] = [next(text) if value is not None else None for value in values]
    write_parquet(out / "issues.parquet", columns, pa.schema([
        ("repo", pa.string()), ("id", pa.int64()), ("number", pa.int64()), ("login", pa.string()),
        ("title", pa.string()), ("state", pa.string()), ("created_at", pa.string()), ("updated_at", pa.string()),
        ("closed_at", pa.string()), ("is_pull_request", pa.bool_()), ("merged_at", pa.string())]))

    _write_contributors(out, rng, people, on_github, vendor_logins, merged_by_login)
    _write_releases(out, rng, history, vendor_logins)
    stats.users = _write_users(out, rng, companies, people, spells, window, identifiers)
    _write_orgs(out, rng, companies, window)
    return stats


def _title(is_pr: bool, author: str, draw: np.ndarray) -> str:
    thing = vocab.ISSUE_THINGS[draw[1] % len(vocab.ISSUE_THINGS)]
    if author == "dependabot[bot]":
        dep = vocab.DEPENDENCIES[draw[0] % len(vocab.DEPENDENCIES)]
        minor = draw[2] % 20
        return f"Bump {dep} from 1.{minor}.0 to 1.{minor + 1}.0"
    if author == "renovate[bot]":
        dep = vocab.DEPENDENCIES[draw[0] % len(vocab.DEPENDENCIES)]
        return f"Update dependency {dep} to v{2 + draw[2] % 5}"
    templates = vocab.PR_TITLES if is_pr else vocab.ISSUE_TITLES
    return templates[draw[0] % len(templates)].format(thing=thing)


def _write_contributors(out: Path, rng: np.random.Generator, people: People, on_github: np.ndarray,
                        vendor_logins: list[str], merged_by_login: dict[tuple[int, str], int]) -> None:
    """The contributors API: all-time commit counts, so history (staff, bots, old externals) dominates."""
    repos = vocab.GITHUB_REPOS
    humans = [people.github_login[p] for p in np.flatnonzero(on_github & (people.kind == HUMAN)).tolist()]
    totals: dict[tuple[int, str], int] = {}
    for repo in range(len(repos)):
        for rank, name in enumerate(vendor_logins):
            if repo == 0 or rng.random() < 0.6:
                totals[(repo, name)] = int(rng.lognormal(5.0 - repo, 1.0)) + 1 + (40 if rank < 2 else 0)
        for bot, low, high in (("dependabot[bot]", 40, 250), ("github-actions[bot]", 20, 120)):
            if repo < 2:
                totals[(repo, bot)] = int(rng.integers(low, high))
        if repo == 2:
            totals[(repo, "renovate[bot]")] = int(rng.integers(20, 90))
        historic = rng.random(len(humans)) < (0.004 if repo == 0 else 0.0015)
        for index in np.flatnonzero(historic).tolist():
            totals[(repo, humans[index])] = int(rng.integers(1, 7))
    for (repo, name), merged in sorted(merged_by_login.items()):
        totals[(repo, name)] = totals.get((repo, name), 0) + merged
    rows = sorted(totals.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    write_parquet(out / "contributors.parquet", {
        "repo": [repos[repo] for (repo, _), _ in rows], "login": [name for (_, name), _ in rows],
        "contributions": [count for _, count in rows],
    }, pa.schema([("repo", pa.string()), ("login", pa.string()), ("contributions", pa.int64())]))


def _write_releases(out: Path, rng: np.random.Generator, history: dict[str, list[Release]],
                    vendor_logins: list[str]) -> None:
    rows = []
    for package, releases in history.items():
        for release in releases:
            if package.startswith("@"):
                tag = f"{package}@{release.version}"
            elif package == "forgeflow":
                tag = f"v{release.version}"
            else:
                tag = f"{package}@{release.version}"
            author = "github-actions[bot]" if rng.random() < 0.45 or not vendor_logins \
                else vendor_logins[int(rng.integers(min(3, len(vendor_logins))))]
            rows.append((REPO_OF[package], release.published + int(rng.integers(60, 900)), tag, author))
    rows.sort()
    write_parquet(out / "releases.parquet", {
        "repo": [row[0] for row in rows], "id": unique_ints(rng, len(rows), 90_000_000, 300_000),
        "tag_name": [row[2] for row in rows], "name": [row[2] for row in rows],
        "published_at": iso_seconds(np.array([row[1] for row in rows], dtype="int64")),
        "author_login": [row[3] for row in rows],
    }, pa.schema([("repo", pa.string()), ("id", pa.int64()), ("tag_name", pa.string()), ("name", pa.string()),
                  ("published_at", pa.string()), ("author_login", pa.string())]))


def _profile_company(rng: np.random.Generator, companies: Companies, company: int) -> str | None:
    """The free-text `company` field of a GitHub profile, written any which way."""
    org, name, domain = companies.github_org[company], companies.name[company], companies.domain[company]
    draw = rng.random()
    if draw < 0.3 and org:
        return f"@{org}"
    if draw < 0.55:
        return name_variant(rng, name, domain)
    if draw < 0.62:
        return domain
    if draw < 0.67:
        return name.upper()
    if draw < 0.72:
        return ("Freelance", "Self-employed", "Open Source", "Stealth")[rng.integers(4)]
    return None


def _write_users(out: Path, rng: np.random.Generator, companies: Companies, people: People, spells: Spells,
                 window: Window, identifiers: IdentifierLog) -> int:
    spells_of: dict[int, list[int]] = {}
    for index, person in enumerate(spells.person.tolist()):
        spells_of.setdefault(person, []).append(index)
    holders = [p for p in range(len(people)) if people.github_login[p]]
    human_ids = unique_ints(rng, len(holders), 60_000_000, 1_500)
    bot_ids = dict(vocab.GITHUB_BOTS)
    rows = []
    for rank, p in enumerate(holders):
        kind = people.kind[p]
        login = people.github_login[p]
        created = date_to_epoch(dt.date(2009, 1, 1)) + int(rng.integers(0, (window.start - 400 * DAY
                                                                              - date_to_epoch(dt.date(2009, 1, 1)))))
        updated = max(created, window.start + int(rng.integers(-300 * DAY, window.days * DAY)))
        if kind == GITHUB_BOT:
            rows.append((login, bot_ids[login], "Bot", None, None, None, None, None, None, created, updated))
            continue
        own = spells_of.get(p, [])
        shown = own[-1]  # current employer
        if len(own) > 1 and rng.random() < 0.7:
            shown = own[0]  # never updated after changing jobs: the stale employer
        company = int(spells.company[shown])
        if kind == CI_BOT:
            org = companies.github_org[company]
            rows.append((login, int(human_ids[rank]), "User", "CI Runner", f"@{org}", None, None, None,
                         f"Automation account for {companies.name[company]} CI", created, updated))
            continue
        if kind == VENDOR:
            company_text = ("@forgeflow", "@forgeflow", "Forgeflow", None)[rng.integers(4)]
        else:
            company_text = _profile_company(rng, companies, company)
        email = None
        if rng.random() < 0.35:
            personal = people.personal_email[p]
            email = personal if personal and rng.random() < 0.6 else spells.work_email[shown]
            if rng.random() < 0.08:
                email = random_case(rng, email)
        name = people.full_name(p) if rng.random() < 0.8 else None
        blog_draw = rng.random()
        blog = (f"https://{login.lower()}.dev" if blog_draw < 0.12 else
                f"https://{login.lower()}.github.io" if blog_draw < 0.22 else
                f"https://{companies.domain[company]}" if blog_draw < 0.3 else None)
        location = companies.city[company] if rng.random() < 0.55 else (
            vocab.CITIES[rng.integers(len(vocab.CITIES))][0] if rng.random() < 0.3 else None)
        title = people.title[p]
        bio = (f"{title} at {company_text.lstrip('@')}" if title and company_text and rng.random() < 0.25 else
               ("Building developer tools.", "OSS maintainer. Coffee.", "he/him", "Backend, infra, data.")[
                   rng.integers(4)] if rng.random() < 0.2 else None)
        rows.append((login, int(human_ids[rank]), "User", name, company_text, email, blog, location, bio, created,
                     updated))
        identifiers.add(p, "email", email)
    for p in holders:
        identifiers.add(p, "github_login", people.github_login[p])
    rows.sort(key=lambda row: row[0].lower())
    write_parquet(out / "users.parquet", {
        "login": [row[0] for row in rows], "id": [row[1] for row in rows], "type": [row[2] for row in rows],
        "name": [row[3] for row in rows], "company": [row[4] for row in rows], "email": [row[5] for row in rows],
        "blog": [row[6] for row in rows], "location": [row[7] for row in rows], "bio": [row[8] for row in rows],
        "created_at": iso_seconds(np.array([row[9] for row in rows], dtype="int64")),
        "updated_at": iso_seconds(np.array([row[10] for row in rows], dtype="int64")),
    }, pa.schema([("login", pa.string()), ("id", pa.int64()), ("type", pa.string()), ("name", pa.string()),
                  ("company", pa.string()), ("email", pa.string()), ("blog", pa.string()),
                  ("location", pa.string()), ("bio", pa.string()), ("created_at", pa.string()),
                  ("updated_at", pa.string())]))
    return len(rows)


def _write_orgs(out: Path, rng: np.random.Generator, companies: Companies, window: Window) -> None:
    holders = [c for c in range(len(companies)) if companies.github_org[c]]
    org_ids = unique_ints(rng, len(holders), 1_000_000, 200)
    rows = []
    for rank, c in enumerate(holders):
        founded = date_to_epoch(dt.date(int(companies.founded_year[c]), 1, 1)) + int(rng.integers(0, 360)) * DAY
        created = min(founded, window.start - 30 * DAY)
        rows.append((companies.github_org[c], int(org_ids[rank]), companies.name[c] if rng.random() < 0.85 else None,
                     f"https://{companies.domain[c]}" if rng.random() < 0.8 else None,
                     f"hello@{companies.domain[c]}" if rng.random() < 0.25 else None,
                     companies.city[c] if rng.random() < 0.6 else None,
                     f"{companies.name[c]} on GitHub" if rng.random() < 0.5 else None, created))
    rows.sort(key=lambda row: row[0].lower())
    write_parquet(out / "orgs.parquet", {
        "login": [row[0] for row in rows], "id": [row[1] for row in rows], "name": [row[2] for row in rows],
        "blog": [row[3] for row in rows], "email": [row[4] for row in rows], "location": [row[5] for row in rows],
        "description": [row[6] for row in rows],
        "created_at": iso_seconds(np.array([row[7] for row in rows], dtype="int64")),
    }, pa.schema([("login", pa.string()), ("id", pa.int64()), ("name", pa.string()), ("blog", pa.string()),
                  ("email", pa.string()), ("location", pa.string()), ("description", pa.string()),
                  ("created_at", pa.string())]))
