"""The CRM dbt models over what the loader wrote: staging (canonical columns, emails, employee
ranges by their bounds, generic CSVs, custom fields) and intermediate/crm (PLG stages for labels and
ids, a monotonic map). The models are compiled once against this module's own raw dataset (var
crm_raw_schema) and run as plain SELECTs: nothing is built."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ingestion.pipelines import load, make_pipeline
from ingestion.sources.crm.testing import compile_crm_models, crm_query

HUBSPOT_STAGES = {  # as exported (label or internal id) -> PLG stage
    "Appointment Scheduled": "SALES_QUALIFIED", "appointmentscheduled": "SALES_QUALIFIED",
    "Qualified To Buy": "SALES_QUALIFIED", "qualifiedtobuy": "SALES_QUALIFIED",
    "Presentation Scheduled": "SALES_QUALIFIED", "presentationscheduled": "SALES_QUALIFIED",
    "Decision Maker Bought-In": "NEGOTIATION", "decisionmakerboughtin": "NEGOTIATION",
    "Contract Sent": "NEGOTIATION", "contractsent": "NEGOTIATION",
    "Closed Won": "CLOSED_WON", "closedwon": "CLOSED_WON", " CLOSED  WON ": "CLOSED_WON",
    "Closed Lost": "CLOSED_LOST", "closedlost": "CLOSED_LOST",
    "Custom Stage 7": "IDENTIFIED", "": "IDENTIFIED",
}
SALESFORCE_STAGES = {
    "Prospecting": "IDENTIFIED", "Qualification": "SALES_QUALIFIED", "Needs Analysis": "SALES_QUALIFIED",
    "Value Proposition": "SALES_QUALIFIED", "Id. Decision Makers": "SALES_QUALIFIED",
    "Perception Analysis": "SALES_QUALIFIED", "Proposal/Price Quote": "NEGOTIATION",
    "Negotiation/Review": "NEGOTIATION", "Closed Won": "CLOSED_WON", "Closed Lost": "CLOSED_LOST",
}
SIZES = {  # Number of Employees as exported -> (employees_min, employees_max, count_employees, size_band)
    "2-10": (2, 10, 10, "STARTUP"),          # the seed read 210 -> MEDIUM
    "51-100": (51, 100, 100, "MEDIUM"),       # the seed read 51100 -> ENTERPRISE
    "11 to 50": (11, 50, 50, "SMALL"),
    "1,001-5,000": (1001, 5000, 5000, "ENTERPRISE"),
    "201 - 500 employees": (201, 500, 500, "MEDIUM"),
    "10000+": (10000, None, 10001, "ENTERPRISE"),
    ">500": (501, None, 501, "LARGE"),
    "250": (250, 250, 250, "MEDIUM"),
    "1,200": (1200, 1200, 1200, "ENTERPRISE"),
    "Small": (None, None, None, "SMALL"),
    "n/a": (None, None, None, None),
}


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def staged(tmp_path_factory, _datasets):
    """query(sql naming the CRM models) over this module's raw dataset."""
    work = tmp_path_factory.mktemp("crm_staging")
    folder = work / "crm"
    folder.mkdir()
    deals = ["Record ID,Deal Name,Deal Stage,Amount,Close Date,Pipeline,Associated Company IDs,Create Date"]
    for n, stage in enumerate(HUBSPOT_STAGES, start=1):
        deals.append(f"{900 + n},Deal {n},{_csv_cell(stage)},\"$1,234.50\",2025-03-0{1 + n % 9},default,5001,"
                     "2025-01-02 10:00")
    (folder / "hubspot-deals.csv").write_text("\r\n".join(deals) + "\r\n")
    opportunities = ["Opportunity ID,Opportunity Name,Stage,Amount,Close Date,Account Name,Account ID,Created Date"]
    for n, stage in enumerate(SALESFORCE_STAGES, start=1):
        opportunities.append(f"006A{n:02d},Opp {n},{stage},12000.00,2025-03-01,Acme,001A,2025-01-02T10:00:00.000Z")
    (folder / "salesforce-opportunities.csv").write_text("\r\n".join(opportunities) + "\r\n")
    companies = ["Record ID,Company name,Company Domain Name,Number of Employees,Annual Revenue,Favourite Tool"]
    for n, size in enumerate(SIZES, start=1):
        companies.append(f"{5000 + n},Co {n},co{n}.io,{_csv_cell(size)},,{'dbt' if n == 1 else ''}")
    (folder / "hubspot-companies.csv").write_text("\r\n".join(companies) + "\r\n")
    (folder / "hubspot-contacts.csv").write_text(
        "Record ID,First Name,Last Name,Email,Job Title\r\n"
        "1,Ada,Lovelace,  Ada.Lovelace@Example.IO ,CTO\r\n"
        "2,Ada,Lovelace,ada.lovelace@example.io,CTO\r\n"
        "3,Bob,Null,not-an-email,Dev\r\n")
    (folder / "people.csv").write_text("Name,Email,Shoe Size\r\nAda King Lovelace,ADA@X.IO,38\r\nCher,cher@x.io,\r\n")
    (folder / "companies.csv").write_text("Company,Website,Company Size\r\nInitech,https://www.Initech.com/about,2-10\r\n")

    suffix = uuid.uuid4().hex[:8]
    dataset = f"test_raw_crm_{suffix}"
    _datasets.append(dataset)
    pipeline = make_pipeline("crm", pipeline_name=f"test_crm_{suffix}", dataset_name=dataset,
                             pipelines_dir=work / "dlt")
    load("crm", pipeline=pipeline, crm_dir=str(folder))
    models = compile_crm_models(dataset, work)

    def query(sql: str) -> list[dict]:
        with pipeline.sql_client() as client:
            with client.execute_query(crm_query(models, sql)) as cursor:
                columns = [c[0] for c in cursor.description]
                return [dict(zip(columns, row)) for row in cursor.fetchall()]

    return query


