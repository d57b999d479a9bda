"""CRM imports from the app: the same loader as `devsignal import-crm` (ingestion/sources/crm),
behind a role check and an audit row.

ADMIN and above (as in the seed). The load writes `raw_crm` through dlt, which has its own
transactions, so the audit row cannot share one with it: the command's transaction is open while
the load runs and commits the audit row (file, format, entity, counts) only when the load
finished; a load that stops (unrecognised file, schema drift, another load running) leaves no
audit row and raises `ImportFailed` with the loader's own explanation. A refusal is audited.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from . import Actor, command

FORMATS = ("hubspot", "salesforce", "generic")


class ImportFailed(RuntimeError):
    """The loader refused the file; the message is what it printed (why, and what to do)."""


def run_import(actor: Actor, path: str | os.PathLike, *, format_: Optional[str] = None,
               accept_new_columns: bool = False, display_name: Optional[str] = None, pipeline=None) -> dict:
    """Load one CRM export into raw_crm and return the loader's summary (new, updated, quarantined,
    first_problems, ...). `display_name` is the uploaded file's name for the audit row."""
    from devsignal.console import console
    from ingestion.sources.crm.imports import import_file

    if format_ is not None and format_ not in FORMATS:
        raise ValueError(f"unknown CRM format {format_!r}; expected one of {', '.join(FORMATS)}")
    path = Path(path)
    name = display_name or path.name
    with command(actor, "ADMIN", "crm.import", "crm_file", name) as (conn, audit):
        # the loader prints its detection and summary for a terminal; here they are kept for the error
        with console.capture() as printed:
            try:
                result = import_file(path, format_=format_, accept_new_columns=accept_new_columns, pipeline=pipeline)
            except SystemExit:
                result = None
        if result is None:
            lines = [line for line in printed.get().splitlines() if line.strip()]
            starts = [number for number, line in enumerate(lines) if line.lstrip().startswith("✗")]
            reason = "\n".join(lines[starts[-1]:]).lstrip().lstrip("✗").strip() if starts else "\n".join(lines[-5:])
            raise ImportFailed(reason or f"{name}: the loader stopped")
        audit.after = {key: result[key] for key in ("format", "entity", "table", "confidence", "rows_read", "new",
                                                    "updated", "repeated_in_file", "quarantined", "load_id")}
        audit.detail = f"{name} -> raw_crm.{result['table']}" + (" (new columns accepted)" if accept_new_columns else "")
    return result
