"""Ground truth (truth/): read only by tests and bench/, never by the pipeline.

Every source writer logs the identifiers it writes for a person, exactly as written, into an IdentifierLog;
identifiers.parquet is that log, de-duplicated and sorted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.world.common import write_parquet
from ingestion.world.companies import Companies
from ingestion.world.people import VENDOR, People, Spells

IDENTIFIER_TYPES = ("email", "github_login", "segment_user_id", "segment_anonymous_id", "hubspot_contact_id",
                    "salesforce_contact_id")


class IdentifierLog:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str]] = []

    def add(self, person: int, identifier_type: str, value: str | None) -> None:
        if value is None or value == "":
            return
        assert identifier_type in IDENTIFIER_TYPES, identifier_type
        self.rows.append((int(person), identifier_type, value))

    def __len__(self) -> int:
        return len(self.rows)


def write_truth(out: Path, companies: Companies, people: People, spells: Spells, identifiers: IdentifierLog) -> int:
    write_parquet(out / "companies.parquet", {
        "company_id": companies.company_id, "name": companies.name, "domain": companies.domain,
        "size": companies.size, "employees": companies.employees, "industry": companies.industry,
        "github_org": companies.github_org, "intent": np.round(companies.intent, 6), "outcome": companies.outcome,
        "outcome_date": companies.outcome_date, "is_vendor": companies.is_vendor,
    }, pa.schema([("company_id", pa.string()), ("name", pa.string()), ("domain", pa.string()),
                  ("size", pa.string()), ("employees", pa.int64()), ("industry", pa.string()),
                  ("github_org", pa.string()), ("intent", pa.float64()), ("outcome", pa.string()),
                  ("outcome_date", pa.date32()), ("is_vendor", pa.bool_())]))

    order = sorted(range(len(people)), key=lambda index: people.person_id[index])
    write_parquet(out / "people.parquet", {
        "person_id": [people.person_id[i] for i in order],
        "company_id": [companies.company_id[people.company[i]] if people.company[i] >= 0 else None for i in order],
        "title": [people.title[i] for i in order],
        "is_bot": people.is_bot[order],
        "is_vendor_employee": people.kind[order] == VENDOR,
    }, pa.schema([("person_id", pa.string()), ("company_id", pa.string()), ("title", pa.string()),
                  ("is_bot", pa.bool_()), ("is_vendor_employee", pa.bool_())]))

    rows = sorted(zip([people.person_id[p] for p in spells.person.tolist()],
                      [companies.company_id[c] for c in spells.company.tolist()],
                      spells.start_date, spells.end_date))
    write_parquet(out / "employment.parquet", {
        "person_id": [row[0] for row in rows], "company_id": [row[1] for row in rows],
        "start_date": [row[2] for row in rows], "end_date": [row[3] for row in rows],
    }, pa.schema([("person_id", pa.string()), ("company_id", pa.string()), ("start_date", pa.date32()),
                  ("end_date", pa.date32())]))

    unique = sorted({(people.person_id[person], kind, value) for person, kind, value in identifiers.rows})
    write_parquet(out / "identifiers.parquet", {
        "person_id": [row[0] for row in unique], "identifier_type": [row[1] for row in unique],
        "identifier_value": [row[2] for row in unique],
    }, pa.schema([("person_id", pa.string()), ("identifier_type", pa.string()), ("identifier_value", pa.string())]))
    return len(unique)