def test_hubspot_stage_labels_and_internal_ids_map_alike(staged):
    rows = staged("select deal_name, deal_stage, plg_stage, plg_stage_order, is_known_stage, is_closed, is_won, "
                  "amount from int_crm__deals_unioned where crm_source = 'hubspot'")
    expected = {f"Deal {n}": plg for n, plg in enumerate(HUBSPOT_STAGES.values(), start=1)}
    assert {r["deal_name"]: r["plg_stage"] for r in rows} == expected
    unknown = [r for r in rows if not r["is_known_stage"]]
    assert sorted(r["deal_stage"] or "" for r in unknown) == ["", "Custom Stage 7"]
    assert {r["amount"] for r in rows} == {Decimal("1234.50")}
    assert all(r["is_closed"] == r["plg_stage"].startswith("CLOSED") for r in rows)
    assert all(r["is_won"] == (r["plg_stage"] == "CLOSED_WON") for r in rows)
    raw = staged("select deal_stage, deal_stage_key from stg_crm__hubspot_deals where deal_stage like 'Decision%'")
    assert raw == [{"deal_stage": "Decision Maker Bought-In", "deal_stage_key": "decisionmakerboughtin"}]


def test_salesforce_stages_map_to_plg(staged):
    rows = staged("select deal_stage, plg_stage, amount from int_crm__deals_unioned where crm_source = 'salesforce'")
    assert {r["deal_stage"]: r["plg_stage"] for r in rows} == SALESFORCE_STAGES
    assert {r["amount"] for r in rows} == {Decimal("12000.00")}


def test_the_stage_maps_are_monotonic_unlike_the_seeds(staged):
    order = {"ANONYMOUS_USAGE": 1, "IDENTIFIED": 2, "ACTIVATED": 3, "TEAM_ADOPTION": 4, "EXPANSION_SIGNAL": 5,
             "SALES_QUALIFIED": 6, "NEGOTIATION": 7, "CLOSED_WON": 8, "CLOSED_LOST": 8}
    rows = staged("select * from int_crm__deal_stages order by crm, crm_stage_order")
    assert {r["crm"] for r in rows} == {"hubspot", "salesforce"}
    assert all(r["is_monotonic"] for r in rows)
    for crm in ("hubspot", "salesforce"):
        ours = [order[r["plg_stage"]] for r in rows if r["crm"] == crm]
        seeds = [order[r["seed_plg_stage"]] for r in rows if r["crm"] == crm]
        assert ours == sorted(ours), crm
        assert seeds != sorted(seeds), crm  # the seed walked deals backwards (SPEC-seed §4.7, §12.11)
        assert [r["plg_stage_order"] for r in rows if r["crm"] == crm] == ours


def test_employee_ranges_are_read_by_their_bounds(staged):
    rows = staged("select employees_raw, employees_min, employees_max, count_employees, size_band, custom_fields "
                  "from stg_crm__hubspot_companies")
    got = {r["employees_raw"]: (r["employees_min"], r["employees_max"], r["count_employees"], r["size_band"])
           for r in rows}
    assert got == {raw: tuple(Decimal(v) if isinstance(v, int) else v for v in want) for raw, want in SIZES.items()}
    assert [r["custom_fields"] for r in rows if r["custom_fields"]] == [{"favourite_tool": "dbt"}]


def test_emails_are_normalised_and_kept_as_exported(staged):
    rows = staged("select hubspot_contact_id, email, email_raw, email_domain from stg_crm__hubspot_contacts "
                  "order by hubspot_contact_id")
    assert [(r["email"], r["email_domain"]) for r in rows] == [
        ("ada.lovelace@example.io", "example.io"), ("ada.lovelace@example.io", "example.io"), (None, None)]
    assert rows[0]["email_raw"] == "  Ada.Lovelace@Example.IO "


def test_generic_csvs_in_staging(staged):
    people = staged("select generic_contact_key, first_name, last_name, email, custom_fields "
                    "from stg_crm__generic_contacts order by generic_contact_key")
    assert people == [
        {"generic_contact_key": "ada@x.io", "first_name": "Ada", "last_name": "King Lovelace", "email": "ada@x.io",
         "custom_fields": {"Shoe Size": "38"}},
        {"generic_contact_key": "cher@x.io", "first_name": "Cher", "last_name": None, "email": "cher@x.io",
         "custom_fields": None}]
    companies = staged("select company_name, domain, employees_min, employees_max, size_band "
                       "from stg_crm__generic_companies")
    assert companies == [{"company_name": "Initech", "domain": "initech.com", "employees_min": Decimal(2),
                          "employees_max": Decimal(10), "size_band": "STARTUP"}]


def test_a_crm_never_loaded_reads_as_no_rows(staged):
    # salesforce_contacts / _accounts were never loaded here: their tables do not exist
    assert staged("select count(*) as n from stg_crm__salesforce_contacts") == [{"n": 0}]
    assert staged("select count(*) as n from stg_crm__salesforce_accounts") == [{"n": 0}]
