"""Which system and entity a CRM CSV is, from its header row: a format, an entity, a confidence
and the evidence (the headers that decided it).

Scores (settings.py holds the header lists):
- format: a vendor's record-id header counts 3, each of its marker headers 1 (the seed's §4.7
  markers plus the create-date / id-list labels). Without any vendor record id the file can only
  be a generic CSV (its rows would have no key), found through the §4.6 aliases.
- entity, inside the format: weighted entity markers (email 2, deal name 2, ...); for Salesforce
  the object's id header ("Opportunity ID", "Contact ID", "Account ID") counts 3.
- confidence = format part x entity part, each `best / (best + runner-up) x min(1, best / full)`
  where `full` is the score of "an id plus one marker" (4) for a format, and 2 for an entity: a
  clear export scores 1.0, a file with the id and nothing else about 0.4, a tie 0.5 at best. A
  generic file's format part is the share of its headers that are known aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import settings as s
from .helpers import header_key, vendor_columns

FORMAT_FULL = 4
ENTITY_FULL = 2
LABELS = {"hubspot": "HubSpot", "salesforce": "Salesforce", "generic": "generic CSV"}


@dataclass(frozen=True)
class Detection:
    """What a header row is. `table` is None when the format or the entity is unknown."""

    format: str  # hubspot | salesforce | generic | unknown
    entity: str  # contacts | companies | deals | unknown
    table: Optional[str]
    confidence: float
    evidence: tuple[str, ...]
    forced: bool = False
    id_header: Optional[str] = None  # vendor: the record-id header as written in the file
    # header as written -> raw column (vendor: its label snake_cased; generic: the canonical field,
    # or None for a header kept in custom_fields)
    columns: dict = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.table is not None

    def describe(self) -> str:
        what = f"{LABELS.get(self.format, self.format)} {self.entity}" if self.known else "not a known CRM export"
        how = "format given" if self.forced else f"confidence {self.confidence:.2f}"
        return f"{what} ({how})"


def _share(best: float, runner_up: float, full: float) -> float:
    if best <= 0:
        return 0.0
    return best / (best + runner_up) * min(1.0, best / full)


def _pick(scores: dict[str, float]) -> tuple[str, float, float]:
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    return best[0], best[1], runner_up


def _vendor_scores(keys: dict[str, str]) -> dict[str, tuple[int, list[str]]]:
    out = {}
    hubspot_evidence = []
    score = 0
    if s.HUBSPOT_ID in keys:
        score += s.ID_WEIGHT
        hubspot_evidence.append(f"{keys[s.HUBSPOT_ID]!r}: HubSpot record id (+{s.ID_WEIGHT})")
    for marker in s.HUBSPOT_MARKERS:
        if marker in keys:
            score += 1
            hubspot_evidence.append(f"{keys[marker]!r}: HubSpot marker (+1)")
    out["hubspot"] = (score, hubspot_evidence)
    salesforce_evidence = []
    score = 0
    ids = [k for k in s.SALESFORCE_IDS if k in keys]
    if ids:
        score += s.ID_WEIGHT
        salesforce_evidence.append(f"{keys[ids[0]]!r}: Salesforce record id (+{s.ID_WEIGHT})")
    for marker in s.SALESFORCE_MARKERS:
        if marker in keys:
            score += 1
            salesforce_evidence.append(f"{keys[marker]!r}: Salesforce marker (+1)")
    out["salesforce"] = (score, salesforce_evidence)
    return out


def _vendor_entity(fmt: str, keys: dict[str, str]) -> tuple[str, float, list[str], Optional[str]]:
    """(entity, entity confidence, evidence, id header as written) inside a vendor format."""
    markers = s.HUBSPOT_ENTITY_MARKERS if fmt == "hubspot" else s.SALESFORCE_ENTITY_MARKERS
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for entity, weights in markers.items():
        found = [(keys[h], w) for h, w in weights.items() if h in keys]
        scores[entity] = sum(w for _, w in found)
        evidence[entity] = [f"{h!r}: {entity} (+{w})" for h, w in found]
    id_header = None
    if fmt == "hubspot":
        id_header = keys.get(s.HUBSPOT_ID)
    else:
        for key, entity in s.SALESFORCE_IDS.items():  # in order: opportunity, contact, account
            if key in keys:
                scores[entity] += s.ID_WEIGHT
                evidence[entity].insert(0, f"{keys[key]!r}: {entity} record id (+{s.ID_WEIGHT})")
                id_header = keys[key]
                break
    entity, best, runner_up = _pick(scores)
    if best <= 0:
        return "unknown", 0.0, [], id_header
    if fmt == "salesforce":
        # the record id must be the entity's own (a contacts file without "Contact ID" has no key)
        own = {v: k for k, v in s.SALESFORCE_IDS.items()}[entity]
        id_header = keys.get(own)
    return entity, _share(best, runner_up, ENTITY_FULL), evidence[entity], id_header


def _generic(keys: dict[str, str]) -> tuple[str, float, float, list[str], dict]:
    """(entity, format part, entity part, evidence, header -> canonical column or None)."""
    plain = {header_key(k.replace("_", " ")): h for k, h in keys.items()}
    scores, evidence, mappings = {}, {}, {}
    for entity, fields in s.GENERIC_FIELDS.items():
        alias_to_field = {alias: name for name, aliases in fields.items() for alias in aliases}
        mapping, taken = {}, set()
        for key, header in plain.items():
            name = alias_to_field.get(key)
            if name and name not in taken:
                mapping[header] = name
                taken.add(name)
            else:
                mapping[header] = None  # kept in custom_fields
        weights = s.GENERIC_ENTITY_WEIGHTS[entity]
        found = [(h, f, weights[f]) for h, f in mapping.items() if f in weights]
        scores[entity] = sum(w for _, _, w in found)
        evidence[entity] = [f"{h!r} -> {f} (+{w})" for h, f, w in found]
        mappings[entity] = mapping
    entity, best, runner_up = _pick(scores)
    if best <= 0:
        return "unknown", 0.0, 0.0, [], {}
    mapping = mappings[entity]
    fields = set(mapping.values())
    has_key = "email" in fields if entity == "contacts" else bool(fields & {"name", "domain", "website"})
    if not has_key:
        need = "an email column" if entity == "contacts" else "a name, domain or website column"
        return "unknown", 0.0, 0.0, evidence[entity] + [f"no key: a generic {entity} file needs {need}"], {}
    coverage = sum(1 for f in mapping.values() if f) / max(1, len(mapping))
    known = [f"{h!r} -> {f}" for h, f in mapping.items() if f and f not in s.GENERIC_ENTITY_WEIGHTS[entity]]
    unknown = [h for h, f in mapping.items() if not f]
    extra = [f"also mapped: {', '.join(known)}"] if known else []
    if unknown:
        extra.append(f"kept in custom_fields: {', '.join(repr(h) for h in unknown)}")
    return entity, coverage, _share(best, runner_up, ENTITY_FULL), evidence[entity] + extra, mapping


def _vendor_columns(headers: list[str]) -> dict:
    return dict(zip(headers, vendor_columns(headers)))


def detect(headers: list[str], format_: Optional[str] = None) -> Detection:
    """The format and entity of a header row, with a confidence and the evidence.

    `format_` ("hubspot", "salesforce" or "generic") skips format detection; the entity is still
    found inside that format. Never raises: an unknown file is a Detection with table None."""
    keys: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        if key and key not in keys:
            keys[key] = header
    if format_ is not None and format_ not in s.FORMATS:
        raise ValueError(f"unknown CRM format {format_!r}; known: {', '.join(s.FORMATS)}")
    vendors = _vendor_scores(keys)
    forced = format_ is not None

    fmt = format_
    format_part = 1.0
    evidence: list[str] = []
    if fmt is None:
        has_id = {"hubspot": s.HUBSPOT_ID in keys, "salesforce": any(k in keys for k in s.SALESFORCE_IDS)}
        candidates = [f for f, present in has_id.items() if present]
        if candidates:
            scores = {f: vendors[f][0] for f in vendors}
            fmt = max(candidates, key=lambda f: scores[f])
            other = "salesforce" if fmt == "hubspot" else "hubspot"
            if len(candidates) == 2 and scores[fmt] == scores[other]:  # the seed's tie rules
                if "company domain name" in keys or "deal name" in keys:
                    fmt, other = "hubspot", "salesforce"
                elif "account name" in keys or "opportunity name" in keys:
                    fmt, other = "salesforce", "hubspot"
            format_part = _share(scores[fmt], scores[other], FORMAT_FULL)
            evidence += vendors[fmt][1]
            if scores[other]:
                evidence.append(f"against: {', '.join(e.split(':')[0] for e in vendors[other][1])} "
                                f"({LABELS[other]}, {scores[other]})")
        else:
            fmt = "generic"
            hints = [f"{LABELS[f]} markers without its record id: {', '.join(e.split(':')[0] for e in v[1])}"
                     for f, v in vendors.items() if v[0]]
            evidence += hints
    elif fmt in ("hubspot", "salesforce"):
        evidence += vendors[fmt][1]

    if fmt == "generic":
        entity, coverage, entity_part, more, mapping = _generic(keys)
        if entity == "unknown":
            return Detection("generic" if forced else "unknown", "unknown", None, 0.0,
                             tuple(evidence + more + _unknown_hint(headers)), forced)
        part = 1.0 if forced else coverage
        if not forced and any(v[0] for v in vendors.values()):
            part *= 0.75  # vendor markers without a vendor id: a cut-down export, maybe
        return Detection("generic", entity, s.TABLE_OF[("generic", entity)], round(part * entity_part, 2),
                         tuple(evidence + more), forced, None, mapping)

    entity, entity_part, more, id_header = _vendor_entity(fmt, keys)
    evidence += more
    if entity == "unknown" or id_header is None:
        if entity != "unknown":
            want = s.HUBSPOT_ID if fmt == "hubspot" else {v: k for k, v in s.SALESFORCE_IDS.items()}[entity]
            evidence.append(f"no {want!r} column: a {LABELS[fmt]} {entity} export is keyed by it")
        return Detection(fmt if forced else "unknown", entity if entity != "unknown" else "unknown", None, 0.0,
                         tuple(evidence + _unknown_hint(headers)), forced, id_header)
    return Detection(fmt, entity, s.TABLE_OF[(fmt, entity)], round(format_part * entity_part, 2),
                     tuple(evidence), forced, id_header, _vendor_columns(headers))


def _unknown_hint(headers: list[str]) -> list[str]:
    shown = ", ".join(repr(h) for h in headers[:40]) or "(no header row)"
    return [f"headers seen: {shown}"]
