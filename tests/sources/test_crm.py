"""CRM exports: system and entity from headers, every column kept, quarantine, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingestion.pipelines import load
from ingestion.sources._common import SourceInputError
from ingestion.sources.crm import UnrecognisedExport
from ingestion.sources.crm.helpers import column_name

from .conftest import count, query

FILES = {
    "hubspot-contacts.csv": ("hubspot_contacts", "Record ID"),
    "hubspot-companies.csv": ("hubspot_companies", "Record ID"),
    "hubspot-deals.csv": ("hubspot_deals", "Record ID"),
    "salesforce-contacts.csv": ("salesforce_contacts", "Contact ID"),
    "salesforce-accounts.csv": ("salesforce_accounts", "Account ID"),
    "salesforce-opportunities.csv": ("salesforce_opportunities", "Opportunity ID"),
}


def read_export(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def columns_of(pipeline, table: str) -> set[str]:
    return {r[0] for r in query(pipeline, "select column_name from information_schema.columns "
                                          "where table_schema = %s and table_name = %s", pipeline.dataset_name, table)}


def test_crm_loads_every_export_of_the_world(sandbox_env, new_pipeline, world_dir):
    pipeline = new_pipeline("crm")
    first = load("crm", pipeline=pipeline)
    quarantined = 0
    for name, (table, id_header) in FILES.items():
        headers, rows = read_export(world_dir / "crm" / name)
        ids = {r[id_header].strip() for r in rows if (r[id_header] or "").strip()}
        quarantined += sum(1 for r in rows if not (r[id_header] or "").strip())
        assert first[table]["total"] == len(ids), table  # a header-only export: an empty table
        expected = {column_name(h) for h in headers} | {"_source_file", "_source_line"}
        assert expected <= columns_of(pipeline, table), table
        id_column = column_name(id_header)
        assert count(pipeline, table) == count(pipeline, table, id_column)
    assert first["_quarantine"]["total"] == quarantined  # the table exists even when empty
    assert {"associated_company_ids", "company_name", "lifecycle_stage", "create_date"} <= columns_of(
        pipeline, "hubspot_contacts")
    assert "country_region" in columns_of(pipeline, "hubspot_companies")

    second = load("crm", pipeline=pipeline)  # unchanged files are not read again
    assert all(s["loaded"] == 0 for s in second.values())


def write_csv(path: Path, text: str) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # exports come with a BOM


def test_crm_lines_quarantine_and_empty_columns(tmp_path, new_pipeline):
    folder = tmp_path / "crm"
    folder.mkdir()
    write_csv(folder / "contacts export.csv", (
        "Record ID,First Name,Email,Notes,Associated Company IDs,Fax\r\n"
        "101,Ada,ada@x.io,\"two\r\nlines\",5001,\r\n"      # record on lines 2-3
        "102,Bob,bob@x.io,plain,5002;5003,\r\n"           # line 4
        ",Nobody,nobody@x.io,no id,,\r\n"                  # line 5 -> quarantine
        "103,Cy,cy@x.io,\"a, b\",,,extra\r\n"              # line 6: more cells than headers -> quarantine
        "101,Ada,ada@new.io,again,5001,\r\n"              # line 7: same record again, later line wins
    ))
    write_csv(folder / "accounts.csv", "Account ID,Account Name,Website\r\n001A,Co,co.com\r\n")
    pipeline = new_pipeline("crm")
    summary = load("crm", pipeline=pipeline, crm_dir=str(folder))

    assert summary["hubspot_contacts"]["total"] == 2 and summary["salesforce_accounts"]["total"] == 1
    rows = query(pipeline, "select record_id, notes, _source_file, _source_line, associated_company_ids "
                           "from {ds}.hubspot_contacts order by record_id")
    assert rows[1] == ("102", "plain", "contacts export.csv", 4, "5002;5003")
    assert rows[0] == ("101", "again", "contacts export.csv", 7, "5001")  # the later line won
    assert "fax" in columns_of(pipeline, "hubspot_contacts")  # kept although every cell is empty
    assert "record_id" in columns_of(pipeline, "hubspot_contacts")  # the BOM is not part of the name
    quarantined = query(pipeline, 'select file, line, reason, raw from {ds}."_quarantine" order by line')
    assert [(f, n, r) for f, n, r, _ in quarantined] == [
        ("contacts export.csv", 5, "no Record ID"), ("contacts export.csv", 6, "7 fields but 6 headers")]
    assert quarantined[0][3] == ",Nobody,nobody@x.io,no id,,"


def test_crm_names_an_unrecognised_file_and_its_headers(tmp_path, new_pipeline):
    folder = tmp_path / "crm"
    folder.mkdir()
    write_csv(folder / "accounts.csv", "Account ID,Account Name\r\n001A,Co\r\n")
    (folder / "pipedrive-people.csv").write_text("Person - Name,Person - Email\nA,a@x.io\n")
    pipeline = new_pipeline("crm")
    with pytest.raises(UnrecognisedExport) as raised:
        load("crm", pipeline=pipeline, crm_dir=str(folder))
    message = str(raised.value)
    assert "pipedrive-people.csv" in message and "'Person - Name'" in message and "'Person - Email'" in message
    assert not pipeline.has_pending_data  # nothing of the good file was loaded either
    with pytest.raises(SourceInputError, match="DEVSIGNAL_CRM_DIR=.*missing is not a folder"):
        load("crm", pipeline=pipeline, crm_dir=str(tmp_path / "missing"))
