"""CRM exports: detection with confidence and evidence, every column kept, quarantine with line
numbers, the frozen schema (RELIABILITY test 7), generic CSVs, and `devsignal import-crm`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingestion.pipelines import load
from ingestion.sources._common import SourceInputError
from ingestion.sources.crm import SchemaDrift, UnrecognisedExport, detect
from ingestion.sources.crm.helpers import column_name, sniff

from .conftest import count, query

FILES = {
    "hubspot-contacts.csv": ("hubspot_contacts", "Record ID"),
    "hubspot-companies.csv": ("hubspot_companies", "Record ID"),
    "hubspot-deals.csv": ("hubspot_deals", "Record ID"),
    "salesforce-contacts.csv": ("salesforce_contacts", "Contact ID"),
    "salesforce-accounts.csv": ("salesforce_accounts", "Account ID"),
    "salesforce-opportunities.csv": ("salesforce_opportunities", "Opportunity ID"),
}
LOADER_COLUMNS = {"_source_file", "_source_line", "_encoding", "_has_formula", "_dlt_load_id", "_dlt_id"}


def read_export(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def columns_of(pipeline, table: str) -> set[str]:
    return {r[0] for r in query(pipeline, "select column_name from information_schema.columns "
                                          "where table_schema = %s and table_name = %s", pipeline.dataset_name, table)}


def write_csv(path: Path, text: str, bom: bool = True) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


# ---------------------------------------------------------------- detection (no database)

def test_every_world_export_is_detected_with_full_confidence(world_dir):
    for name, (table, id_header) in FILES.items():
        detection = detect(list(sniff(world_dir / "crm" / name).headers))
        assert (detection.table, detection.confidence) == (table, 1.0), (name, detection)
        assert detection.format == table.split("_")[0]
        assert detection.id_header == id_header
        assert any(e.startswith(f"{id_header!r}:") for e in detection.evidence), detection.evidence
    hubspot = detect(list(sniff(world_dir / "crm" / "hubspot-contacts.csv").headers))
    assert {"'Lifecycle Stage': HubSpot marker (+1)", "'Email': contacts (+2)"} <= set(hubspot.evidence)


@pytest.mark.parametrize("headers, expected", [
    # generic contacts (§4.6 aliases), companies, and a file that is neither
    (["First Name", "Last Name", "E-mail Address", "Company", "Position", "Favourite Colour"],
     ("generic", "contacts", "generic_contacts", 0.83)),
    (["Company Name", "Website", "Industry", "Employee Count", "Zip"],
     ("generic", "companies", "generic_companies", 1.0)),
    (["Person - Name", "Person - Email", "Deal - Value"], ("unknown", "unknown", None, 0.0)),
    # HubSpot markers without HubSpot's Record ID: no key, so at best a generic contacts file, and too
    # unsure (2 of 5 headers unknown, vendor markers) to load without --format generic
    (["First Name", "Last Name", "Email", "Lifecycle Stage", "Lead Status"],
     ("generic", "contacts", "generic_contacts", 0.45)),
    # the id and nothing else: recognised, but below the 0.5 needed to load it unasked
    (["Record ID", "Email"], ("hubspot", "contacts", "hubspot_contacts", 0.75)),
    (["Record ID", "Notes"], ("unknown", "unknown", None, 0.0)),
    # a Salesforce contacts export whose "Account ID" is a foreign key, not the record id
    (["Contact ID", "Account ID", "Email", "Mailing City"], ("salesforce", "contacts", "salesforce_contacts", 1.0)),
])
def test_detection_confidence_and_evidence(headers, expected):
    detection = detect(headers)
    assert (detection.format, detection.entity, detection.table, detection.confidence) == expected, detection
    if detection.table:
        assert detection.evidence
    else:
        assert any("headers seen" in e for e in detection.evidence)


def test_generic_detection_maps_aliases_and_keeps_the_rest():
    detection = detect(["Full Name", "Email Address", "Job Title", "Org", "Zip Code"])
    assert detection.table == "generic_contacts"
    assert detection.columns == {"Full Name": "full_name", "Email Address": "email", "Job Title": "title",
                                 "Org": None, "Zip Code": "postal_code"}
    assert any("custom_fields" in e and "'Org'" in e for e in detection.evidence)


def test_a_given_format_skips_format_detection():
    forced = detect(["Record ID", "Email"], "hubspot")
    assert forced.forced and forced.table == "hubspot_contacts" and "format given" in forced.describe()
    assert not detect(["Email", "Name"], "hubspot").known  # no Record ID: nothing to key the rows on
    assert detect(["Email", "Name"], "generic").table == "generic_contacts"
    with pytest.raises(ValueError, match="unknown CRM format"):
        detect(["Email"], "pipedrive")


# ---------------------------------------------------------------- loading

def test_crm_loads_every_export_of_the_world(sandbox_env, new_pipeline, world_dir):
    pipeline = new_pipeline("crm")
    first = load("crm", pipeline=pipeline)
    quarantined = 0
    for name, (table, id_header) in FILES.items():
        headers, rows = read_export(world_dir / "crm" / name)
        ids = {r[id_header].strip() for r in rows if (r[id_header] or "").strip()}
        quarantined += sum(1 for r in rows if not (r[id_header] or "").strip())
        assert first[table]["total"] == len(ids), table  # a header-only export: an empty table
        expected = {column_name(h) for h in headers} | LOADER_COLUMNS
        assert columns_of(pipeline, table) == expected, table
        id_column = column_name(id_header)
        assert count(pipeline, table) == count(pipeline, table, id_column)
        if rows:  # every record starts on the line after the previous one's last line
            lines = query(pipeline, f'select min(_source_line), count(distinct _source_line) from {{ds}}."{table}"')
            assert lines[0][0] == 2
    assert first["_quarantine"]["total"] == quarantined  # the table exists even when empty
    assert {"associated_company_ids", "company_name", "lifecycle_stage", "create_date"} <= columns_of(
        pipeline, "hubspot_contacts")
    assert "country_region" in columns_of(pipeline, "hubspot_companies")
    assert query(pipeline, "select distinct _encoding, _has_formula from {ds}.hubspot_contacts") == [("utf-8", False)]
    # multi-line notes: the record keeps its text and the line it starts on
    notes = query(pipeline, "select deal_description from {ds}.hubspot_deals where deal_description like %s", "%\n%")
    assert all("\n" in n for (n,) in notes)

    second = load("crm", pipeline=pipeline)  # unchanged files are not read again
    assert all(s["loaded"] == 0 for s in second.values())


def test_crm_lines_quarantine_and_empty_columns(tmp_path, new_pipeline):
    folder = tmp_path / "crm"
    folder.mkdir()
    write_csv(folder / "contacts export.csv", (
        "Record ID,First Name,Email,Notes,Associated Company IDs,Fax\r\n"
        "101,Ada,ada@x.io,\"two\r\nlines\",5001,\r\n"      # record on lines 2-3
        "102,Bob,bob@x.io,plain,5002;5003,\r\n"           # line 4
        ",Nobody,nobody@x.io,no id,,\r\n"                  # line 5 -> quarantine
        "103,Cy,cy@x.io,\"a, b\",,,extra\r\n"              # line 6: more cells than headers -> quarantine
        "\r\n"                                             # line 7: blank, skipped
        ",,,,,\r\n"                                        # line 8: only delimiters, skipped
        "104,Dee,dee@x.io\r\n"                             # line 9: fewer cells -> quarantine
        "101,Ada,ada@new.io,again,5001,\r\n"              # line 10: same record again, later line wins
    ))
    write_csv(folder / "accounts.csv", "Account ID,Account Name,Website\r\n001A,Co,co.com\r\n")
    pipeline = new_pipeline("crm")
    summary = load("crm", pipeline=pipeline, crm_dir=str(folder))

    assert summary["hubspot_contacts"]["total"] == 2 and summary["salesforce_accounts"]["total"] == 1
    rows = query(pipeline, "select record_id, notes, _source_file, _source_line, associated_company_ids "
                           "from {ds}.hubspot_contacts order by record_id")
    assert rows[1] == ("102", "plain", "contacts export.csv", 4, "5002;5003")
    assert rows[0] == ("101", "again", "contacts export.csv", 10, "5001")  # the later line won
    assert "fax" in columns_of(pipeline, "hubspot_contacts")  # kept although every cell is empty
    assert "record_id" in columns_of(pipeline, "hubspot_contacts")  # the BOM is not part of the name
    quarantined = query(pipeline, 'select file, line, reason, raw from {ds}."_quarantine" order by line')
    assert [(f, n, r) for f, n, r, _ in quarantined] == [
        ("contacts export.csv", 5, "no Record ID"), ("contacts export.csv", 6, "7 fields but 6 headers"),
        ("contacts export.csv", 9, "3 fields but 6 headers")]
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


def test_generic_csvs_load_by_alias_with_custom_fields(tmp_path, new_pipeline):
    contacts = write_csv(tmp_path / "people.csv", (
        "Full Name,E-mail,Job Title,Org,Shoe Size\n"
        "Ada Lovelace,  Ada@Example.IO ,CTO,Analytical,38\n"
        "Bob,bob@x.io,,,\n"
        "No Email,,Engineer,,\n"                   # line 4: no key -> quarantine
        "Ada L.,ada@example.io,Chief,Analytical,\n"  # line 5: same email (case/space aside): later line wins
    ), bom=False)
    companies = write_csv(tmp_path / "companies.csv", (
        "Company;Website;Employees;Sector;Founded\n"  # semicolon-separated
        "Acme;https://www.acme.io/;51-100;Software;1999\n"
        "  ACME ;acme.io;;;\n"                        # the same company name: later line wins
        ";;10;;\n"                                    # no name, domain or website -> quarantine
    ))
    pipeline = new_pipeline("crm")
    load("crm", pipeline=pipeline, files=[str(contacts), str(companies)])
    assert query(pipeline, "select contact_key, full_name, email, title, custom_fields, _source_line "
                           "from {ds}.generic_contacts order by contact_key") == [
        ("ada@example.io", "Ada L.", "ada@example.io", "Chief", '{"Org": "Analytical"}', 5),
        ("bob@x.io", "Bob", "bob@x.io", None, None, 3)]
    assert query(pipeline, "select company_key, name, website, size, industry, custom_fields "
                           "from {ds}.generic_companies") == [("acme", "  ACME ", "acme.io", None, None, None)]
    assert query(pipeline, 'select file, line, reason from {ds}."_quarantine" order by file, line') == [
        ("companies.csv", 4, "no company name, domain or website (a generic companies file is keyed by them)"),
        ("people.csv", 4, "no email (a generic contacts file is keyed by the email)")]


def test_encodings_formulas_and_a_truncated_last_line(tmp_path, new_pipeline):
    latin1 = tmp_path / "latin1-contacts.csv"  # a whole Windows-1252 file
    latin1.write_bytes("Record ID,First Name,Last Name,Email\r\n1,José,Müller,jm@x.io\r\n2,Zoë,Ørsted,zo@x.io\r\n"
                       .encode("cp1252"))
    mixed = tmp_path / "mixed-contacts.csv"  # UTF-8 with one Latin-1 line, one undecodable byte, a cut end
    mixed.write_bytes(b"\xef\xbb\xbfRecord ID,First Name,Last Name,Email\r\n"
                      + "10,Søren,Kierkegaard,sk@x.io\r\n".encode("utf-8")
                      + "11,José,Müller,jm2@x.io\r\n".encode("cp1252")
                      + b"12,Bad\x81Byte,X,bb@x.io\r\n"
                      + b'13,"=HYPERLINK(""http://evil.example"",""x"")",Y,hy@x.io\r\n'
                      + b"14,Cut,Of")
    pipeline = new_pipeline("crm")
    load("crm", pipeline=pipeline, files=[str(latin1), str(mixed)])
    rows = query(pipeline, "select record_id, first_name, last_name, _encoding, _has_formula "
                           "from {ds}.hubspot_contacts order by record_id::int")
    assert rows == [("1", "José", "Müller", "cp1252", False), ("2", "Zoë", "Ørsted", "cp1252", False),
                    ("10", "Søren", "Kierkegaard", "utf-8", False), ("11", "José", "Müller", "utf-8+cp1252", False),
                    ("13", '=HYPERLINK("http://evil.example","x")', "Y", "utf-8", True)]
    reasons = dict(query(pipeline, 'select line, reason from {ds}."_quarantine" where file = %s', mixed.name))
    assert set(reasons) == {4, 6}
    assert "0x81" in reasons[4] and "truncated last record" in reasons[6] and "(3 of 4 fields)" in reasons[6]


def test_utf16_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("Record ID\tEmail\r\n1\ta@x.io\r\n".encode("utf-16"))
    with pytest.raises(UnrecognisedExport, match="UTF-16.*CSV UTF-8"):
        sniff(path)


# ---------------------------------------------------------------- RELIABILITY test 7: schema drift

def test_a_renamed_and_an_added_column_stop_the_load_naming_them(tmp_path, new_pipeline):
    first = write_csv(tmp_path / "contacts-jan.csv", "Record ID,First Name,Email,Job Title\r\n1,Ada,ada@x.io,CTO\r\n")
    drifted = write_csv(tmp_path / "contacts-feb.csv",
                        "Record ID,First Name,E-mail Address,Job Title,Region\r\n1,Ada,ADA@x.io,CEO,EU\r\n"
                        "2,Bob,bob@x.io,VP,US\r\n")
    pipeline = new_pipeline("crm")
    load("crm", pipeline=pipeline, files=[str(first)])
    state_before = pipeline.state["sources"]["crm"]["resources"]["exports"]

    with pytest.raises(SchemaDrift) as raised:
        load("crm", pipeline=pipeline, files=[str(drifted), str(first)])
    message = str(raised.value)
    assert "contacts-feb.csv" in message and "raw_crm.hubspot_contacts" in message
    assert "'E-mail Address' -> e_mail_address" in message and "'Region' -> region" in message
    assert "missing: email  (renamed?)" in message and "accept_new_columns" in message
    # nothing of either file was written, nothing is pending, the table and state are as they were
    assert not pipeline.has_pending_data
    assert query(pipeline, "select record_id, email, job_title from {ds}.hubspot_contacts") == [("1", "ada@x.io", "CTO")]
    assert columns_of(pipeline, "hubspot_contacts") == {"record_id", "first_name", "email", "job_title"} | LOADER_COLUMNS
    assert pipeline.state["sources"]["crm"]["resources"]["exports"] == state_before

    accepted = load("crm", pipeline=pipeline, files=[str(drifted)], accept_new_columns=True)
    assert accepted["hubspot_contacts"]["total"] == 2
    assert query(pipeline, "select record_id, email, e_mail_address, region from {ds}.hubspot_contacts "
                           "order by record_id") == [("1", None, "ADA@x.io", "EU"), ("2", None, "bob@x.io", "US")]
    load("crm", pipeline=pipeline, files=[str(drifted)])  # the columns are now the table's: no error


def test_drift_in_folder_mode_loads_nothing_of_the_run(tmp_path, new_pipeline):
    folder = tmp_path / "crm"
    folder.mkdir()
    write_csv(folder / "a-accounts.csv", "Account ID,Account Name,Website\r\n001A,Co,co.com\r\n")
    pipeline = new_pipeline("crm")
    load("crm", pipeline=pipeline, crm_dir=str(folder))
    write_csv(folder / "a-accounts.csv", "Account ID,Account Name,Website,Tier\r\n001A,Co2,co.com,Gold\r\n")
    write_csv(folder / "b-opportunities.csv", "Opportunity ID,Opportunity Name,Stage,Amount\r\n006A,Deal,Closed Won,5\r\n")
    with pytest.raises(SchemaDrift, match=r"'Tier' -> tier"):
        load("crm", pipeline=pipeline, crm_dir=str(folder))
    assert query(pipeline, "select account_name from {ds}.salesforce_accounts") == [("Co",)]
    assert "salesforce_opportunities" not in {r[0] for r in query(
        pipeline, "select table_name from information_schema.tables where table_schema = %s", pipeline.dataset_name)}


# ---------------------------------------------------------------- devsignal import-crm

def test_import_crm_prints_detection_and_summary(tmp_path, new_pipeline, monkeypatch, world_dir):
    from click.testing import CliRunner

    import ingestion.pipelines as pipelines
    from devsignal.cli import main

    pipeline = new_pipeline("crm")
    monkeypatch.setattr(pipelines, "make_pipeline", lambda name: pipeline)
    contacts = world_dir / "crm" / "hubspot-contacts.csv"
    headers, rows = read_export(contacts)
    runner = CliRunner()
    first = runner.invoke(main, ["import-crm", str(contacts)])
    assert first.exit_code == 0, first.output
    out = first.output
    assert "detected: HubSpot contacts -> raw_crm.hubspot_contacts  (confidence 1.00)" in out
    assert "'Record ID': HubSpot record id (+3)" in out and "'Lifecycle Stage': HubSpot marker (+1)" in out
    assert f"hubspot-contacts.csv: {len(rows)} new, 0 updated, 0 quarantined" in out

    # again, plus two bad rows: every record id is now an update
    again = tmp_path / "hubspot-contacts.csv"
    again.write_bytes(contacts.read_bytes() + b",No,Id,,,,,,,,\r\n1,short,row\r\n")
    second = runner.invoke(main, ["import-crm", str(again), "--format", "hubspot"])
    assert second.exit_code == 0, second.output
    assert "format given with --format" in second.output
    assert f"0 new, {len(rows)} updated, 2 quarantined" in second.output
    assert "no Record ID" in second.output and "3 fields but 11 headers" in second.output

    unknown = write_csv(tmp_path / "pipedrive.csv", "Person - Name,Person - Email\nA,a@x.io\n")
    refused = runner.invoke(main, ["import-crm", str(unknown)])
    assert refused.exit_code == 2
    assert "not a HubSpot, Salesforce or generic CSV export" in refused.output and "--format" in refused.output

    # a renamed and an added column (with text a terminal would read as markup): refused, then accepted
    drifted = tmp_path / "contacts [march].csv"
    drifted.write_bytes(contacts.read_bytes().replace(b"\r\n", b",EU\r\n").replace(b",Email,", b",E-mail [work],", 1)
                        .replace(b"Associated Company IDs,EU", b"Associated Company IDs,[/Region]", 1))
    stopped = runner.invoke(main, ["import-crm", str(drifted)])
    assert stopped.exit_code == 2, stopped.output
    assert "'E-mail [work]' -> e_mail_work" in stopped.output and "'[/Region]' -> region" in stopped.output
    assert "SOURCES__CRM__ACCEPT_NEW_COLUMNS=true" in stopped.output
    assert count(pipeline, "hubspot_contacts") == len(rows)
    monkeypatch.setenv("SOURCES__CRM__ACCEPT_NEW_COLUMNS", "true")
    accepted = runner.invoke(main, ["import-crm", str(drifted)])
    assert accepted.exit_code == 0, accepted.output
    assert f"contacts [march].csv: 0 new, {len(rows)} updated, 0 quarantined" in accepted.output
    assert {"e_mail_work", "region"} <= columns_of(pipeline, "hubspot_contacts")
    assert query(pipeline, "select distinct region from {ds}.hubspot_contacts") == [("EU",)]


# ---------------------------------------------------------------- the reader on its own (no database)

def _read(path: Path, format_: str = "hubspot"):
    from ingestion.sources.crm.helpers import ExportReader

    shape = sniff(path)
    reader = ExportReader(path, path.name, shape, detect(list(shape.headers), format_))
    rows, bad = [], []
    for kind, payload in reader.batches():
        if kind == "table":
            rows += payload.select(["record_id", "_source_line"]).to_pylist()
        else:
            bad += [(q["line"], q["reason"], q["raw"]) for q in payload]
    return [(r["record_id"], r["_source_line"]) for r in rows], bad


def test_an_overlong_line_an_open_quote_and_cr_line_ends_never_crash(tmp_path, monkeypatch):
    import ingestion.sources.crm.helpers as helpers

    monkeypatch.setattr(helpers, "CHUNK_BYTES", 64)
    monkeypatch.setattr(helpers.s, "MAX_LINE_BYTES", 200)
    path = tmp_path / "long.csv"
    path.write_text("Record ID,Email,Notes\r\n1,a@x.io,short\r\n2,b@x.io," + "x" * 500 + "\r\n3,c@x.io,ok\r\n"
                    '4,d@x.io,"never closed\r\n5,e@x.io,swallowed\r\n')
    rows, bad = _read(path)
    assert rows == [("1", 2), ("3", 4)]
    assert [(line, reason.split(":")[0]) for line, reason, _ in bad] == [
        (3, "line 3 is longer than 0.000190735 MB"), (5, "truncated last record")]
    assert "inside a quoted field" in bad[1][1] and "5,e@x.io,swallowed" in bad[1][2]

    old_mac = tmp_path / "old-mac.csv"  # CR line ends (Excel for Mac 2011)
    old_mac.write_bytes(b"Record ID,Email\r1,a@x.io\r2,b@x.io\r")
    assert _read(old_mac) == ([("1", 2), ("2", 3)], [])


def test_a_hubspot_file_without_a_final_line_break_loses_nothing_silently(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("Record ID,Email,Job Title\r\n1,a@x.io,CTO\r\n2,b@x.io,Eng")  # complete-looking, but cut?
    rows, bad = _read(path)
    assert rows == [("1", 2)]
    assert bad[0][:2] == (3, "no line break at the end of the file: the last record may be cut "
                             "(HubSpot and Salesforce end every record with one)")
    generic = tmp_path / "people.csv"  # hand-made CSVs often end without one: only a short record is cut
    generic.write_text("Email,Name\na@x.io,Ada\nb@x.io,Bob")
    from ingestion.sources.crm.helpers import ExportReader

    shape = sniff(generic)
    reader = ExportReader(generic, generic.name, shape, detect(list(shape.headers)))
    tables = [p for kind, p in reader.batches() if kind == "table"]
    assert sum(t.num_rows for t in tables) == 2 and reader.stats.quarantined == 0
