"""`devsignal import-crm FILE [--format hubspot|salesforce|generic]`: load one CRM export into
raw_crm through the crm pipeline, saying what the file was taken for and what happened to its rows.

    from ingestion.sources.crm.imports import import_file
    result = import_file("~/Downloads/hubspot-crm-exports-all-contacts.csv")
    result["new"], result["updated"], result["quarantined"]

Prints the detection (format, entity, confidence, the evidence headers, encoding and delimiter),
then a summary: rows read, new, updated (record ids that were already in the table), repeated in
the file (the later line won), quarantined (with the first reasons), Latin-1 lines and formula
cells. A file that cannot be read as asked, or whose columns drifted, prints why and exits 2
without loading anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import dlt
from rich.markup import escape

from devsignal.console import console, table as print_table

from . import settings as crm_settings
from .detection import Detection, detect
from .helpers import FileShape, SchemaDrift, UnrecognisedExport, sniff

def _print_detection(path: Path, shape: FileShape, detection: Detection) -> None:
    size = path.stat().st_size
    console.print(f"[bold]{escape(path.name)}[/bold]  ({size:,} bytes, {shape.describe()}, "
                  f"{len(shape.headers)} columns)")
    if detection.known:
        target = f"raw_crm.{detection.table}"
        how = "format given with --format" if detection.forced else f"confidence {detection.confidence:.2f}"
        console.print(f"detected: [bold]{detection.describe().split(' (')[0]}[/bold] -> {target}  ({how})")
    else:
        console.print("detected: [red]not a HubSpot, Salesforce or generic CSV export this loader knows[/red]")
    rows = [[escape(line)] for line in detection.evidence]  # headers are the file's text, not markup
    if rows:
        print_table("evidence", ["header / rule"], rows)


def _fail(message: str) -> None:
    console.print(f"[red]✗ {escape(message)}[/red]")
    raise SystemExit(2)


def _count_written(pipeline: dlt.Pipeline, table: str, load_id: str) -> int:
    with pipeline.sql_client() as client:
        name = client.make_qualified_table_name(table)
        rows = client.execute_sql(f"select count(*) from {name} where _dlt_load_id = %s", load_id)
    return int(rows[0][0])


def import_file(path: str | os.PathLike, format_: Optional[str] = None, accept_new_columns: bool = False,
                pipeline: Optional[dlt.Pipeline] = None) -> dict:
    """Load one CRM CSV into raw_crm (`ingestion.pipelines.make_pipeline("crm")` unless given),
    print what was detected and a summary, and return the numbers.

    Exits 2 (SystemExit) when the file is not a known export (or below the confidence needed
    without `format_`) or its columns drifted from the table's without `accept_new_columns`."""
    from ingestion import pipelines

    path = Path(path).expanduser()
    if format_ is not None and format_ not in crm_settings.FORMATS:
        _fail(f"unknown format {format_!r}; use one of {', '.join(crm_settings.FORMATS)}")
    try:
        shape = sniff(path)
    except UnrecognisedExport as error:
        _fail(str(error))
    detection = detect(list(shape.headers), format_)
    _print_detection(path, shape, detection)
    if not detection.known:
        _fail(f"{path.name}: cannot load it{' as ' + format_ if format_ else ''}. "
              "Pass --format hubspot|salesforce|generic if you know what it is.")
    if not detection.forced and detection.confidence < crm_settings.MIN_CONFIDENCE:
        _fail(f"{path.name}: confidence {detection.confidence:.2f} is below {crm_settings.MIN_CONFIDENCE}; "
              f"if it is {detection.describe().split(' (')[0]}, run again with --format {detection.format}.")

    pipeline = pipeline or pipelines.make_pipeline("crm")
    table = detection.table
    before = pipelines.table_counts(pipeline, [table])[table]
    try:
        with console.status(f"loading {escape(path.name)} into raw_crm.{table} …"):
            # accept_new_columns is passed only when asked, so SOURCES__CRM__ACCEPT_NEW_COLUMNS can say it too
            summary = pipelines.load("crm", pipeline=pipeline, files=[str(path)], format_=format_,
                                     **({"accept_new_columns": True} if accept_new_columns else {}))
    except SchemaDrift as error:
        _fail(str(error))
    except UnrecognisedExport as error:
        _fail(str(error))
    except pipelines.PipelineBusy as error:
        _fail(f"{error} (another load of the crm pipeline is running; try again when it ends)")

    stats = (pipeline.state.get("sources", {}).get("crm", {}).get("resources", {}).get("exports", {})
             .get("last_run") or [{}])[0]
    load_id = pipeline.last_trace.last_load_info.loads_ids[-1]
    after = summary.get(table, {}).get("total", before)
    written = _count_written(pipeline, table, load_id) if after else 0
    new = after - before
    result = {
        "file": str(path), "format": detection.format, "entity": detection.entity, "table": table,
        "confidence": detection.confidence, "evidence": list(detection.evidence),
        "rows_read": stats.get("records", 0), "new": new, "updated": written - new,
        "repeated_in_file": stats.get("loaded", 0) - written, "quarantined": stats.get("quarantined", 0),
        "latin1_lines": stats.get("encoding_fallback", 0), "formula_rows": stats.get("formula_rows", 0),
        "first_problems": stats.get("first_problems", []), "total_in_table": after, "load_id": load_id,
    }
    print_table(f"raw_crm.{table}", ["rows read", "new", "updated", "repeated in file", "quarantined",
                                     "Latin-1 lines", "formula cells", "rows in table"],
                [[f"{result[k]:,}" for k in ("rows_read", "new", "updated", "repeated_in_file", "quarantined",
                                              "latin1_lines", "formula_rows", "total_in_table")]],
                justify_right={"rows read", "new", "updated", "repeated in file", "quarantined", "Latin-1 lines",
                               "formula cells", "rows in table"})
    if result["first_problems"]:
        print_table(f"first quarantined rows (all of them: raw_crm._quarantine where file = "
                    f"'{escape(path.name)}')",
                    ["line", "reason"], [[line, escape(reason)] for line, reason in result["first_problems"]],
                    justify_right={"line"})
    if result["formula_rows"]:
        console.print(f"[yellow]![/yellow] {result['formula_rows']:,} rows hold a cell that starts like a spreadsheet "
                      "formula; they are kept verbatim (has_formula = true) and must be neutralised on export.")
    console.print(f"[green]✓[/green] {escape(path.name)}: {new:,} new, {result['updated']:,} updated, "
                  f"{result['quarantined']:,} quarantined")
    return result
