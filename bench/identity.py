"""Identity resolution, measured: build time at a world size against a bare aggregate in the same run,
and precision / recall of person -> account against the world's ground truth (`truth/`).

Used by `python -m bench --only identity` (bench_identity) and by tests/identity (the same
measurement on the default world, with the bar precision >= 0.99, recall >= 0.95).

The measurement, at the level of the world's people (truth/people.parquet):
  * a truth person is *present* when at least one of their identifiers (truth/identifiers.parquet,
    normalised the way the dbt macros do) is in marts.dim_identifiers with a person;
  * their predicted person is the DevSignal person holding most of their identifiers, and the
    prediction is that person's current account (marts.dim_people.account_id);
  * the truth is their current employer (people.company_id -> companies.domain);
  * precision = correct / predicted (an account was assigned), per rule = by dim_people.match_rule;
  * recall = correct / eligible, for three denominators (all reported):
      known         present with something besides anonymous browser ids;
      attributable  known, and the loaded sources carry evidence of the current employer at all:
                    an email at its domain, a CRM contact, a Segment user (every product user
                    sends group calls), or a GitHub profile whose company / blog names it;
  * customers only: bots, test accounts and the vendor's staff are scored separately (were they
    caught by the noise filter?);
  * false merges: DevSignal people holding identifiers of two or more truth people.
Signals are measured too: a non-noise signal's account against the employer at the event's date
(truth/employment.parquet).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SOURCES = ("github", "segment", "crm")  # what identity reads (package downloads are market signals)
PERSONAL_DOMAINS_SEED = DBT_PROJECT_DIR / "seeds" / "personal_email_domains.csv"
LEGAL_SUFFIXES = ("inc", "incorporated", "llc", "l l c", "ltd", "limited", "gmbh", "corp", "corporation", "co",
                  "plc", "sa", "ag", "bv", "nv", "oy", "ab", "srl", "sarl", "pty", "pte", "kk", "sas", "spa", "lp",
                  "llp")

# ---------------------------------------------------------------------------------------------------
# normalisation, as the dbt macros do it (macros/identifiers.sql, macros/identity.sql)

_WS = " \t\r\n\u000b\u000c\u00a0\u200b\ufeff"
_EMAIL = re.compile(r'^[^@\s<>(),;:"]+@[^@\s<>(),;:"]+\.[a-z0-9-]{2,}\.?$')


def normalize_identifier(identifier_type: str, value) -> str | None:
    if value is None:
        return None
    text = str(value).strip(_WS)
    if not text:
        return None
    if identifier_type == "email":
        text = re.sub(r"^mailto:", "", text.lower())
        return text.rstrip(".") if _EMAIL.match(text) else None
    if identifier_type == "github_login":
        return text.lower()
    if identifier_type == "segment_anonymous_id":
        return text.lower()
    if identifier_type in ("hubspot_contact_id", "salesforce_contact_id"):
        return re.sub(r"^(\d+)\.0+$", r"\1", text)
    return text


def identifier_key(identifier_type: str, value) -> str | None:
    normalised = normalize_identifier(identifier_type, value)
    return f"{identifier_type}:{normalised}" if normalised else None


def company_name_text(value) -> str | None:
    """macros/identity.sql company_name_text, without the placeholder seed."""
    if value is None:
        return None
    text = re.sub(r"^@+", "", str(value).strip(_WS).lower())
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    suffixes = "|".join(s.replace(" ", r"\ ") for s in LEGAL_SUFFIXES)
    text = re.sub(rf"( ({suffixes}))+$", "", " " + text).strip()
    return text or None


def company_name_key(value) -> str | None:
    text = company_name_text(value)
    return text.replace(" ", "") if text else None


def github_org_key(value) -> str | None:
    if value is None:
        return None
    text = re.sub(r"^@+", "", str(value).strip(_WS).lower())
    text = re.sub(r"(hq|-(inc|oss|dev|official|team|org|io|app))$", "", text)
    return re.sub(r"[^a-z0-9]+", "", text) or None


# ---------------------------------------------------------------------------------------------------
# building a world into a database of its own


def create_database(dbname: str) -> str:
    """Drop and create `dbname` on the server `devsignal.db` uses; its URL."""
    from devsignal import db

    if dbname in ("devsignal", "dagster", "postgres"):
        raise ValueError(f"refusing to recreate the shared database {dbname!r}")
    params = db.connection()
    admin = db.connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{dbname}" with (force)')
            cur.execute(f'create database "{dbname}"')
    finally:
        admin.close()
    return params.url(dbname)


_LOADER = r"""
import json, os, sys, time
from pathlib import Path
from devsignal import demo
from ingestion import pipelines, sandbox
world = Path(sys.argv[1])
seconds = {}
# no simulated GitHub throttling: the hourly budget would stall a big world's profile lookups for hours
with sandbox.serve(world, rate_limit=10**9, secondary_every=0) as server:
    os.environ.update(demo.sandbox_env(server.url, world))
    for source in sys.argv[2:]:
        started = time.perf_counter()
        pipelines.load(source)
        seconds[source] = round(time.perf_counter() - started, 2)
