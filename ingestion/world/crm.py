"""CRM exports: HubSpot and Salesforce CSVs with the vendors' export headers and the usual mess.

~40% of companies are in a CRM (HubSpot, Salesforce or both). Contacts are the people sales knows about
(seniors and product sign-ups more often), sometimes at their old employer with their old email.
Duplicated records, name variants, emails typed with odd case or spaces, quoted commas and multi-line notes.
Every company with an outcome has a deal whose stage matches it.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingestion.world import vocab
from ingestion.world.activity import Plan
from ingestion.world.common import BASE62, DAY, Window, date_to_epoch, random_case, rng_for, unique_ints
from ingestion.world.companies import Companies, name_variant, website_variant
from ingestion.world.people import HUMAN, TEST_ACCOUNT, People, Spells
from ingestion.world.truth import IdentifierLog

HUBSPOT_CONTACT_HEADERS = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title",
                           "Company Name", "Lifecycle Stage", "Lead Status", "Create Date", "Associated Company IDs"]
HUBSPOT_COMPANY_HEADERS = ["Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
                           "Annual Revenue", "City", "Country/Region", "Create Date", "Description"]
HUBSPOT_DEAL_HEADERS = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Pipeline",
                        "Associated Company IDs", "Create Date", "Deal Description"]
SALESFORCE_CONTACT_HEADERS = ["Contact ID", "First Name", "Last Name", "Email", "Title", "Account Name", "Account ID",
                              "Lead Source", "Mailing City", "Mailing Country", "Created Date", "Description"]
SALESFORCE_ACCOUNT_HEADERS = ["Account ID", "Account Name", "Website", "Industry", "Employees", "Billing City",
                              "Billing Country", "Created Date", "Description"]
SALESFORCE_OPPORTUNITY_HEADERS = ["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Close Date",
                                  "Account Name", "Account ID", "Created Date", "Description"]

HUBSPOT_OPEN_STAGES = (("Appointment Scheduled", "appointmentscheduled"), ("Qualified To Buy", "qualifiedtobuy"),
                       ("Presentation Scheduled", "presentationscheduled"),
                       ("Decision Maker Bought-In", "decisionmakerboughtin"), ("Contract Sent", "contractsent"))
HUBSPOT_CLOSED = {"closed_won": ("Closed Won", "closedwon"), "closed_lost": ("Closed Lost", "closedlost")}
SALESFORCE_OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                          "Proposal/Price Quote", "Negotiation/Review")
SALESFORCE_CLOSED = {"closed_won": "Closed Won", "closed_lost": "Closed Lost"}
DEAL_AMOUNTS = {"STARTUP": (3_000, 12_000), "SMALL": (8_000, 30_000), "MEDIUM": (20_000, 80_000),
                "LARGE": (50_000, 150_000), "ENTERPRISE": (100_000, 400_000)}
PLANS = ("Team plan", "Business annual", "Enterprise pilot", "Platform expansion")
LEAD_SOURCES = ("Web", "Product Signup", "Event", "Partner Referral", "Outbound", "Other")
NOTES = (
    "Met at KubeCon, interested in remote caching.\nFollow up after their Q3 planning.",
    "Champion is on the platform team; budget approved, waiting on security review.",
    "Uses the CLI in CI, 40+ pipelines. Asked about SSO, SAML and audit logs.",
    "Procurement says \"too expensive\", wants a multi-year discount.\nLooping in finance.",
    "Inbound from pricing page, 3 engineers on the free plan",
    "",
)
PHONES = ("+1 415-555-0{n:03d}", "(212) 555-0{n:03d}", "+44 20 7946 0{n:03d}", "415.555.0{n:03d}",
          "+49 30 5550{n:03d}", "")


@dataclass
class CrmStats:
    hubspot_contacts: int = 0
    hubspot_companies: int = 0
    hubspot_deals: int = 0
    salesforce_contacts: int = 0
    salesforce_accounts: int = 0
    salesforce_opportunities: int = 0


def _write_csv(path: Path, headers: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)


class _SalesforceIds:
    """18-character Salesforce ids: prefix + pod + counter, with the real case-safe checksum suffix."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.taken: set[str] = set()

    def new(self, prefix: str) -> str:
        while True:
            body = prefix + "5g0000" + "".join(BASE62[i] for i in self.rng.integers(0, 62, size=6).tolist())
            if body not in self.taken:
                self.taken.add(body)
                return body + _salesforce_checksum(body)


