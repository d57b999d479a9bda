"""A small, hand-made raw dataset in the shape of ingestion/README.md Contract 3, and the dbt runner.

The raw tables are created the way dlt leaves them (snake_case columns, nested dicts flattened to
`parent__child`, `_dlt_load_id` / `_dlt_id`; CRM columns as text, as CSVs arrive), so the dbt
project can be developed and tested before the real connectors exist.

The dataset is built around a handful of accounts whose PQA v1 score on SCORE_AS_OF is known by
hand (EXPECTED_SCORES, worked out factor by factor below), plus noise that must not become an
account: a gmail user, the vendor's own employee, an anonymous visitor, a GitHub bot.

Usable on its own: `python tests/dbt/dbt_raw_fixture.py` loads the dataset into a fresh
`devsignal_dbt_test` database and runs `dbt build` against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

TEST_DBNAME = "devsignal_dbt_test"
SCORE_AS_OF = "2025-03-31"
INTERNAL_DOMAINS = ["devsignal.dev"]
FIRST_SIGNAL_DAY = "2025-03-10"  # the first *attributed* signal (gus@globex.com signs up): the spine starts here

# domain -> (score, tier, factor points in the order user_count, usage_velocity, feature_breadth,
#            engagement_recency, seniority_signals, firmographic_fit), as of SCORE_AS_OF.
EXPECTED_SCORES: dict[str, tuple[int, str, tuple[int, ...]]] = {
    # 5 users, 10 signals all in the last 7 days, 6 types (capped at 20), last signal today,
    # 2 senior CRM contacts (CTO, VP), SMALL (Salesforce "11-50" beats HubSpot "200")
    "acme.io": (100, "HOT", (25, 20, 20, 15, 10, 10)),
    # 3 users, 2 of 4 signals in 7 days, 3 types, last signal 2.5 days before the day's end,
    # 1 senior ("Head of Data"), MEDIUM (HubSpot "51-200" beats the Segment group's 5000)
    "globex.com": (62, "WARM", (15, 10, 12, 12, 5, 8)),
    # 1 user, 0 of 2 signals in 7 days, 2 types, last signal 10.5 days ago, LARGE ("1,000")
    "initech.com": (23, "COLD", (5, 0, 8, 4, 0, 6)),
    # CRM only: "CEO" + "Co-Founder", SMALL ("11 to 50") -> the §3.5 case, 20 COLD
    "hooli.xyz": (20, "COLD", (0, 0, 0, 0, 10, 10)),
    # CRM only: one "Headless Engineer" (senior by the v1 substring quirk), size unknown
    "umbrella.org": (10, "INACTIVE", (0, 0, 0, 0, 5, 5)),
    # CRM only: "2-10" employees -> STARTUP (the seed misread it as 210)
    "piedpiper.com": (8, "INACTIVE", (0, 0, 0, 0, 0, 8)),
}
EXPECTED_SIZE_BANDS = {
    "acme.io": "SMALL", "globex.com": "MEDIUM", "initech.com": "LARGE", "hooli.xyz": "SMALL",
    "umbrella.org": None, "piedpiper.com": "STARTUP",
}
EXPECTED_NAMES = {
    "acme.io": "Acme Inc", "globex.com": "Globex Corporation", "initech.com": "Initech",
    "hooli.xyz": "Hooli", "umbrella.org": "umbrella.org", "piedpiper.com": "Pied Piper",
}

DLT_COLUMNS = [("_dlt_load_id", "text not null"), ("_dlt_id", "text not null")]

# schema.table -> [(column, type)], per Contract 3
RAW_TABLES: dict[str, list[tuple[str, str]]] = {
    "raw_npm.downloads": [("package", "text"), ("day", "date"), ("downloads", "bigint")],
    "raw_npm.version_downloads": [("package", "text"), ("version", "text"), ("day", "date"), ("downloads", "bigint")],
    "raw_pypi.downloads": [("package", "text"), ("day", "date"), ("kind", "text"), ("category", "text"),
                           ("downloads", "bigint")],
    "raw_github.stargazers": [("repo", "text"), ("user_login", "text"), ("starred_at", "timestamptz")],
    "raw_github.forks": [("repo", "text"), ("id", "bigint"), ("owner_login", "text"), ("full_name", "text"),
                         ("created_at", "timestamptz")],
    "raw_github.issues": [("id", "bigint"), ("repo", "text"), ("number", "bigint"), ("user_login", "text"),
                          ("title", "text"), ("state", "text"), ("created_at", "timestamptz"),
                          ("updated_at", "timestamptz"), ("closed_at", "timestamptz")],
    "raw_github.pull_requests": [("id", "bigint"), ("repo", "text"), ("number", "bigint"), ("user_login", "text"),
                                 ("state", "text"), ("created_at", "timestamptz"), ("updated_at", "timestamptz"),
                                 ("closed_at", "timestamptz"), ("merged_at", "timestamptz")],
    "raw_github.users": [("login", "text"), ("id", "bigint"), ("type", "text"), ("name", "text"),
                         ("company", "text"), ("email", "text"), ("blog", "text"), ("location", "text"),
                         ("created_at", "timestamptz")],
    "raw_segment.identifies": [("message_id", "text"), ("user_id", "text"), ("anonymous_id", "text"),
                               ("timestamp", "timestamptz"), ("traits__email", "text"), ("traits__name", "text"),
                               ("traits__title", "text"), ("traits__company", "text")],
    "raw_segment.tracks": [("message_id", "text"), ("user_id", "text"), ("anonymous_id", "text"),
                           ("event", "text"), ("timestamp", "timestamptz"), ("properties__feature", "text"),
                           ("properties__plan", "text")],
    "raw_segment.groups": [("message_id", "text"), ("user_id", "text"), ("anonymous_id", "text"),
                           ("group_id", "text"), ("timestamp", "timestamptz"), ("traits__name", "text"),
                           ("traits__website", "text"), ("traits__industry", "text"), ("traits__employees", "text")],
    "raw_segment.pages": [("message_id", "text"), ("user_id", "text"), ("anonymous_id", "text"), ("name", "text"),
                          ("timestamp", "timestamptz"), ("properties__path", "text")],
    "raw_crm.hubspot_contacts": [("record_id", "bigint"), ("first_name", "text"), ("last_name", "text"),
                                 ("email", "text"), ("phone_number", "text"), ("job_title", "text"),
                                 ("company_name", "text"), ("lifecycle_stage", "text"), ("create_date", "text"),
                                 ("associated_company_ids", "text"), ("_source_file", "text"),
                                 ("_source_line", "bigint")],
    "raw_crm.hubspot_companies": [("record_id", "bigint"), ("company_name", "text"),
                                  ("company_domain_name", "text"), ("industry", "text"),
                                  ("number_of_employees", "text"), ("annual_revenue", "text"), ("city", "text"),
                                  ("country_region", "text"), ("create_date", "text"), ("_source_file", "text"),
                                  ("_source_line", "bigint")],
    "raw_crm.hubspot_deals": [("record_id", "bigint"), ("deal_name", "text"), ("deal_stage", "text"),
                              ("amount", "text"), ("close_date", "text"), ("pipeline", "text"),
                              ("associated_company_ids", "text"), ("create_date", "text"),
                              ("_source_file", "text"), ("_source_line", "bigint")],
    "raw_crm.salesforce_contacts": [("contact_id", "text"), ("first_name", "text"), ("last_name", "text"),
                                    ("email", "text"), ("title", "text"), ("account_name", "text"),
                                    ("account_id", "text"), ("lead_source", "text"), ("mailing_city", "text"),
                                    ("mailing_country", "text"), ("created_date", "text"),
                                    ("_source_file", "text"), ("_source_line", "bigint")],
    "raw_crm.salesforce_accounts": [("account_id", "text"), ("account_name", "text"), ("website", "text"),
                                    ("industry", "text"), ("employees", "text"), ("billing_city", "text"),
                                    ("billing_country", "text"), ("created_date", "text"),
                                    ("_source_file", "text"), ("_source_line", "bigint")],
    "raw_crm.salesforce_opportunities": [("opportunity_id", "text"), ("opportunity_name", "text"),
                                         ("stage", "text"), ("amount", "text"), ("close_date", "text"),
                                         ("account_name", "text"), ("account_id", "text"),
                                         ("created_date", "text"), ("_source_file", "text"),
                                         ("_source_line", "bigint")],
}


def _identify(mid, ts, user_id=None, anonymous_id=None, email=None, name=None, title=None, company=None):
    return {"message_id": mid, "user_id": user_id, "anonymous_id": anonymous_id, "timestamp": ts,
            "traits__email": email, "traits__name": name, "traits__title": title, "traits__company": company}


def _track(mid, ts, event, user_id=None, anonymous_id=None, feature=None):
    return {"message_id": mid, "user_id": user_id, "anonymous_id": anonymous_id, "event": event,
            "timestamp": ts, "properties__feature": feature, "properties__plan": None}


def _page(mid, ts, user_id=None, anonymous_id=None, name="Docs", path="/docs"):
    return {"message_id": mid, "user_id": user_id, "anonymous_id": anonymous_id, "name": name,
            "timestamp": ts, "properties__path": path}


def raw_rows() -> dict[str, list[dict]]:
    """The dataset, table by table. Timestamps are UTC ISO-8601 with Z, as in the world."""
    identifies = [
        # acme.io: five users identify between 03-25 and 03-30 -> 5 signups (u5 also has a Signed Up track)
        _identify("id-a1", "2025-03-25T09:00:00Z", "u1", "anon-u1", "ana@acme.io", "Ana", "CTO", "Acme"),
        _identify("id-a2", "2025-03-26T10:00:00Z", "u2", "anon-u2", "ben@acme.io", "Ben"),
        _identify("id-a3", "2025-03-27T10:00:00Z", "u3", "anon-u3", "  U3@Acme.IO ", "Cy"),
        _identify("id-a4", "2025-03-28T10:00:00Z", "u4", None, "dee@acme.io"),
        _identify("id-a5", "2025-03-29T10:00:00Z", "u5", None, "eli@acme.io"),
        _identify("id-a1b", "2025-03-30T10:00:00Z", "u1", None, "ana@acme.io"),  # a repeat: not a signup
        # globex.com: g1, g2 sign up in March (inside 30 days, outside 7)
        _identify("id-g1", "2025-03-10T10:00:00Z", "g1", None, "gus@globex.com", "Gus"),
        _identify("id-g2", "2025-03-12T10:00:00Z", "g2", None, "Gia@Globex.com"),
        # noise: a gmail user, the vendor's own employee
        _identify("id-bob", "2025-02-01T08:00:00Z", "bob", "anon-bob", "bob@gmail.com", "Bob"),
        _identify("id-eve", "2025-03-30T08:00:00Z", "eve", None, "eve@devsignal.dev", "Eve", "VP Product"),
    ]
    tracks = [
        _track("tr-a1", "2025-03-31T08:00:00Z", "API Call", "u1"),
        _track("tr-a2", "2025-03-31T09:00:00Z", "Feature Used", "u2", feature="dashboards"),
        _track("tr-a3", "2025-03-30T09:00:00Z", "Created Project", "u3"),
        _track("tr-a5", "2025-03-29T09:00:00Z", "Signed Up", "u5"),
        _track("tr-g1", "2025-03-28T12:00:00Z", "API Call", "g1"),
        _track("tr-bob", "2025-03-30T12:00:00Z", "API Call", "bob"),
        _track("tr-eve", "2025-03-31T12:00:00Z", "API Call", "eve"),
    ]
    pages = [
        # before u2 identified, as an anonymous visitor: stitched to ben@acme.io by anonymousId
        _page("pg-a2", "2025-03-25T18:00:00Z", None, "anon-u2", "Pricing", "/pricing"),
        _page("pg-bob", "2025-02-01T07:00:00Z", None, "anon-bob"),
        _page("pg-anon", "2025-03-31T07:00:00Z", None, "anon-never-identified"),
    ]
    groups = [
        {"message_id": "gr-g1", "user_id": "g1", "anonymous_id": None, "group_id": "grp-globex",
         "timestamp": "2025-03-10T10:05:00Z", "traits__name": "Globex", "traits__website": "http://globex.com/home",
         "traits__industry": "Manufacturing", "traits__employees": "5000"},
    ]
    users = [
        {"login": "Ana-Acme", "id": 101, "type": "User", "name": "Ana", "company": "@acme", "email": "ana@acme.io",
         "blog": "https://acme.io", "location": None, "created_at": "2019-01-01T00:00:00Z"},
        {"login": "gil-g", "id": 102, "type": "User", "name": "Gil", "company": None, "email": "gil@globex.com",
         "blog": None, "location": None, "created_at": "2019-01-01T00:00:00Z"},
        {"login": "ivy", "id": 103, "type": "User", "name": "Ivy", "company": "Initech", "email": "ivy@initech.com",
         "blog": None, "location": None, "created_at": "2019-01-01T00:00:00Z"},
        {"login": "dependabot[bot]", "id": 104, "type": "Bot", "name": None, "company": None, "email": None,
         "blog": None, "location": None, "created_at": "2019-01-01T00:00:00Z"},
        {"login": "randomdev", "id": 105, "type": "User", "name": None, "company": None,
         "email": "randomdev@gmail.com", "blog": None, "location": None, "created_at": "2019-01-01T00:00:00Z"},
        {"login": "quiet", "id": 106, "type": "User", "name": None, "company": None, "email": None,
         "blog": None, "location": None, "created_at": "2019-01-01T00:00:00Z"},
    ]
    stargazers = [
        {"repo": "devsignal/sdk", "user_login": "ana-acme", "starred_at": "2025-03-30T15:00:00Z"},
        {"repo": "devsignal/sdk", "user_login": "ivy", "starred_at": "2025-03-21T10:00:00Z"},
        {"repo": "devsignal/sdk", "user_login": "randomdev", "starred_at": "2025-03-20T10:00:00Z"},
        {"repo": "devsignal/sdk", "user_login": "quiet", "starred_at": "2025-03-20T10:00:00Z"},
    ]
    forks = [
        {"repo": "devsignal/sdk", "id": 9001, "owner_login": "ivy", "full_name": "ivy/sdk",
         "created_at": "2025-03-21T12:00:00Z"},
    ]
    issues = [
        {"id": 7001, "repo": "devsignal/sdk", "number": 1, "user_login": "gil-g", "title": "Bug", "state": "open",
         "created_at": "2025-03-29T12:00:00Z", "updated_at": "2025-03-29T12:00:00Z", "closed_at": None},
    ]
    pull_requests = [
        {"id": 8001, "repo": "devsignal/sdk", "number": 2, "user_login": "dependabot[bot]", "state": "closed",
         "created_at": "2025-03-31T01:00:00Z", "updated_at": "2025-03-31T02:00:00Z",
         "closed_at": "2025-03-31T02:00:00Z", "merged_at": "2025-03-31T02:00:00Z"},
    ]
    src = {"_source_file": "fixture.csv"}
    hubspot_companies = [
        {"record_id": 1, "company_name": "ACME (HubSpot)", "company_domain_name": "acme.io", "industry": "Software",
         "number_of_employees": "200", "annual_revenue": "$1,200,000", "city": None, "country_region": None,
         "create_date": "2024-01-05 10:00", **src, "_source_line": 2},
        {"record_id": 2, "company_name": "Globex Corporation", "company_domain_name": "www.globex.com",
         "industry": None, "number_of_employees": "51-200", "annual_revenue": None, "city": None,
         "country_region": None, "create_date": "2024-02-01", **src, "_source_line": 3},
        {"record_id": 3, "company_name": "Umbrella", "company_domain_name": None, "industry": None,
         "number_of_employees": None, "annual_revenue": None, "city": None, "country_region": None,
         "create_date": None, **src, "_source_line": 4},
    ]
    hubspot_contacts = [
        {"record_id": 11, "first_name": "Vic", "last_name": "Acme", "email": "  Vic@ACME.io ", "phone_number": None,
         "job_title": "VP Engineering", "company_name": "Acme", "lifecycle_stage": "lead",
         "create_date": "2024-01-05 10:00", "associated_company_ids": "1", **src, "_source_line": 2},
        {"record_id": 12, "first_name": "Hal", "last_name": "G", "email": "hal@globex.com", "phone_number": None,
         "job_title": "Head of Data", "company_name": "Globex", "lifecycle_stage": "lead",
         "create_date": "2024-02-01 10:00", "associated_company_ids": "2", **src, "_source_line": 3},
        {"record_id": 13, "first_name": "Sam", "last_name": "G", "email": "sam@globex.com\t", "phone_number": None,
         "job_title": "Software Engineer", "company_name": "Globex", "lifecycle_stage": "lead",
         "create_date": "2024-02-01 10:00", "associated_company_ids": "2", **src, "_source_line": 4},
        {"record_id": 14, "first_name": "Una", "last_name": "U", "email": "una@umbrella.org", "phone_number": None,
         "job_title": "Headless Engineer", "company_name": "Umbrella", "lifecycle_stage": "lead",
         "create_date": "2024-03-01 10:00", "associated_company_ids": "3", **src, "_source_line": 5},
        {"record_id": 15, "first_name": "Cole", "last_name": "H", "email": "cole@hooli.xyz", "phone_number": None,
         "job_title": "Co-Founder", "company_name": "Hooli", "lifecycle_stage": "lead",
         "create_date": "2024-03-01 10:00", "associated_company_ids": None, **src, "_source_line": 6},
        # a contact without an email: dropped (the seed's import required one)
        {"record_id": 16, "first_name": "No", "last_name": "Mail", "email": None, "phone_number": None,
         "job_title": "CEO", "company_name": "Initech", "lifecycle_stage": "lead",
         "create_date": "2024-03-01 10:00", "associated_company_ids": None, **src, "_source_line": 7},
    ]
    hubspot_deals = [
        {"record_id": 21, "deal_name": "Acme - Inbound", "deal_stage": "appointmentscheduled", "amount": "12,000",
         "close_date": "2025-06-30", "pipeline": "default", "associated_company_ids": "1",
         "create_date": "2025-03-30 10:00", **src, "_source_line": 2},
    ]
    salesforce_accounts = [
        {"account_id": "001A", "account_name": "Acme Inc", "website": "https://www.Acme.io/", "industry": "Software",
         "employees": "11-50", "billing_city": None, "billing_country": None, "created_date": "1/5/2024", **src,
         "_source_line": 2},
        {"account_id": "001I", "account_name": "Initech", "website": "initech.com", "industry": None,
         "employees": "1,000", "billing_city": None, "billing_country": None, "created_date": "2/1/2024", **src,
         "_source_line": 3},
        {"account_id": "001H", "account_name": "Hooli", "website": "hooli.xyz", "industry": None,
         "employees": "11 to 50", "billing_city": None, "billing_country": None, "created_date": "2/1/2024",
         **src, "_source_line": 4},
        {"account_id": "001P", "account_name": "Pied Piper", "website": "http://piedpiper.com", "industry": None,
         "employees": "2-10", "billing_city": None, "billing_country": None, "created_date": "2/1/2024", **src,
         "_source_line": 5},
        {"account_id": "001M", "account_name": "Gmail?", "website": "gmail.com", "industry": None,
         "employees": None, "billing_city": None, "billing_country": None, "created_date": None, **src,
         "_source_line": 6},
    ]
    salesforce_contacts = [
        # same person as the Segment user u1 (ana@acme.io)
        {"contact_id": "003A", "first_name": "Ana", "last_name": "A", "email": "ana@acme.io", "title": "CTO",
         "account_name": "Acme Inc", "account_id": "001A", "lead_source": "Web", "mailing_city": None,
         "mailing_country": None, "created_date": "1/5/2024", **src, "_source_line": 2},
        # a duplicate of HubSpot's Vic: one person, counted once
        {"contact_id": "003V", "first_name": "Vic", "last_name": "A", "email": "vic@acme.io",
         "title": "VP Engineering", "account_name": "Acme Inc", "account_id": "001A", "lead_source": "Web",
         "mailing_city": None, "mailing_country": None, "created_date": "1/5/2024", **src, "_source_line": 3},
        {"contact_id": "003H", "first_name": "Hana", "last_name": "H", "email": "hana@hooli.xyz", "title": "CEO",
         "account_name": "Hooli", "account_id": "001H", "lead_source": "Web", "mailing_city": None,
         "mailing_country": None, "created_date": "2/1/2024", **src, "_source_line": 4},
        # a senior contact created after SCORE_AS_OF: not counted yet
        {"contact_id": "003L", "first_name": "Late", "last_name": "P", "email": "late@piedpiper.com",
         "title": "Chief Executive", "account_name": "Pied Piper", "account_id": "001P", "lead_source": "Web",
         "mailing_city": None, "mailing_country": None, "created_date": "4/15/2025", **src, "_source_line": 5},
    ]
    salesforce_opportunities = [
        {"opportunity_id": "006A", "opportunity_name": "Initech - Expansion", "stage": "Prospecting",
         "amount": "5000", "close_date": "2025-05-01", "account_name": "Initech", "account_id": "001I",
         "created_date": "3/1/2025", **src, "_source_line": 2},
    ]
    npm_downloads = [{"package": "@devsignal/sdk", "day": f"2025-03-{d:02d}", "downloads": 100 + d}
                     for d in range(1, 32)]
    npm_version_downloads = [{"package": "@devsignal/sdk", "version": "1.2.0", "day": "2025-03-30",
                              "downloads": 700}]
    pypi_downloads = [{"package": "devsignal", "day": "2025-03-30", "kind": kind, "category": category,
                       "downloads": 50}
                      for kind, category in [("overall", "without_mirrors"), ("python_major", "3"),
                                             ("system", None)]]
    return {
        "raw_npm.downloads": npm_downloads,
        "raw_npm.version_downloads": npm_version_downloads,
        "raw_pypi.downloads": pypi_downloads,
        "raw_github.stargazers": stargazers,
        "raw_github.forks": forks,
        "raw_github.issues": issues,
        "raw_github.pull_requests": pull_requests,
        "raw_github.users": users,
        "raw_segment.identifies": identifies,
        "raw_segment.tracks": tracks,
        "raw_segment.groups": groups,
        "raw_segment.pages": pages,
        "raw_crm.hubspot_contacts": hubspot_contacts,
        "raw_crm.hubspot_companies": hubspot_companies,
        "raw_crm.hubspot_deals": hubspot_deals,
        "raw_crm.salesforce_contacts": salesforce_contacts,
        "raw_crm.salesforce_accounts": salesforce_accounts,
        "raw_crm.salesforce_opportunities": salesforce_opportunities,
    }


def scale_rows(accounts: int = 200, days: int = 120, people_per_account: int = 10,
               end_date: str = SCORE_AS_OF, seed: int = 7) -> dict[str, list[dict]]:
    """A synthetic volume dataset: `accounts` companies x `people_per_account` Segment users, each
    active on about a third of `days` days with 1-3 product events, plus one CRM account per company.
    For timing the build, not for asserting scores."""
    import datetime as dt
    import random

    rng = random.Random(seed)
    end = dt.date.fromisoformat(end_date)
    events = ["API Call", "Feature Used", "Created Project", "Invited Teammate", "Viewed Docs"]
    bands = ["5", "11-50", "51-200", "201-500", "501-1000", "1001-5000"]
    identifies, tracks, sf_accounts = [], [], []
    for a in range(accounts):
        domain = f"company{a:04d}.com"
        sf_accounts.append({"account_id": f"001{a:05d}", "account_name": f"Company {a}", "website": domain,
                            "industry": "Software", "employees": rng.choice(bands), "billing_city": None,
                            "billing_country": None, "created_date": "2024-01-01", "_source_file": "scale.csv",
                            "_source_line": a + 2})
        for p in range(people_per_account):
            user = f"u{a:04d}-{p:02d}"
            first = end - dt.timedelta(days=rng.randrange(days))
            identifies.append(_identify(f"id-{user}", f"{first}T08:00:00Z", user, None, f"{user}@{domain}"))
            for offset in range(days):
                day = end - dt.timedelta(days=offset)
                if day < first or rng.random() > 0.33:
                    continue
                for n in range(rng.randint(1, 3)):
                    tracks.append(_track(f"tr-{user}-{offset}-{n}", f"{day}T{9 + n:02d}:00:00Z",
                                         rng.choice(events), user, feature="f"))
    rows = {table: [] for table in RAW_TABLES}
    rows.update({"raw_segment.identifies": identifies, "raw_segment.tracks": tracks,
                 "raw_crm.salesforce_accounts": sf_accounts})
    return rows


# ---------------------------------------------------------------------------------------------------
# database plumbing


def connect(params, dbname: str):
    import psycopg2

    return psycopg2.connect(host=params.host, port=params.port, user=params.user,
                            password=params.password, dbname=dbname)


def recreate_database(params, dbname: str = TEST_DBNAME) -> None:
    """Drop and create `dbname` on the server of `params` (never the `devsignal` database)."""
    if dbname in ("devsignal", "dagster", "postgres"):
        raise ValueError(f"refusing to recreate the shared database {dbname!r}")
    conn = connect(params, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{dbname}" with (force)')
            cur.execute(f'create database "{dbname}"')
    finally:
        conn.close()


def create_raw_tables(conn, tables: dict[str, list[tuple[str, str]]] = RAW_TABLES) -> None:
    with conn.cursor() as cur:
        for qualified, columns in tables.items():
            schema, table = qualified.split(".")
            cols = ", ".join(f'"{name}" {type_}' for name, type_ in columns + DLT_COLUMNS)
            cur.execute(f'create schema if not exists "{schema}"')
            cur.execute(f'drop table if exists "{schema}"."{table}"')
            cur.execute(f'create table "{schema}"."{table}" ({cols})')
    conn.commit()


def insert_rows(conn, qualified: str, rows: list[dict], load_id: str = "1700000000.0") -> None:
    from psycopg2.extras import execute_values

    if not rows:
        return
    schema, table = qualified.split(".")
    names = list(rows[0])
    values = [[row.get(n) for n in names] + [load_id, f"{qualified}:{i}"] for i, row in enumerate(rows)]
    cols = ", ".join(f'"{n}"' for n in names + ["_dlt_load_id", "_dlt_id"])
    with conn.cursor() as cur:
        execute_values(cur, f'insert into "{schema}"."{table}" ({cols}) values %s', values)
    conn.commit()


# The app's account owners (Alembic 0003's app.account_owners, as the app writes it): what
# int_accounts__owners reads into dim_accounts.owner. acme.io is owned, the other accounts are not.
ACCOUNT_OWNERS_DDL = """
create schema if not exists app;
create table if not exists app.account_owners (
    account_id   text primary key,
    owner        text not null,
    assigned_by  text not null,
    assigned_at  timestamptz not null default now()
);
"""
EXPECTED_OWNERS = {"acme.io": "rep@devsignal.dev"}


def create_account_owners(conn, owners: dict[str, str] = EXPECTED_OWNERS) -> None:
    with conn.cursor() as cur:
        cur.execute(ACCOUNT_OWNERS_DDL)
        for domain, owner in owners.items():
            cur.execute("insert into app.account_owners (account_id, owner, assigned_by, assigned_at) "
                        "values (md5(%s), %s, 'lead@devsignal.dev', '2025-03-30T10:00:00Z')", (domain, owner))
    conn.commit()


def load_fixture(params, dbname: str = TEST_DBNAME, rows: dict[str, list[dict]] | None = None,
                 owners: dict[str, str] | None = EXPECTED_OWNERS) -> None:
    """A fresh `dbname` with every Contract-3 raw table and the hand-made rows (or `rows`), and the
    app's account owners (`owners`; None = no app.account_owners table, as before the app's migrations)."""
    recreate_database(params, dbname)
    conn = connect(params, dbname)
    try:
        create_raw_tables(conn)
        for qualified, table_rows in (raw_rows() if rows is None else rows).items():
            insert_rows(conn, qualified, table_rows)
        if owners is not None:
            create_account_owners(conn, owners)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------------
# running dbt


@dataclass
class DbtRun:
    returncode: int
    seconds: float
    output: str
    results: list[dict]
    work_dir: Path  # target/ (manifest.json, run_results.json) and logs/

    def failures(self) -> list[dict]:
        return [r for r in self.results if r["status"] not in ("success", "pass")]


def dbt_env(params, dbname: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DEVSIGNAL_PG_HOST": params.host,
        "DEVSIGNAL_PG_PORT": str(params.port),
        "DEVSIGNAL_PG_USER": params.user,
        "DEVSIGNAL_PG_PASSWORD": params.password,
        "DEVSIGNAL_PG_DBNAME": dbname,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    return env


def run_dbt(params, dbname: str, args: list[str], vars_: dict | None = None,
            work_dir: Path | None = None) -> DbtRun:
    """`dbt <args>` in a subprocess against `dbname`, with its own target and log folders."""
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="devsignal-dbt-"))
    command = [str(DBT_EXECUTABLE), *args,
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    if vars_:
        command += ["--vars", json.dumps(vars_)]
    started = time.monotonic()
    proc = subprocess.run(command, env=dbt_env(params, dbname), capture_output=True, text=True,
                          cwd=DBT_PROJECT_DIR)
    seconds = time.monotonic() - started
    results_file = work_dir / "target" / "run_results.json"
    results = []
    if results_file.exists():
        results = [{"unique_id": r["unique_id"], "status": r["status"], "message": r.get("message"),
                    "execution_time": r.get("execution_time")}
                   for r in json.loads(results_file.read_text())["results"]]
    return DbtRun(proc.returncode, seconds, proc.stdout + proc.stderr, results, work_dir)


def build_fixture_project(params, dbname: str = TEST_DBNAME, work_dir: Path | None = None) -> DbtRun:
    load_fixture(params, dbname)
    return run_dbt(params, dbname, ["build"],
                   {"score_as_of": SCORE_AS_OF, "internal_domains": INTERNAL_DOMAINS,
                    # the fixture's hand-worked scores are the seed's v1 model
                    "pqa_live_score_version": "v1"}, work_dir)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    from devsignal import db

    run = build_fixture_project(db.connection())
    print(run.output[-5000:])
    print(f"dbt build: rc={run.returncode} in {run.seconds:.1f}s; failures: {run.failures()}")
    sys.exit(run.returncode)