print(json.dumps(seconds))
"""


def load_world(dbname: str, world_dir: Path, state_dir: Path, sources=SOURCES) -> dict[str, float]:
    """The sources identity reads, from `world_dir` through the sandbox into `dbname`, in a subprocess
    whose DEVSIGNAL_DATABASE_URL points there and whose dlt state lives in `state_dir` (never the demo's)."""
    from devsignal import db

    url = db.connection().url(dbname)
    env = {**os.environ, "DEVSIGNAL_DATABASE_URL": url, "DEVSIGNAL_HOME": str(state_dir)}
    proc = subprocess.run([sys.executable, "-c", _LOADER, str(world_dir), *sources], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"loading the world failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_dbt(dbname: str, args: list[str], vars_: dict | None, work_dir: Path) -> tuple[int, float, str, list[dict]]:
    """`dbt <args>` against `dbname` with its own target and log folders: (returncode, seconds, output, results)."""
    from devsignal import db

    params = db.connection()
    env = {**os.environ, "DEVSIGNAL_PG_HOST": params.host, "DEVSIGNAL_PG_PORT": str(params.port),
           "DEVSIGNAL_PG_USER": params.user, "DEVSIGNAL_PG_PASSWORD": params.password,
           "DEVSIGNAL_PG_DBNAME": dbname, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work_dir / "target"),
               "--log-path", str(work_dir / "logs")]
    if vars_:
        command += ["--vars", json.dumps(vars_)]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    seconds = time.perf_counter() - started
    results_file = work_dir / "target" / "run_results.json"
    results = []
    if results_file.exists():
        results = [{"unique_id": r["unique_id"], "status": r["status"], "message": r.get("message"),
                    "execution_time": r.get("execution_time")}
                   for r in json.loads(results_file.read_text())["results"]]
    return proc.returncode, seconds, proc.stdout + proc.stderr, results


def dbt_vars(world_dir: Path) -> dict:
    meta = json.loads((Path(world_dir) / "meta.json").read_text())
    return {"score_as_of": meta["end_date"], "internal_domains": [meta["vendor"]["domain"]]}


# ---------------------------------------------------------------------------------------------------
# measuring against truth/


def _query(conn, sql: str, params=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _personal_domains() -> set[str]:
    lines = PERSONAL_DOMAINS_SEED.read_text().split()
    return {line.strip().lower() for line in lines[1:] if line.strip()}


def measure(conn, world_dir: Path) -> dict:
    """Precision / recall of person -> account (overall, per rule), false merges, noise caught, and
    signal-level attribution, from the marts in `conn` against `world_dir`/truth."""
    import pyarrow.parquet as pq

    world_dir = Path(world_dir)
    truth = world_dir / "truth"
    people = pq.read_table(truth / "people.parquet").to_pylist()
    companies = {row["company_id"]: row for row in pq.read_table(truth / "companies.parquet").to_pylist()}
    identifiers = pq.read_table(truth / "identifiers.parquet").to_pylist()
    employment = pq.read_table(truth / "employment.parquet").to_pylist()
    truth_people = {row["person_id"]: row for row in people}

    ours = {key: person for key, person in _query(conn, """
        select identifier_key, person_id from marts.dim_identifiers where person_id is not null""")}
    dim_people = {row[0]: row[1:] for row in _query(conn, """
        select person_id, account_domain, match_rule, match_confidence, is_bot, is_internal, is_test_account,
               last_seen_at
        from marts.dim_people""")}

    keys_of: dict[str, list[str]] = defaultdict(list)
    for row in identifiers:
        key = identifier_key(row["identifier_type"], row["identifier_value"])
        if key:
            keys_of[row["person_id"]].append(key)

    # truth person -> DevSignal people holding their identifiers (how many, how many not anonymous)
    holders: dict[str, Counter] = {}
    named: dict[str, Counter] = {}
    for person_id, keys in keys_of.items():
        present = [key for key in set(keys) if key in ours]
        if present:
            holders[person_id] = Counter(ours[key] for key in present)
            named[person_id] = Counter(ours[key] for key in present if not key.startswith("segment_anonymous_id:"))

    def predicted_person(person_id: str) -> str:
        """The DevSignal person holding most of their named identifiers (then most identifiers): a
        person's stray browser ids, never linked to their login, do not outvote their login."""
        return min(holders[person_id], key=lambda ours_id: (-named[person_id][ours_id], -holders[person_id][ours_id],
                                                             ours_id))
    owners_of: dict[str, set[str]] = defaultdict(set)
    for person_id, found in holders.items():
        for ours_id in found:
            owners_of[ours_id].add(person_id)

    # evidence of the current employer that the loaded sources carry (independent of our rules)
    loaded_keys = set(ours)
    github_users = {row["login"].lower(): row
                    for row in pq.read_table(world_dir / "github" / "users.parquet").to_pylist()}

    def has_evidence(person: dict) -> bool:
        company = companies[person["company_id"]]
        domain = company["domain"]
        keys = [key for key in keys_of.get(person["person_id"], []) if key in loaded_keys]
        kinds = {key.split(":", 1)[0] for key in keys}
        if kinds & {"hubspot_contact_id", "salesforce_contact_id", "segment_user_id"}:
            return True
        if any(key.startswith("email:") and key.endswith("@" + domain) for key in keys):
            return True
        org = company["github_org"]
        names = {company_name_key(company["name"]), github_org_key(org) if org else None,
                 company_name_key(org) if org else None}
        for key in keys:
            if key.startswith("github_login:"):
                profile = github_users.get(key.split(":", 1)[1]) or {}
                text = profile.get("company")
                blog = (profile.get("blog") or "").lower()
                if text and (company_name_key(text) in names or github_org_key(text) in names
                             or text.strip().lower().lstrip("@") == domain):
                    return True
                if blog.rstrip("/").endswith("//" + domain) or blog.rstrip("/").endswith("." + domain):
                    return True
        return False

    groups = {"customer": [], "bot": [], "vendor": []}
    for person in people:
        if person["person_id"] not in holders:
            continue
        kind = "bot" if person["is_bot"] else "vendor" if person["is_vendor_employee"] else "customer"
        groups[kind].append(person)

    employers: dict[str, list] = defaultdict(list)
    for row in employment:
        employers[row["person_id"]].append((row["start_date"], row["end_date"], companies[row["company_id"]]["domain"]))
    meta = json.loads((world_dir / "meta.json").read_text())
    end_date = dt.date.fromisoformat(meta["end_date"])

    def employer_on(person_id: str, day) -> str | None:
        return next((domain for start, end, domain in employers[person_id]
                     if start <= day and (end is None or day <= end)), None)

    per_rule: dict[str, Counter] = defaultdict(Counter)
    counts = Counter()
    wrong_examples = []
    for person in groups["customer"]:
        ours_id = predicted_person(person["person_id"])
        domain, rule, _, is_bot, is_internal, is_test, last_seen = dim_people.get(ours_id, (None,) * 7)
        keys = [key for key in keys_of[person["person_id"]] if key in ours]
        known = any(not key.startswith("segment_anonymous_id:") for key in keys)
        truth_domain = companies[person["company_id"]]["domain"] if person["company_id"] else None
        # the employer when DevSignal last saw the person (its latest evidence), else at the world's end
        seen_day = min(last_seen.date(), end_date) if last_seen is not None else end_date
        truth_then = employer_on(person["person_id"], seen_day) or truth_domain
        attributable = known and truth_domain is not None and has_evidence(person)
        # correct: the employer on the world's last day, or when DevSignal last saw them (a job change
        # after their last activity is invisible to any source); correct_now: the last day only
        correct = domain is not None and domain == truth_domain
        correct_then = domain is not None and domain in (truth_domain, truth_then)
        counts["present"] += 1
        counts["known"] += known
        counts["attributable"] += attributable
        counts["noise_flagged"] += bool(is_bot or is_internal or is_test)
        if domain is not None:
            counts["predicted"] += 1
            counts["correct"] += correct
            counts["correct_then"] += correct_then
            per_rule[rule]["predicted"] += 1
            per_rule[rule]["correct"] += correct
            per_rule[rule]["correct_then"] += correct_then
            if not correct_then and len(wrong_examples) < 10:
                wrong_examples.append({"truth_person": person["person_id"], "truth_then": truth_then,
                                       "truth_now": truth_domain, "predicted": domain, "rule": rule,
                                       "person_id": ours_id})
        counts["correct_known"] += correct and known
        counts["correct_attributable"] += correct and attributable
        counts["correct_then_attributable"] += correct_then and attributable
        counts["correct_then_known"] += correct_then and known
        counts["stale"] += domain is not None and not correct and correct_then

    noise = {}
    for kind in ("bot", "vendor"):
        caught = 0
        for person in groups[kind]:
            row = dim_people.get(predicted_person(person["person_id"]))
            caught += bool(row and (row[3] or row[4] or row[5]) and row[0] is None)
        noise[kind] = {"present": len(groups[kind]), "flagged_as_noise": caught}

    false_merges = [ours_id for ours_id, members in owners_of.items() if len(members) > 1]
    splits = [person_id for person_id, found in holders.items() if len(found) > 1]

    def ratio(a, b):
        return round(a / b, 4) if b else None

    result = {
        "people": {
            "present": counts["present"], "known": counts["known"], "attributable": counts["attributable"],
            "predicted": counts["predicted"], "correct": counts["correct_then"],
            # the employer now, or when last seen (the claim DevSignal makes: "works at X, as far as we know")
            "precision": ratio(counts["correct_then"], counts["predicted"]),
            "recall_attributable": ratio(counts["correct_then_attributable"], counts["attributable"]),
            "recall_known": ratio(counts["correct_then_known"], counts["known"]),
            # strict: against the employer on the world's last day (a job change nothing in the sources shows
            # counts as an error here)
            "precision_at_end": ratio(counts["correct"], counts["predicted"]),
            "recall_attributable_at_end": ratio(counts["correct_attributable"], counts["attributable"]),
            "stale_after_job_change": counts["stale"],
            "noise_flagged_customers": counts["noise_flagged"],
        },
        "per_rule": {rule: {"predicted": c["predicted"], "correct": c["correct_then"],
                            "precision": ratio(c["correct_then"], c["predicted"]),
                            "precision_at_end": ratio(c["correct"], c["predicted"]),
                            "share_of_correct": ratio(c["correct_then"], counts["correct_then"])}
                     for rule, c in sorted(per_rule.items(), key=lambda item: str(item[0]))},
        "false_merges": {"devsignal_people": len(false_merges),
                         "truth_people_involved": sum(len(owners_of[p]) for p in false_merges),
                         "examples": [sorted(owners_of[p]) for p in false_merges[:5]]},
        "splits": {"truth_people_split": len(splits), "share": ratio(len(splits), len(holders))},
        "noise": noise,
        "wrong_examples": wrong_examples,
    }
    result["signals"] = _measure_signals(conn, keys_of, truth_people, companies, employment)
    return result


def _measure_signals(conn, keys_of, truth_people, companies, employment) -> dict:
    """Each non-noise signal's account against its actor's employer on the day of the event."""
    owner_of_key = {}
    for person_id, keys in keys_of.items():
        for key in keys:
            owner_of_key[key] = person_id
    spells = defaultdict(list)
    for row in employment:
        spells[row["person_id"]].append((row["start_date"], row["end_date"], companies[row["company_id"]]["domain"]))
    rows = _query(conn, """
        select segment_user_id, segment_anonymous_id, github_login, cast(occurred_at at time zone 'UTC' as date),
               account_domain, is_noise
        from intermediate.int_signals__attributed""")
    counts = Counter()
    for user_id, anonymous_id, login, day, domain, is_noise in rows:
        person_id = (owner_of_key.get(identifier_key("segment_user_id", user_id) or "")
                     or owner_of_key.get(identifier_key("segment_anonymous_id", anonymous_id) or "")
                     or owner_of_key.get(identifier_key("github_login", login) or ""))
        person = truth_people.get(person_id)
        if person is None:
            counts["unknown_actor"] += 1
            continue
        if person["is_bot"] or person["is_vendor_employee"]:
            counts["noise_total"] += 1
            counts["noise_excluded"] += bool(is_noise)
            continue
        employer = next((d for start, end, d in spells[person_id]
                         if start <= day and (end is None or day <= end)), None)
        counts["customer_signals"] += 1
        if domain is not None:
            counts["credited"] += 1
            counts["correct"] += domain == employer
    return {"customer_signals": counts["customer_signals"], "credited": counts["credited"],
            "precision": round(counts["correct"] / counts["credited"], 4) if counts["credited"] else None,
            "recall": round(counts["correct"] / counts["customer_signals"], 4) if counts["customer_signals"] else None,
            "noise_signals": counts["noise_total"], "noise_excluded": counts["noise_excluded"],
            "signals_of_unknown_actors": counts["unknown_actor"]}


def figures_table(result: dict) -> str:
    """The figures as a small fixed-width table."""
    people = result["people"]
    lines = [f"{'rule':<20}{'assigned':>9}{'correct':>9}{'precision':>11}{'at end':>9}{'share':>8}"]
    rows = list(result["per_rule"].items()) + [("all rules", {
        "predicted": people["predicted"], "correct": people["correct"], "precision": people["precision"],
        "precision_at_end": people["precision_at_end"], "share_of_correct": 1.0})]
    for rule, row in rows:
        lines.append(f"{str(rule):<20}{row['predicted']:>9}{row['correct']:>9}{row['precision'] or 0:>11.4f}"
                     f"{row['precision_at_end'] or 0:>9.4f}{row['share_of_correct'] or 0:>8.3f}")
    lines.append(f"people: present {people['present']}, known {people['known']}, attributable {people['attributable']}")
    lines.append(f"recall: attributable {people['recall_attributable']}, known {people['recall_known']} "
                 f"(at end: attributable {people['recall_attributable_at_end']}); "
                 f"stale after a job change {people['stale_after_job_change']}")
    fm = result["false_merges"]
    lines.append(f"false merges: {fm['devsignal_people']} people holding {fm['truth_people_involved']} truth people; "
                 f"truth people split over several: {result['splits']['truth_people_split']}")
    noise = result["noise"]
    lines.append(f"noise caught: bots {noise['bot']['flagged_as_noise']}/{noise['bot']['present']}, "
                 f"vendor staff {noise['vendor']['flagged_as_noise']}/{noise['vendor']['present']}")
    s = result["signals"]
    lines.append(f"signals (employer on the event's day): precision {s['precision']}, recall {s['recall']} of "
                 f"{s['customer_signals']} customer signals; noise excluded {s['noise_excluded']}/{s['noise_signals']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# fuzzy company-name matching: scikit-learn as the reference and the calibration


def tfidf_vectorizer():
    """The vectoriser int_identity__company_name_matches implements in SQL."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False, norm="l2", use_idf=True,
                           smooth_idf=True, sublinear_tf=False, dtype=np.float64)


def _documents(conn) -> list[tuple[str, str]]:
    return _query(conn, """
        select name_text, account_domain
        from (select distinct name_text, account_domain from intermediate.int_identity__account_names
              where name_text is not null) as names
        order by name_text, account_domain""")


def best_matches(documents: list[tuple[str, str]], queries: list[str],
                 corpus_queries: list[str] | None = None) -> dict[str, tuple[str, float, float]]:
    """query -> (best domain, similarity, runner-up similarity over other domains), scikit-learn's way:
    fitted on the candidate names plus `corpus_queries` (default: the queries), as the SQL does."""
    import numpy as np
    from sklearn.metrics.pairwise import linear_kernel

    if not documents or not queries:
        return {}
    vectorizer = tfidf_vectorizer()
    vectorizer.fit([text for text, _ in documents] + sorted(set(corpus_queries if corpus_queries is not None
                                                                 else queries)))
    matrix = vectorizer.transform([text for text, _ in documents])
    scores = linear_kernel(vectorizer.transform(queries), matrix)
    domains = np.array([domain for _, domain in documents])
    out = {}
    for row, query in enumerate(queries):
        per_domain: dict[str, float] = {}
        for column in np.flatnonzero(scores[row] > 0):
            domain = domains[column]
            per_domain[domain] = max(per_domain.get(domain, 0.0), float(scores[row, column]))
        if not per_domain:
            continue
        ranked = sorted(per_domain.items(), key=lambda item: (-item[1], item[0]))
        out[query] = (ranked[0][0], ranked[0][1], ranked[1][1] if len(ranked) > 1 else 0.0)
    return out


def calibrate_fuzzy(conn, world_dir: Path) -> dict:
    """Leave-one-out calibration of the TF-IDF threshold against the truth.

    Every company name a person wrote (GitHub company, Segment traits.company, CRM contact company) is
    matched against the candidate names *minus the ones spelled exactly like it*: the situation the
    fuzzy rule is for (exact matching has already failed). The vectoriser is fitted once on all names
    (as in the SQL), so the left-out names still weigh in the idf: close to, not exactly,
    leave-one-out. A match is right when its domain is one of the writer's employers
    (truth/employment). For each threshold: how many matches pass, how many of them are right. The
    project's threshold is the smallest with precision >= 0.99."""
    import pyarrow.parquet as pq

    truth = Path(world_dir) / "truth"
    companies = {row["company_id"]: row["domain"] for row in pq.read_table(truth / "companies.parquet").to_pylist()}
    employers: dict[str, set[str]] = defaultdict(set)
    for row in pq.read_table(truth / "employment.parquet").to_pylist():
        employers[row["person_id"]].add(companies[row["company_id"]])
    owner = {}
    for row in pq.read_table(truth / "identifiers.parquet").to_pylist():
        key = identifier_key(row["identifier_type"], row["identifier_value"])
        if key:
            owner[key] = row["person_id"]

    written: dict[str, set[str]] = defaultdict(set)  # query text -> domains its writers worked at
    for company_text, user_id, login, hubspot_id, salesforce_id in _query(conn, """
            select company_text, segment_user_id, github_login, hubspot_contact_id, salesforce_contact_id
            from intermediate.int_identity__source_records
            where company_text is not null
              and record_source in ('segment_identify', 'github_profile', 'hubspot_contact', 'salesforce_contact')"""):
        text = company_name_text(company_text)
        if not text or re.fullmatch(r"[a-z0-9-]+( [a-z0-9-]+)* (com|io|dev|ai|co|tech|app|cloud|net|org)", text):
            continue
        for key in (identifier_key("segment_user_id", user_id), identifier_key("github_login", login),
                    identifier_key("hubspot_contact_id", hubspot_id),
                    identifier_key("salesforce_contact_id", salesforce_id)):
            if key in owner:
                written[text] |= employers[owner[key]]
                break

    import numpy as np
    from sklearn.metrics.pairwise import linear_kernel

    documents = _documents(conn)
    queries = [text for text, domains in sorted(written.items()) if domains]
    samples = []
    if documents and queries:
        # one fit on everything (as the SQL does); each query then ignores the names spelled like it
        vectorizer = tfidf_vectorizer()
        vectorizer.fit([text for text, _ in documents] + queries)
        scores = linear_kernel(vectorizer.transform(queries), vectorizer.transform([t for t, _ in documents]))
        texts = np.array([text for text, _ in documents])
        domains = np.array([domain for _, domain in documents])
        for row, text in enumerate(queries):
            per_domain: dict[str, float] = {}
            for column in np.flatnonzero((scores[row] > 0) & (texts != text)):
                per_domain[domains[column]] = max(per_domain.get(domains[column], 0.0), float(scores[row, column]))
            if not per_domain:
                continue
            ranked = sorted(per_domain.items(), key=lambda item: (-item[1], item[0]))
            best, runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
            samples.append((best[1], best[1] - runner_up, best[0] in written[text], text, str(best[0])))

    table = []
    for step in range(50, 101, 2):
        threshold = step / 100
        for margin in (0.0, 0.1):
            passed = [s for s in samples if s[0] >= threshold and s[1] >= margin]
            right = sum(1 for s in passed if s[2])
            table.append({"threshold": threshold, "margin": margin, "matches": len(passed), "right": right,
                          "precision": round(right / len(passed), 4) if passed else None})
    chosen = next((row for row in table if row["margin"] == 0.1 and row["precision"] is not None
                   and row["precision"] >= 0.99), None)
    wrong = sorted((s for s in samples if not s[2]), key=lambda s: -s[0])[:10]
    return {"samples": len(samples), "right": sum(1 for s in samples if s[2]), "table": table,
            "chosen": chosen, "highest_wrong": [{"similarity": round(s[0], 4), "margin": round(s[1], 4),
                                                 "text": s[3], "matched": s[4]} for s in wrong]}


# ---------------------------------------------------------------------------------------------------
# the benchmark: `python -m bench --only identity`

BENCH_DBNAME = "devsignal_identity_bench"
IDENTITY_SELECT = ["--select", "+dim_people", "+dim_identifiers", "+dim_person_aliases", "+fct_signals",
                   "+dim_accounts", "+int_signals__noise", "--indirect-selection", "cautious"]
IDENTITY_MODELS = ("int_identity__", "dim_people", "dim_identifiers", "dim_person_aliases")

BARE_AGGREGATE = """
    select count(distinct key) from (
        select 'u' || user_id as key from raw_segment.tracks
        union all select 'a' || anonymous_id from raw_segment.tracks
        union all select 'u' || user_id from raw_segment.pages
        union all select 'a' || anonymous_id from raw_segment.pages
        union all select 'u' || user_id from raw_segment.identifies
        union all select 'a' || anonymous_id from raw_segment.identifies
        union all select 'e' || lower(trim(traits__email)) from raw_segment.identifies
        union all select 'g' || lower(login) from raw_github.users
        union all select 'e' || lower(trim(email)) from raw_github.users
        union all select 'h' || record_id::text from raw_crm.hubspot_contacts
        union all select 'e' || lower(trim(email)) from raw_crm.hubspot_contacts
        union all select 's' || contact_id from raw_crm.salesforce_contacts
        union all select 'e' || lower(trim(email)) from raw_crm.salesforce_contacts
    ) as identifiers
"""

SYNTHETIC_GRAPH = """
    drop schema if exists ccbench cascade;
    create schema ccbench;
    -- DESIGN.md §5's shape: 300k people with 1-8 identifiers each, a random tree per person
    create table ccbench.nodes as
    select p, k, 'id:' || md5(p::text || ':' || k) as node
    from generate_series(1, 300000) as p, lateral generate_series(1, 1 + (abs(hashint4(p)) % 8)) as k;
    create table ccbench.edges as
    select a.node as node_a, b.node as node_b
    from ccbench.nodes a join ccbench.nodes b on a.p = b.p and b.k = a.k + 1
    where (abs(hashint4(a.p * 31 + a.k)) % 3) > 0
    union all
    select a.node, b.node from ccbench.nodes a join ccbench.nodes b on a.p = b.p and b.k > 1 and a.k = 1
    where (abs(hashint4(a.p * 31 + b.k)) % 3) = 0;
    analyze ccbench.nodes;
    analyze ccbench.edges;
"""


def _timed_sql(conn, sql: str, params=None) -> tuple[float, list]:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.commit()
    return time.perf_counter() - started, rows


def _compiled_components_sql(dbname: str, work_dir: Path) -> str:
    """The project's connected_components macro, compiled by dbt for the synthetic tables."""
    returncode, _, output, _ = run_dbt(dbname, ["--quiet", "compile", "--inline",
                                                "{{ connected_components('ccbench.nodes', 'ccbench.edges') }}"],
                                       None, work_dir)
    if returncode != 0:
        raise RuntimeError(output[-2000:])
    return output.strip()


def _scipy_components(conn) -> float:
    """Read the edges, scipy's connected_components, write the labels back: seconds, IO included."""
    import io

    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    started = time.perf_counter()
    buffer = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert("copy ccbench.edges to stdout", buffer)
        buffer.seek(0)
        edges = pd.read_csv(buffer, sep="\t", header=None, names=["a", "b"])
        nodes_buffer = io.StringIO()
        cur.copy_expert("copy (select node from ccbench.nodes) to stdout", nodes_buffer)
        nodes_buffer.seek(0)
        nodes = pd.read_csv(nodes_buffer, header=None, names=["node"])["node"]
        codes, uniques = pd.factorize(pd.concat([nodes, edges["a"], edges["b"]], ignore_index=True))
        n = len(uniques)
        a = codes[len(nodes):len(nodes) + len(edges)]
        b = codes[len(nodes) + len(edges):]
        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        out = io.StringIO()
        pd.DataFrame({"node": uniques, "component": labels}).to_csv(out, sep="\t", header=False, index=False)
        out.seek(0)
        cur.execute("drop table if exists ccbench.cc_scipy; create table ccbench.cc_scipy (node text, component int)")
        cur.copy_expert("copy ccbench.cc_scipy from stdin", out)
    conn.commit()
    return time.perf_counter() - started


def bench_identity(args, world_dir: Path) -> dict:
    """Identity resolution at the chosen world size: the identity models' build time against a bare
    `count(distinct identifier)` over the same raw tables (same run), person -> account precision and
    recall against the truth, and the connected-components choice at 1M edges (the project's
    recursive SQL against scipy, reads and writes included)."""
    import tempfile

    from devsignal import db

    world_dir = Path(world_dir)
    work_dir = Path(tempfile.mkdtemp(prefix="devsignal-identity-bench-"))
    create_database(BENCH_DBNAME)
    load_seconds = load_world(BENCH_DBNAME, world_dir, work_dir / "state")
    returncode, build_seconds, output, results = run_dbt(BENCH_DBNAME, ["build", *IDENTITY_SELECT],
                                                         dbt_vars(world_dir), work_dir)
    if returncode != 0:
        raise RuntimeError(output[-3000:])
    model_seconds = {r["unique_id"].split(".")[-1]: r["execution_time"] or 0.0 for r in results
                     if r["unique_id"].startswith("model.")}
    identity_seconds = sum(seconds for name, seconds in model_seconds.items() if name.startswith(IDENTITY_MODELS))

    conn = db.connect(BENCH_DBNAME)
    try:
        aggregate_seconds, [(count_identifiers,)] = _timed_sql(conn, BARE_AGGREGATE)
        [(edges,)] = _query(conn, "select count(*) from intermediate.int_identity__edges where is_active")
        [(people,)] = _query(conn, "select count(*) from marts.dim_people")
        figures = measure(conn, world_dir)
        # the algorithm choice, at DESIGN.md's 1M edges
        _timed_sql(conn, SYNTHETIC_GRAPH)
        [(synthetic_edges,)] = _query(conn, "select count(*) from ccbench.edges")
        # as int_identity__components runs it (its pre-hook turns merge joins off)
        sql_seconds, _ = _timed_sql(conn, "set local enable_mergejoin = off; drop table if exists ccbench.cc_sql; "
                                          "create table ccbench.cc_sql as "
                                          + _compiled_components_sql(BENCH_DBNAME, work_dir))
        scipy_seconds = _scipy_components(conn)
        [(disagreements,)] = _query(conn, """
            select
                (select count(*) from (select s.component from ccbench.cc_sql s join ccbench.cc_scipy p using (node)
                                       group by 1 having count(distinct p.component) > 1) as sql_side)
                + (select count(*) from (select p.component from ccbench.cc_sql s join ccbench.cc_scipy p using (node)
                                         group by 1 having count(distinct s.component) > 1) as scipy_side)""")
        _timed_sql(conn, "drop schema ccbench cascade")
    finally:
        conn.close()

    people_figures = figures["people"]
    return {
        "load_seconds": round(sum(load_seconds.values()), 2),
        "dbt_build_seconds": round(build_seconds, 2),
        "identity_models_seconds": round(identity_seconds, 2),
        "components_seconds": round(model_seconds.get("int_identity__components", 0.0), 3),
        "registry_seconds": round(model_seconds.get("int_identity__person_registry", 0.0), 3),
        "bare_aggregate_seconds": round(aggregate_seconds, 3),
        "identity_over_aggregate": round(identity_seconds / aggregate_seconds, 1) if aggregate_seconds else None,
        "distinct_identifiers": count_identifiers,
        "active_edges": edges,
        "people": people,
        "precision": people_figures["precision"],
        "recall_attributable": people_figures["recall_attributable"],
        "recall_known": people_figures["recall_known"],
        "precision_at_end": people_figures["precision_at_end"],
        "false_merges": figures["false_merges"]["devsignal_people"],
        "signal_precision": figures["signals"]["precision"],
        "signal_recall": figures["signals"]["recall"],
        "cc_synthetic_edges": synthetic_edges,
        "cc_sql_seconds": round(sql_seconds, 2),
        "cc_scipy_seconds_with_io": round(scipy_seconds, 2),
        "cc_sql_over_scipy": round(sql_seconds / scipy_seconds, 1) if scipy_seconds else None,
        "cc_disagreements": disagreements,
        "slowest_identity_models": dict(sorted(((name, round(seconds, 2)) for name, seconds in model_seconds.items()
                                                if name.startswith(IDENTITY_MODELS)), key=lambda item: -item[1])[:5]),
    }
