"""The demo world: determinism, the folder contract, the mess, intent → activity, and the ground truth."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.world import generate
from ingestion.world.__main__ import main as cli_main

from .conftest import END_DATE, SMALL, read_csv

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
S, I64, DATE, BOOL, F64 = pa.string(), pa.int64(), pa.date32(), pa.bool_(), pa.float64()

PARQUET_SCHEMAS = {
    "npm/downloads.parquet": {"package": S, "day": DATE, "downloads": I64},
    "npm/version_downloads.parquet": {"package": S, "version": S, "day": DATE, "downloads": I64},
    "pypi/downloads.parquet": {"package": S, "day": DATE, "kind": S, "category": S, "downloads": I64},
    "github/users.parquet": {"login": S, "id": I64, "type": S, "name": S, "company": S, "email": S, "blog": S,
                             "location": S, "bio": S, "created_at": S, "updated_at": S},
    "github/orgs.parquet": {"login": S, "id": I64, "name": S, "blog": S, "email": S, "location": S,
                            "description": S, "created_at": S},
    "github/stargazers.parquet": {"repo": S, "login": S, "starred_at": S},
    "github/forks.parquet": {"repo": S, "id": I64, "owner_login": S, "created_at": S},
    "github/issues.parquet": {"repo": S, "id": I64, "number": I64, "login": S, "title": S, "state": S,
                              "created_at": S, "updated_at": S, "closed_at": S, "is_pull_request": BOOL,
                              "merged_at": S},
    "github/contributors.parquet": {"repo": S, "login": S, "contributions": I64},
    "github/releases.parquet": {"repo": S, "id": I64, "tag_name": S, "name": S, "published_at": S,
                                "author_login": S},
    "truth/companies.parquet": {"company_id": S, "name": S, "domain": S, "size": S, "employees": I64,
                                "industry": S, "github_org": S, "intent": F64, "outcome": S, "outcome_date": DATE,
                                "is_vendor": BOOL},
    "truth/people.parquet": {"person_id": S, "company_id": S, "title": S, "is_bot": BOOL,
                             "is_vendor_employee": BOOL},
    "truth/employment.parquet": {"person_id": S, "company_id": S, "start_date": DATE, "end_date": DATE},
    "truth/identifiers.parquet": {"person_id": S, "identifier_type": S, "identifier_value": S},
}
CSV_HEADERS = {
    "hubspot-contacts": ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
                         "Lifecycle Stage", "Lead Status", "Create Date", "Associated Company IDs"],
    "hubspot-companies": ["Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
                          "Annual Revenue", "City", "Country/Region", "Create Date"],
    "hubspot-deals": ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Pipeline",
                      "Associated Company IDs", "Create Date"],
    "salesforce-contacts": ["Contact ID", "First Name", "Last Name", "Email", "Title", "Account Name", "Account ID",
                            "Lead Source", "Mailing City", "Mailing Country", "Created Date"],
    "salesforce-accounts": ["Account ID", "Account Name", "Website", "Industry", "Employees", "Billing City",
                            "Billing Country", "Created Date"],
    "salesforce-opportunities": ["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Close Date",
                                 "Account Name", "Account ID", "Created Date"],
}


def file_digests(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def window_of(world: Path) -> tuple[str, str]:
    meta = json.loads((world / "meta.json").read_text())
    return meta["start_date"], meta["end_date"]


# ----------------------------------------------------------------------------- determinism
def test_same_arguments_give_identical_bytes(small_world, tmp_path):
    again = tmp_path / "again"
    generate(again, **SMALL)
    assert file_digests(again) == file_digests(small_world)


def test_another_seed_gives_another_world(small_world, tmp_path):
    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": SMALL["seed"] + 1})
    first, second = file_digests(small_world), file_digests(other)
    assert first["meta.json"] != second["meta.json"]
    for name in ("truth/companies.parquet", "truth/identifiers.parquet", "github/users.parquet",
                 "crm/hubspot-contacts.csv", "npm/downloads.parquet"):
        assert first[name] != second[name], name


def test_regenerating_replaces_the_world_in_one_step(tmp_path):
    out = tmp_path / "world"
    generate(out, **{**SMALL, "days": 10})
    generate(out, **SMALL)
    assert json.loads((out / "meta.json").read_text())["days"] == SMALL["days"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["world"]  # no temp or old folder left behind
    assert len(list((out / "segment" / "archive").rglob("*.json.gz"))) >= SMALL["days"]

    stranger = tmp_path / "not-a-world"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(stranger, **SMALL)
    assert (stranger / "notes.txt").read_text() == "mine"


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli-world"
    assert cli_main(["--out", str(out), "--seed", "5", "--companies", "12", "--people", "80", "--days", "10",
                     "--end-date", "2025-01-31", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "signals" in printed and "12 companies" in printed
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["seed"], meta["companies"], meta["people"], meta["days"]) == (5, 12, 80, 10)
    assert (meta["start_date"], meta["end_date"]) == ("2025-01-22", "2025-01-31")


# ----------------------------------------------------------------------------- contract
def test_meta(world_dir):
    meta = json.loads((world_dir / "meta.json").read_text())
    assert list(meta) == ["seed", "companies", "people", "days", "start_date", "end_date", "vendor",
                          "npm_packages", "pypi_packages", "github_repos"]
    assert (meta["seed"], meta["companies"], meta["people"], meta["days"]) == (7, 200, 2000, 90)
    assert meta["end_date"] == END_DATE.isoformat()
    assert meta["start_date"] == (END_DATE - dt.timedelta(days=89)).isoformat()
    assert set(meta["vendor"]) == {"name", "domain", "github_org"}
    assert len(meta["npm_packages"]) == 2 and any(name.startswith("@") for name in meta["npm_packages"])
    assert 1 <= len(meta["pypi_packages"]) <= 2
    assert 2 <= len(meta["github_repos"]) <= 3
    assert all(repo.startswith(meta["vendor"]["github_org"] + "/") for repo in meta["github_repos"])


def test_every_file_and_column(world_dir):
    for relative, columns in PARQUET_SCHEMAS.items():
        schema = pq.read_schema(world_dir / relative)
        assert dict(zip(schema.names, schema.types)) == columns, relative
    for name, headers in CSV_HEADERS.items():
        with (world_dir / "crm" / f"{name}.csv").open(encoding="utf-8") as handle:
            written = handle.readline().rstrip("\r\n").split(",")
        assert written[:len(headers)] == headers, name
    for relative in ("npm/packages.json", "pypi/releases.json", "meta.json"):
        assert (world_dir / relative).is_file()
    files = sorted((world_dir / "segment" / "archive").rglob("*"))
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d(/\d+\.json\.gz)?", path.relative_to(
        world_dir / "segment" / "archive").as_posix()) or path.is_dir() for path in files)


def test_summary_matches_the_files(default_world, github, segment_calls, truth):
    world, summary = default_world
    issues = github["issues"]
    assert summary.stars == len(github["stargazers"])
    assert summary.forks == len(github["forks"])
    assert summary.issues == int((~issues.is_pull_request).sum())
    assert summary.pull_requests == int(issues.is_pull_request.sum())
    assert summary.segment_calls == len(segment_calls)
    assert summary.signals == summary.stars + summary.forks + summary.issues + summary.pull_requests \
        + summary.segment_calls
    assert summary.companies == len(truth["companies"]) == 200
    assert summary.people == int((~truth["people"].is_bot).sum()) == 2000
    assert summary.identifiers == len(truth["identifiers"])


def test_ids_are_unique(github, truth, crm, segment_calls):
    users, orgs = github["users"], github["orgs"]
    assert users.login.str.lower().is_unique and users.id.is_unique
    assert orgs.login.str.lower().is_unique and orgs.id.is_unique
    assert not set(users.id) & set(orgs.id)  # GitHub ids share one space
    assert not set(users.login.str.lower()) & set(orgs.login.str.lower())
    assert not github["stargazers"].duplicated(["repo", "login"]).any()
    assert github["forks"].id.is_unique and not github["forks"].duplicated(["repo", "owner_login"]).any()
    assert github["issues"].id.is_unique and not github["issues"].duplicated(["repo", "number"]).any()
    assert github["releases"].id.is_unique and not github["contributors"].duplicated(["repo", "login"]).any()
    assert truth["companies"].company_id.is_unique and truth["people"].person_id.is_unique
    assert not truth["identifiers"].duplicated().any()
    for name, key in (("hubspot-contacts", "Record ID"), ("hubspot-companies", "Record ID"),
                      ("hubspot-deals", "Record ID"), ("salesforce-contacts", "Contact ID"),
                      ("salesforce-accounts", "Account ID"), ("salesforce-opportunities", "Opportunity ID")):
        values = [row[key] for row in crm[name]]
        assert len(values) == len(set(values)), name
    # messageIds are unique except Segment retries, which repeat the whole call.
    by_id: dict[str, list[dict]] = {}
    for call in segment_calls:
        by_id.setdefault(call["messageId"], []).append(call)
    repeated = [calls for calls in by_id.values() if len(calls) > 1]
    assert 1 <= len(repeated) <= 0.001 * len(segment_calls)
    assert all(all(call == calls[0] for call in calls) for calls in repeated)


def test_timestamps_inside_the_window(world_dir, github, segment_calls, segment_files):
    start, end = window_of(world_dir)
    first, last = f"{start}T00:00:00", f"{end}T23:59:59.999Z"

    stamps = [call["timestamp"] for call in segment_calls]
    assert all(ISO_MILLIS.match(stamp) for stamp in stamps)
    assert stamps == sorted(stamps)  # in time order, across files and days
    assert first <= stamps[0] and stamps[-1] <= last
    for relative, calls in segment_files.items():  # each file holds its own day, at most 100k calls
        day = relative.rsplit("/", 1)[0].replace("/", "-")
        assert calls and len(calls) <= 100_000 and all(call["timestamp"].startswith(day) for call in calls)

    for table, columns in (("forks", ["created_at"]), ("issues", ["created_at", "updated_at", "closed_at",
                                                                   "merged_at"])):
        for column in columns:
            values = github[table][column].dropna()
            assert values.map(lambda v: bool(ISO_SECONDS.match(v))).all()
            assert values.between(first, last).all(), (table, column)
    stars = github["stargazers"].starred_at
    assert (stars <= last).all() and (stars >= first).mean() > 0.7  # a few stars predate the window
    issues = github["issues"]
    assert (issues.updated_at >= issues.created_at).all()
    assert ((issues.state == "closed") == issues.closed_at.notna()).all()
    assert issues[issues.merged_at.notna()].is_pull_request.all()
    days = pd.date_range(start, end).date
    for relative in ("npm/downloads.parquet", "pypi/downloads.parquet"):
        series = pd.read_parquet(world_dir / relative)
        assert sorted(set(series.day)) == list(days), relative


def test_segment_calls_have_the_contract_fields(segment_calls):
    types = Counter(call["type"] for call in segment_calls)
    assert set(types) == {"identify", "track", "group", "page"}
    for call in segment_calls:
        assert call["messageId"] and ("userId" in call or "anonymousId" in call) and "context" in call
        if call["type"] == "identify":
            assert "email" in call["traits"] and "name" in call["traits"]
        elif call["type"] == "group":
            assert call["groupId"] and set(call["traits"]) == {"name", "website", "industry", "employees"}
        elif call["type"] == "track":
            assert call["event"] and isinstance(call["properties"], dict)
        else:
            assert call["name"] and call["properties"]["path"].startswith("/")
    events = Counter(call["event"] for call in segment_calls if call["type"] == "track")
    assert {"Signed Up", "API Call", "Feature Used", "Invited Teammate", "Viewed Docs",
            "Created Project"} <= set(events)
    # identify comes before anything else a userId does
    first_seen: dict[str, str] = {}
    for call in segment_calls:
        if "userId" in call:
            first_seen.setdefault(call["userId"], call["type"])
    assert set(first_seen.values()) == {"identify"}


def test_npm_registry_documents(world_dir):
    meta = json.loads((world_dir / "meta.json").read_text())
    documents = json.loads((world_dir / "npm/packages.json").read_text())
    assert list(documents) == meta["npm_packages"]
    for name, document in documents.items():
        assert {"_id", "_rev", "name", "description", "dist-tags", "versions", "time", "maintainers", "repository",
                "license", "readme"} <= set(document)
        assert document["_id"] == document["name"] == name
        assert document["dist-tags"]["latest"] in document["versions"]
        assert set(document["time"]) == {"created", "modified", *document["versions"]}
        for version, doc in document["versions"].items():
            assert doc["name"] == name and doc["version"] == version and doc["_id"] == f"{name}@{version}"
            assert {"shasum", "tarball", "integrity"} <= set(doc["dist"]) and doc["dist"]["tarball"].endswith(".tgz")
            assert {"name", "email"} <= set(doc["_npmUser"]) and doc["maintainers"]
    downloads = pd.read_parquet(world_dir / "npm/downloads.parquet")
    by_version = pd.read_parquet(world_dir / "npm/version_downloads.parquet")
    assert (downloads.downloads > 0).all()
    weekday = downloads[pd.to_datetime(downloads.day).dt.day_of_week < 5].downloads.mean()
    weekend = downloads[pd.to_datetime(downloads.day).dt.day_of_week >= 5].downloads.mean()
    assert weekend < 0.7 * weekday  # developers download on workdays
    summed = by_version.groupby(["package", "day"]).downloads.sum()
    assert summed.to_dict() == downloads.set_index(["package", "day"]).downloads.to_dict()
    last_week = by_version[by_version.day > END_DATE - dt.timedelta(days=7)]
    assert set(last_week.package) == set(meta["npm_packages"])


def test_pypi_releases_and_downloads(world_dir):
    meta = json.loads((world_dir / "meta.json").read_text())
    releases = json.loads((world_dir / "pypi/releases.json").read_text())
    assert list(releases) == meta["pypi_packages"]
    for versions in releases.values():
        for files in versions.values():
            assert {file["packagetype"] for file in files} == {"sdist", "bdist_wheel"}
            for file in files:
                assert {"filename", "upload_time", "upload_time_iso_8601", "digests", "size", "url",
                        "yanked"} <= set(file)
                assert file["upload_time_iso_8601"].endswith("Z")
    series = pd.read_parquet(world_dir / "pypi/downloads.parquet")
    assert set(series.kind) == {"overall", "python_major", "system"}
    assert set(series.category) == {"with_mirrors", "without_mirrors", "2", "3", "Linux", "Darwin", "Windows",
                                    "null"}
    totals = series.pivot_table(index=["package", "day"], columns="category", values="downloads", aggfunc="sum")
    assert (totals["2"] + totals["3"] == totals["without_mirrors"]).all()
    assert (totals[["Linux", "Darwin", "Windows", "null"]].sum(axis=1) == totals["without_mirrors"]).all()
    assert (totals["with_mirrors"] >= totals["without_mirrors"]).all()


# ----------------------------------------------------------------------------- the mess is there
def test_identities_are_messy(truth, github, segment_calls, crm):
    identifiers = truth["identifiers"]
    emails = identifiers[identifiers.identifier_type == "email"].identifier_value
    assert (emails != emails.str.lower()).sum() >= 10  # typed with odd case
    assert (emails != emails.str.strip()).sum() >= 3  # and with surrounding whitespace
    free_mail = emails.str.strip().str.lower().str.split("@").str[1].isin(["gmail.com", "outlook.com", "proton.me"])
    assert free_mail.sum() >= 50  # personal addresses

    users = github["users"]
    bots = users[users.type == "Bot"].login
    assert {"dependabot[bot]", "renovate[bot]", "github-actions[bot]"} <= set(bots)
    assert users.login.str.startswith("ci-runner-").sum() >= 2
    assert (github["issues"].login == "dependabot[bot]").sum() > 0
    company = users.company.dropna()
    assert company.str.startswith("@").sum() > 20 and (company.str.contains(r"\.(?:com|io|dev|ai|co)$")).sum() > 0
    assert users.company.isna().sum() > 20 and (company == company.str.upper()).sum() > 0

    agents = Counter(call["context"].get("userAgent", "") for call in segment_calls)
    assert any(agent.startswith("GitHub-Actions") for agent in agents)
    assert any(agent.startswith("node-fetch") for agent in agents)
    identify_emails = [call["traits"]["email"] for call in segment_calls if call["type"] == "identify"]
    assert any(email.endswith("example.com") or email.startswith("test") for email in identify_emails)

    people_in_hubspot = identifiers[identifiers.identifier_type == "hubspot_contact_id"].person_id.value_counts()
    assert (people_in_hubspot > 1).sum() >= 2  # the same person twice, under two record ids
    domains = [row["Company Domain Name"].lower().removeprefix("www.") for row in crm["hubspot-companies"]
               if row["Company Domain Name"]]
    assert any(count > 1 for count in Counter(domains).values())  # duplicate company records
    stages = {row["Deal Stage"] for row in crm["hubspot-deals"]}
    assert any(" " in stage for stage in stages) and any(stage.islower() for stage in stages)  # labels and ids


def test_crm_files_hold_quoted_commas_and_newlines(world_dir):
    text = "".join((world_dir / "crm" / name).read_text(encoding="utf-8") for name in
                   ("hubspot-deals.csv", "salesforce-opportunities.csv", "salesforce-accounts.csv"))
    assert '",' in text or ',"' in text
    rows = read_csv(world_dir / "crm" / "salesforce-opportunities.csv") + \
        read_csv(world_dir / "crm" / "hubspot-deals.csv")
    notes = [row.get("Description") or row.get("Deal Description") or "" for row in rows]
    assert any("\n" in note for note in notes) and any("," in note for note in notes)


def test_some_people_changed_jobs_and_github_still_shows_the_old_one(truth, github):
    employment, companies, identifiers = truth["employment"], truth["companies"], truth["identifiers"]
    ended = employment[employment.end_date.notna()]
    assert len(ended) >= 20
    current = employment[employment.end_date.isna()].set_index("person_id").company_id
    people = truth["people"].set_index("person_id")
    assert (people.loc[current.index].company_id == current).all()
    names = companies.set_index("company_id").fillna({"github_org": ""})
    logins = identifiers[identifiers.identifier_type == "github_login"].set_index("identifier_value").person_id
    users = github["users"].fillna({"company": ""}).set_index("login")
    stale = 0
    for person, old in zip(ended.person_id, ended.company_id):
        owned = logins[logins == person].index
        for login in owned:
            shown = users.loc[login, "company"].lower().lstrip("@")
            old_org = names.loc[old, "github_org"].lower()
            if shown and (shown == old_org and old_org or names.loc[old, "name"].lower() in shown
                          or shown == names.loc[old, "domain"]):
                stale += 1
    assert stale >= 3


# ----------------------------------------------------------------------------- intent drives what happens
def person_of(truth) -> dict[str, str]:
    identifiers = truth["identifiers"]
    keyed = identifiers[identifiers.identifier_type.isin(["github_login", "segment_user_id", "segment_anonymous_id"])]
    return dict(zip(keyed.identifier_value, keyed.person_id))


def test_intent_drives_activity(truth, github, segment_calls):
    owner = person_of(truth)
    actors = [owner.get(call.get("userId")) or owner.get(call.get("anonymousId")) for call in segment_calls]
    actors += [owner.get(login) for login in github["stargazers"].login]
    actors += [owner.get(login) for login in github["issues"].login]
    company_of = dict(zip(truth["people"].person_id, truth["people"].company_id))
    per_company = pd.Series(Counter(company_of[actor] for actor in actors if actor))
    companies = truth["companies"].set_index("company_id")
    customers = companies[~companies.is_vendor].copy()
    customers["signals"] = per_company.reindex(customers.index).fillna(0)
    assert customers.intent.corr(customers.signals, method="spearman") > 0.5
    # a few hot accounts, most cold
    assert (customers.intent > 0.6).mean() < 0.15 and (customers.intent < 0.2).mean() > 0.4
    # and the accounts that buy are the ones that wanted to
    won = customers[customers.outcome == "closed_won"]
    assert len(won) >= 3 and won.intent.mean() > customers[customers.outcome == "none"].intent.mean() + 0.2
    assert won.outcome_date.notna().all()
    assert (won.outcome_date >= END_DATE - dt.timedelta(days=30)).all()


def test_vendor_staff_are_loud_and_marked(truth, segment_calls):
    people = truth["people"]
    vendor = truth["companies"][truth["companies"].is_vendor]
    assert len(vendor) == 1
    staff = people[people.is_vendor_employee]
    assert 3 <= len(staff) <= 40 and (staff.company_id == vendor.company_id.iloc[0]).all()
    owner = person_of(truth)
    calls = Counter(owner.get(call.get("userId")) for call in segment_calls if call.get("userId"))
    staff_mean = sum(calls[p] for p in staff.person_id) / len(staff)
    customers = people[~people.is_vendor_employee & ~people.is_bot].person_id
    active = [calls[p] for p in customers if calls[p]]
    assert staff_mean > 5 * (sum(active) / len(active))


def test_closed_deals_match_outcomes(truth, crm):
    companies = truth["companies"]
    by_domain = dict(zip(companies.domain, companies.outcome))

    def domain(text: str) -> str:
        text = text.strip().lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
        return text.rstrip("/")

    hubspot_domain = {row["Record ID"]: domain(row["Company Domain Name"]) for row in crm["hubspot-companies"]}
    account_domain = {row["Account ID"]: domain(row["Website"]) for row in crm["salesforce-accounts"]}
    seen: dict[str, set[str]] = {}
    for row in crm["hubspot-deals"]:
        stage = {"closed won": "closed_won", "closedwon": "closed_won", "closed lost": "closed_lost",
                 "closedlost": "closed_lost"}.get(row["Deal Stage"].lower(), "open")
        for record in row["Associated Company IDs"].split(";"):
            if hubspot_domain.get(record):
                seen.setdefault(hubspot_domain[record], set()).add(stage)
    for row in crm["salesforce-opportunities"]:
        stage = {"Closed Won": "closed_won", "Closed Lost": "closed_lost"}.get(row["Stage"], "open")
        if account_domain.get(row["Account ID"]):
            seen.setdefault(account_domain[row["Account ID"]], set()).add(stage)
    for found_domain, stages in seen.items():
        assert stages == {by_domain[found_domain]}, found_domain
    with_outcome = companies[companies.outcome != "none"]
    matched = with_outcome.domain.isin(list(seen)).mean()
    assert matched > 0.8  # the rest hide behind a blank domain, as CRM data does
    in_crm = {domain(row["Company Domain Name"]) for row in crm["hubspot-companies"]} | set(account_domain.values())
    share = companies[~companies.is_vendor].domain.isin(in_crm).mean()
    assert 0.25 < share < 0.6


# ----------------------------------------------------------------------------- ground truth is complete
def test_every_identifier_in_the_sources_is_in_the_truth(world_dir, truth, github, segment_calls, crm):
    known = set(zip(truth["identifiers"].identifier_type, truth["identifiers"].identifier_value))
    orgs = set(github["orgs"].login)
    written: set[tuple[str, str]] = set()
    users = github["users"]
    written |= {("github_login", login) for login in users.login}
    written |= {("email", email) for email in users.email.dropna()}
    for table, column in (("stargazers", "login"), ("forks", "owner_login"), ("issues", "login"),
                          ("contributors", "login"), ("releases", "author_login")):
        written |= {("github_login", login) for login in github[table][column] if login not in orgs}
    for call in segment_calls:
        if "userId" in call:
            written.add(("segment_user_id", call["userId"]))
        if "anonymousId" in call:
            written.add(("segment_anonymous_id", call["anonymousId"]))
        if call["type"] == "identify":
            written.add(("email", call["traits"]["email"]))
    for row in crm["hubspot-contacts"]:
        written.add(("hubspot_contact_id", row["Record ID"]))
        written |= {("email", row["Email"])} if row["Email"] else set()
    for row in crm["salesforce-contacts"]:
        written.add(("salesforce_contact_id", row["Contact ID"]))
        written |= {("email", row["Email"])} if row["Email"] else set()
    documents = json.loads((world_dir / "npm/packages.json").read_text())
    for document in documents.values():
        for maintainer in document["maintainers"]:
            written.add(("email", maintainer["email"]))
    info = json.loads((world_dir / "pypi/info.json").read_text())
    written |= {("email", package["maintainer_email"]) for package in info.values()}
    missing = written - known
    assert not missing, sorted(missing)[:10]
    # and every identifier in the truth was written somewhere (the truth invents nothing)
    assert len(known - written) <= 0.02 * len(known)


def test_people_and_bots_in_the_truth(truth, github):
    people, identifiers = truth["people"], truth["identifiers"]
    assert set(identifiers.identifier_type) == {"email", "github_login", "segment_user_id", "segment_anonymous_id",
                                                "hubspot_contact_id", "salesforce_contact_id"}
    assert set(identifiers.person_id) <= set(people.person_id)
    bot_logins = identifiers[identifiers.person_id.isin(people[people.is_bot].person_id)
                             & (identifiers.identifier_type == "github_login")].identifier_value
    assert {"dependabot[bot]", "renovate[bot]", "github-actions[bot]"} <= set(bot_logins)
    assert bot_logins.str.startswith("ci-runner-").any()
    seniors = people.title.dropna().str.contains(r"^VP|Director|Head of|CTO|Founder|CEO|Chief")
    tricky = people.title.dropna().str.contains("Headless|Directory")
    assert 0.05 < seniors.mean() < 0.3 and tricky.any()
    only_github = set(identifiers.person_id) - set(identifiers[identifiers.identifier_type != "github_login"].person_id)
    assert len(only_github) >= 10  # some people exist only as a GitHub login
