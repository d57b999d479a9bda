"""Import wizard: a HubSpot contacts export previewed (detection, evidence, mapping, rows), run
through the real loader into raw_crm (created / updated / quarantined and the quarantined row),
audited; a changed mapping renames the column loaded; a MEMBER is refused."""

import pytest
from sqlalchemy import text

from apps.crm.data import imports as data
from apps.state import PermissionDenied
from apps.state import imports
from devsignal import db

from test_pages_b_setup import actor, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)

HEADER = "Record ID,First Name,Last Name,Email,Phone Number,Job Title,Company Name,Lifecycle Stage,Create Date\n"
ROWS = ["101,Ada,Lovelace,ada@analytical.io,555-0101,CTO,Analytical Engines,lead,2026-01-02\n",
        "102,Grace,Hopper,grace@navy.mil,555-0102,Rear Admiral,US Navy,customer,2026-01-03\n",
        "103,Linus,Torvalds,linus@kernel.org,555-0103,Maintainer,Linux Foundation,lead,2026-01-04,EXTRA\n",
        "104,Margaret,Hamilton,margaret@mit.edu,555-0104,Director,MIT,opportunity,2026-01-05\n"]


@pytest.fixture()
def own_dlt_home(tmp_path, monkeypatch):
    """dlt keeps pipeline state under DEVSIGNAL_HOME/dlt: the test's own, not the demo's."""
    monkeypatch.setenv("DEVSIGNAL_HOME", str(tmp_path / "home"))
    return tmp_path


def _wizard_at_preview(path, role="ADMIN"):
    at = page("import_crm", role=role)
    at.session_state["import_step"] = 3
    at.session_state["import_source"] = "hubspot"
    at.session_state["import_files"] = [str(path)]
    return at.run()


def test_preview_then_run_loads_and_reports(pages_b_database, own_dlt_home):
    path = own_dlt_home / "hubspot-contacts.csv"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    at = _wizard_at_preview(path)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "4" and metrics["Read as"] == "HubSpot contacts"
    assert metrics["Detected on its own"] == "HubSpot contacts"
    evidence = at.dataframe[0].value
    assert "'Record ID': HubSpot record id (+3)" in list(evidence["header / rule"])
    mapping = at.data_editor(key="import_mapping_0").value
    assert dict(zip(mapping.header, mapping.target))["Job Title"] == "job_title"

    at.button(key="import_run").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Created"], metrics["Updated"], metrics["Quarantined"]) == ("3", "0", "1")
    quarantined = at.dataframe[0].value
    assert list(quarantined.line) == [4] and "fields but" in quarantined.reason.iloc[0]
    with db.engine().connect() as connection:
        emails = connection.execute(text("select email from raw_crm.hubspot_contacts order by record_id")).scalars().all()
        audit = connection.execute(text("""select actor, after->>'new', detail from app.audit_log
                                           where action = 'crm.import' and outcome = 'ok'""")).one()
    assert emails == ["ada@analytical.io", "grace@navy.mil", "margaret@mit.edu"]
    assert audit[0] == "admin@pages-b.test" and audit[1] == "3" and "raw_crm.hubspot_contacts" in audit[2]

    # the same export again, one row changed: updated, not created
    path.write_text(HEADER + ROWS[0].replace("CTO", "Chief Engineer") + ROWS[1] + ROWS[3], encoding="utf-8")
    again = imports.run_import(actor("OWNER"), path, format_="hubspot")
    assert (again["new"], again["updated"], again["quarantined"]) == (0, 3, 0)


def test_changed_mapping_renames_the_column(pages_b_database, own_dlt_home):
    path = own_dlt_home / "renamed.csv"
    path.write_text(HEADER.replace("Job Title", "Position") + ROWS[0], encoding="utf-8")
    preview = data.preview(path, "hubspot")
    assert dict(zip(preview.mapping.header, preview.mapping.status))["Position"].startswith(("NEW", "first"))
    mapped_dir = own_dlt_home / "mapped"
    mapped_dir.mkdir()
    mapped = data.apply_mapping(preview, {"Position": "job_title"}, mapped_dir)
    assert mapped.read_text(encoding="utf-8").splitlines()[0].split(",")[5] == "Job Title"
    assert mapped.read_text(encoding="utf-8").splitlines()[1] == ROWS[0].strip()
    with pytest.raises(ValueError, match="same column"):
        data.apply_mapping(preview, {"Position": "email"}, mapped_dir)


def test_member_is_refused(pages_b_database, own_dlt_home):
    path = own_dlt_home / "refused.csv"
    path.write_text(HEADER + ROWS[0], encoding="utf-8")
    with pytest.raises(PermissionDenied):
        imports.run_import(actor("MEMBER"), path, format_="hubspot")
    at = _wizard_at_preview(path, role="MEMBER")
    at.button(key="import_run").click().run()
    assert not at.exception
    assert any("Not allowed" in e.value for e in at.error)


def test_unloadable_file_explains_why(pages_b_database, own_dlt_home):
    path = own_dlt_home / "notes.csv"
    path.write_text("Favourite Colour,Shoe Size\nblue,42\n", encoding="utf-8")
    with pytest.raises(imports.ImportFailed, match="cannot load it"):
        imports.run_import(actor("ADMIN"), path)
    at = _wizard_at_preview(path)
    assert not at.exception
    assert any("Cannot load this file" in e.value for e in at.error)
    assert at.button(key="import_run").disabled


def test_step_one_chooses_the_source(pages_b_database):
    at = page("import_crm", role="ADMIN").run()
    assert not at.exception
    at.radio(key="import_source_choice").set_value("salesforce")
    at.button(key="import_next_1").click().run()
    assert not at.exception
    assert at.session_state["import_step"] == 2 and at.session_state["import_source"] == "salesforce"
    assert any(m.value == "Source: Salesforce" for m in at.markdown)