def _salesforce_checksum(id15: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << position for position, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]) if ch.isupper())
        suffix += alphabet[bits]
    return suffix


def _hubspot_time(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _salesforce_time(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _messy_email(rng: np.random.Generator, email: str) -> str:
    draw = rng.random()
    if draw < 0.1:
        return random_case(rng, email)
    if draw < 0.14:
        return (" ", "  ", "")[rng.integers(3)] + email + (" ", "", "\t")[rng.integers(3)]
    return email


def write_crm(out: Path, seed: int, companies: Companies, people: People, spells: Spells, plan: Plan,
              window: Window, identifiers: IdentifierLog) -> CrmStats:
    rng = rng_for(seed, "crm")
    stats = CrmStats()
    sf_ids = _SalesforceIds(rng)

    def before_window() -> int:  # a record made some time in the last three years
        return window.start - int(rng.integers(1, 1100)) * DAY - int(rng.integers(0, DAY))

    # --- companies (HubSpot companies, Salesforce accounts), with some duplicate records
    hubspot_company_ids: dict[int, list[int]] = {}
    salesforce_account: dict[int, tuple[str, str]] = {}
    hubspot_rows, account_rows = [], []
    crm_companies = [c for c in range(len(companies)) if companies.in_hubspot[c] or companies.in_salesforce[c]]
    hubspot_record_ids = iter(unique_ints(rng, 2 * len(crm_companies) + 1, 5_000_000_000, 300_000).tolist())
    for c in crm_companies:
        name, domain = companies.name[c], companies.domain[c]
        employees = int(companies.employees[c])
        if rng.random() < 0.15:  # CRM data is often out of date
            employees = max(1, int(employees * rng.uniform(0.7, 1.3)))
        if companies.in_hubspot[c]:
            copies = 2 if rng.random() < 0.06 else 1
            for copy in range(copies):
                record = next(hubspot_record_ids)
                hubspot_company_ids.setdefault(c, []).append(record)
                shown_domain = domain if copy == 0 else (f"www.{domain}", domain.upper(), domain)[rng.integers(3)]
                if rng.random() < 0.05:
                    shown_domain = ""
                revenue = "" if rng.random() < 0.35 else str(int(round(employees * rng.uniform(80, 250)) * 1000))
                hubspot_rows.append([
                    record, name if copy == 0 and rng.random() < 0.7 else name_variant(rng, name, domain),
                    shown_domain, companies.industry[c] if rng.random() < 0.9 else "",
                    employees if rng.random() < 0.85 else "", revenue, companies.city[c], companies.country[c],
                    _hubspot_time(before_window()), NOTES[rng.integers(len(NOTES))] if rng.random() < 0.2 else "",
                ])
        if companies.in_salesforce[c]:
            copies = 2 if rng.random() < 0.05 else 1
            for copy in range(copies):
                account_id = sf_ids.new("001")
                account_name = name if copy == 0 and rng.random() < 0.6 else name_variant(rng, name, domain)
                if copy == 0:
                    salesforce_account[c] = (account_id, account_name)
                account_rows.append([
                    account_id, account_name, website_variant(rng, domain) if rng.random() < 0.92 else "",
                    companies.industry_sf[c], employees if rng.random() < 0.8 else "", companies.city[c],
                    companies.country[c], _salesforce_time(before_window()),
                    NOTES[rng.integers(len(NOTES))] if rng.random() < 0.2 else "",
                ])

    # --- contacts: the people sales knows, at the employer they had when the record was made
    hubspot_contact_rows, salesforce_contact_rows = [], []
    hubspot_contact_ids = iter(unique_ints(rng, 3 * len(spells) + 20, 100_000, 600).tolist())
    placed: set[int] = set()
    for s in range(len(spells)):
        p, c = int(spells.person[s]), int(spells.company[s])
        if people.kind[p] != HUMAN or p in placed or not (companies.in_hubspot[c] or companies.in_salesforce[c]):
            continue
        # Spells are the plan's first actors, in the same order, so spell s is actor s.
        chance = 0.22 + 0.35 * people.is_senior[p] + 0.3 * plan.uses_account[s]
        if rng.random() >= chance:
            continue
        placed.add(p)
        work = spells.work_email[s]
        draw = rng.random()
        email = people.personal_email[p] if draw < 0.1 and people.personal_email[p] else ("" if draw > 0.96 else work)
        created = before_window()
        if plan.uses_account[s] and rng.random() < 0.7:  # created by the product sign-up sync
            created = int(plan.identify_ms[s] // 1000) + int(rng.integers(60, 3 * 3600))
        created = min(created, window.end - 60)
        title = people.title[p] if rng.random() < 0.88 else vocab.TITLES[rng.integers(len(vocab.TITLES))][0]
        if title and title.startswith("VP ") and rng.random() < 0.3:
            title = title.replace("VP ", "VP, ", 1)  # a quoted comma in the export
        in_hubspot = companies.in_hubspot[c] and (not companies.in_salesforce[c] or rng.random() < 0.8)
        in_salesforce = companies.in_salesforce[c] and (not in_hubspot or rng.random() < 0.6)
        outcome = companies.outcome[c]
        if in_hubspot:
            lifecycle = {"closed_won": "Customer", "open": "Opportunity"}.get(
                outcome, ("Lead", "Subscriber", "Marketing Qualified Lead", "Sales Qualified Lead", "Other")[
                    rng.integers(5)])
            copies = 2 if rng.random() < 0.05 else 1
            for copy in range(copies):
                record = next(hubspot_contact_ids)
                written = email
                if copy == 1:  # the duplicate: same person, email typed differently (or their other address)
                    alternative = people.personal_email[p] if rng.random() < 0.3 else None
                    written = alternative or random_case(rng, email or work)
                else:
                    written = _messy_email(rng, email) if email else ""
                company_ids = hubspot_company_ids.get(c, [])
                associated = ";".join(str(v) for v in company_ids) if len(company_ids) > 1 and rng.random() < 0.5 \
                    else (str(company_ids[-1 if copy else 0]) if company_ids and rng.random() < 0.95 else "")
                hubspot_contact_rows.append([
                    record, people.first_name[p], people.last_name[p], written,
                    PHONES[rng.integers(len(PHONES))].format(n=int(rng.integers(100, 999))), title or "",
                    name_variant(rng, companies.name[c], companies.domain[c]), lifecycle,
                    ("New", "Open", "In Progress", "Open Deal", "Unqualified", "Attempted to Contact", "Connected",
                     "Bad Timing", "")[rng.integers(9)],
                    _hubspot_time(min(created + copy * int(rng.integers(1, 200)) * DAY, window.end - 60)), associated,
                ])
                identifiers.add(p, "hubspot_contact_id", str(record))
                identifiers.add(p, "email", written)
        if in_salesforce:
            account_id, account_name = salesforce_account[c]
            copies = 2 if rng.random() < 0.03 else 1
            for copy in range(copies):
                contact_id = sf_ids.new("003")
                written = (_messy_email(rng, email) if email else "") if copy == 0 else random_case(rng, email or work)
                salesforce_contact_rows.append([
                    contact_id, people.first_name[p], people.last_name[p], written, title or "",
                    account_name if rng.random() < 0.9 else companies.name[c], account_id,
                    LEAD_SOURCES[rng.integers(len(LEAD_SOURCES))], companies.city[c], companies.country[c],
                    _salesforce_time(created), NOTES[rng.integers(len(NOTES))] if rng.random() < 0.15 else "",
                ])
                identifiers.add(p, "salesforce_contact_id", contact_id)
                identifiers.add(p, "email", written)
    # A couple of test contacts someone created by hand and never deleted.
    for p in np.flatnonzero(people.kind == TEST_ACCOUNT)[:2].tolist():
        record = next(hubspot_contact_ids)
        hubspot_contact_rows.append([record, "Test", "Test", people.test_email[p], "", "", "Test Company", "Other",
                                     "", _hubspot_time(before_window()), ""])
        identifiers.add(p, "hubspot_contact_id", str(record))
        identifiers.add(p, "email", people.test_email[p])

    # --- deals: every company with an outcome gets one with the matching stage (sometimes in both CRMs)
    deal_rows, opportunity_rows = [], []
    deal_ids = iter(unique_ints(rng, len(crm_companies) + 1, 9_000_000_000, 500_000).tolist())
    for c in crm_companies:
        outcome = companies.outcome[c]
        if outcome == "none":
            continue
        low, high = DEAL_AMOUNTS[companies.size[c]]
        amount = int(rng.integers(low, high) // 100 * 100)
        if outcome == "open":
            close = window.end_date + dt.timedelta(days=int(rng.integers(10, 90)))
            created = window.end - int(rng.integers(5, 80)) * DAY - int(rng.integers(0, DAY))
        else:
            close = companies.outcome_date[c]
            created = date_to_epoch(close) - int(rng.integers(20, 120)) * DAY - int(rng.integers(0, DAY))
        deal_name = f"{name_variant(rng, companies.name[c], companies.domain[c])} - {PLANS[rng.integers(len(PLANS))]}"
        note = NOTES[rng.integers(len(NOTES))] if rng.random() < 0.4 else ""
        in_hubspot = bool(companies.in_hubspot[c])
        primary_hubspot = in_hubspot and (not companies.in_salesforce[c] or rng.random() < 0.6)
        also_other = rng.random() < 0.4
        if in_hubspot and (primary_hubspot or also_other):
            if outcome == "open":
                label, internal = HUBSPOT_OPEN_STAGES[rng.integers(len(HUBSPOT_OPEN_STAGES))]
            else:
                label, internal = HUBSPOT_CLOSED[outcome]
            deal_rows.append([
                next(deal_ids), deal_name, internal if rng.random() < 0.2 else label,
                f"{amount}.00" if rng.random() < 0.3 else str(amount), close.isoformat(),
                "default" if rng.random() < 0.2 else "Sales Pipeline",
                str(hubspot_company_ids[c][0]) if rng.random() < 0.95 else "", _hubspot_time(created), note,
            ])
        if companies.in_salesforce[c] and (not primary_hubspot or also_other):
            account_id, account_name = salesforce_account[c]
            stage = SALESFORCE_OPEN_STAGES[rng.integers(len(SALESFORCE_OPEN_STAGES))] if outcome == "open" \
                else SALESFORCE_CLOSED[outcome]
            opportunity_rows.append([
                sf_ids.new("006"), deal_name, stage, str(amount), close.isoformat(), account_name, account_id,
                _salesforce_time(created), note,
            ])

    hubspot_rows.sort(key=lambda row: row[0])
    hubspot_contact_rows.sort(key=lambda row: row[0])
    deal_rows.sort(key=lambda row: row[0])
    _write_csv(out / "hubspot-companies.csv", HUBSPOT_COMPANY_HEADERS, hubspot_rows)
    _write_csv(out / "hubspot-contacts.csv", HUBSPOT_CONTACT_HEADERS, hubspot_contact_rows)
    _write_csv(out / "hubspot-deals.csv", HUBSPOT_DEAL_HEADERS, deal_rows)
    _write_csv(out / "salesforce-accounts.csv", SALESFORCE_ACCOUNT_HEADERS, account_rows)
    _write_csv(out / "salesforce-contacts.csv", SALESFORCE_CONTACT_HEADERS, salesforce_contact_rows)
    _write_csv(out / "salesforce-opportunities.csv", SALESFORCE_OPPORTUNITY_HEADERS, opportunity_rows)
    stats.hubspot_companies, stats.hubspot_contacts, stats.hubspot_deals = \
        len(hubspot_rows), len(hubspot_contact_rows), len(deal_rows)
    stats.salesforce_accounts, stats.salesforce_contacts, stats.salesforce_opportunities = \
        len(account_rows), len(salesforce_contact_rows), len(opportunity_rows)
    return stats
