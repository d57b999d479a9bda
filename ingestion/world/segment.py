"""The Segment archive: identify / track / group / page calls, one JSON object per line, gzipped, in time order.

Layout: segment/archive/YYYY/MM/DD/<n>.json.gz, n = 0, 1, ... with at most MAX_LINES_PER_FILE lines each.
Generated one day at a time (numpy for the draws, string templates for the lines) so memory stays bounded
whatever the world's size; a background thread compresses and writes while the next day is built.
"""

from __future__ import annotations

import gzip
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ingestion.world import vocab
from ingestion.world.activity import Plan
from ingestion.world.common import DAY, Window, base62_tokens, iso_millis, random_case, rng_for, weighted_choice
from ingestion.world.companies import Companies, name_variant, website_variant
from ingestion.world.people import CI_BOT, HUMAN, TEST_ACCOUNT, People, Spells
from ingestion.world.truth import IdentifierLog

MAX_LINES_PER_FILE = 50_000
HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
GZIP_LEVEL = 3
DUPLICATE_RATE = 1 / 20_000  # Segment retries: the same call (same messageId, same payload) archived twice

# Call codes (internal).
ANON_PAGE, IDENTIFY, GROUP, TRACK, PAGE, CI_TRACK, SIGNED_UP = range(7)
SERVER_SIDE_EVENTS = ("API Call", "Ran Pipeline")  # sent by the SDK from the user's backend, no anonymousId


@dataclass
class SegmentStats:
    calls: int = 0
    files: int = 0
    duplicates: int = 0


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _property_fragments() -> list[list[str]]:
    """For each track event, the JSON `properties` objects it can carry."""
    fragments = []
    for event, *_ in vocab.TRACK_EVENTS:
        if event == "API Call":
            options = [{"endpoint": path, "method": method, "status": status}
                       for path, method in vocab.API_ENDPOINTS for status in vocab.API_STATUSES]
        elif event == "Feature Used":
            options = [{"feature": feature} for feature in vocab.FEATURES]
        elif event == "Viewed Docs":
            options = [{"section": section, "path": f"/docs/{section}"} for section in vocab.DOCS_SECTIONS]
        elif event == "Ran Pipeline":
            options = [{"pipeline": name, "status": status, "duration_s": seconds}
                       for name in ("build", "test", "deploy", "nightly")
                       for status, seconds in (("success", 42), ("success", 97), ("success", 310), ("failed", 18))]
        elif event == "Created Project":
            options = [{"template": template} for template in vocab.PROJECT_TEMPLATES]
        elif event == "Connected Integration":
            options = [{"integration": name} for name in vocab.INTEGRATIONS]
        elif event == "Invited Teammate":
            options = [{"role": role} for role in ("member", "member", "admin", "viewer")]
        else:  # Viewed Pricing, Started Trial
            options = [{"plan": plan} for plan in vocab.PLANS]
        fragments.append([_json(option) for option in options])
    return fragments


def _page_fragments() -> list[tuple[str, str]]:
    return [(_json(name), _json({"path": path, "url": f"https://{vocab.VENDOR_DOMAIN}{path}", "title": title}))
            for name, path, title in vocab.PAGES]


def _messy_email(rng: np.random.Generator, email: str) -> str:
    """People type their email as they like; the app stores it as typed."""
    draw = rng.random()
    if draw < 0.07:
        return random_case(rng, email)
    if draw < 0.10:
        return (" ", "", "  ")[rng.integers(3)] + email + (" ", " ", "")[rng.integers(3)]
    return email


class _Writer:
    """Compresses and writes files on a background thread (zlib releases the GIL), at most two in flight."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future] = []

    def submit(self, path: Path, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        while len(self.pending) >= 2:
            self.pending.pop(0).result()
        self.pending.append(self.pool.submit(_write_gzip, path, data))

    def close(self) -> None:
        for future in self.pending:
            future.result()
        self.pool.shutdown()


def _write_gzip(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def write_segment(out: Path, seed: int, companies: Companies, people: People, spells: Spells, plan: Plan,
                  window: Window, identifiers: IdentifierLog,
                  progress: Callable[[str], None] | None = None) -> SegmentStats:
    rng = rng_for(seed, "segment")
    n_actors = len(plan)
    person = plan.person

    # --- per-actor and per-person fragments, built once
    user_part = [f'"userId":"{people.user_id[p]}"' for p in person.tolist()]
    anon_parts = [[f'"anonymousId":"{value}"' for value in ids] for ids in people.anonymous_ids]
    devices = np.array([len(ids) for ids in people.anonymous_ids])
    browser_context = [_json({"library": {"name": "analytics.js", "version": "next-1.70.0"}, "userAgent": agent})
                       for agent in vocab.BROWSER_USER_AGENTS]
    server_context = [_json({"library": {"name": "analytics-node" if "python" not in agent else "analytics-python",
                                         "version": "2.1.2" if "python" not in agent else "2.3.2"},
                             "userAgent": agent}) for agent in vocab.SDK_USER_AGENTS]
    ci_context = [_json({"library": {"name": "analytics-node", "version": "2.1.2"}, "userAgent": agent})
                  for agent in vocab.CI_USER_AGENTS]
    actor_sdk = rng.integers(len(server_context), size=n_actors)
    actor_ci_agent = rng.integers(len(ci_context), size=n_actors)
    properties = _property_fragments()
    flat_properties = [fragment for options in properties for fragment in options]
    property_count = np.array([len(options) for options in properties])
    property_offset = np.concatenate([[0], np.cumsum(property_count)[:-1]])
    contexts = browser_context + ci_context + server_context
    ci_context_base, server_context_base = len(browser_context), len(browser_context) + len(ci_context)
    pages = _page_fragments()
    event_names = [_json(event) for event, *_ in vocab.TRACK_EVENTS]
    server_side = np.array([event in SERVER_SIDE_EVENTS for event, *_ in vocab.TRACK_EVENTS])

    # Identify traits per actor that has an account; the email is the one the person typed at sign-up.
    signs_up_personal = rng.random(len(people)) < 0.3
    identify_traits: list[str | None] = [None] * n_actors
    for actor in np.flatnonzero(plan.uses_account).tolist():
        p = int(person[actor])
        kind = people.kind[p]
        if kind == TEST_ACCOUNT:
            traits = {"email": people.test_email[p], "name": people.full_name(p)}
        else:
            work = spells.work_email[actor]
            email = people.personal_email[p] if (kind == HUMAN and signs_up_personal[p]
                                                  and people.personal_email[p]) else work
            email = _messy_email(rng, email) if kind == HUMAN else email
            traits = {"email": email, "name": people.full_name(p) if kind != CI_BOT else "CI Runner"}
            if people.title[p] and kind != CI_BOT and rng.random() < 0.8:
                traits["title"] = people.title[p]
            company = int(plan.company[actor])
            if kind != CI_BOT and rng.random() < 0.85:
                traits["company"] = name_variant(rng, companies.name[company], companies.domain[company])
        identifiers.add(p, "email", traits["email"])
        identifiers.add(p, "segment_user_id", people.user_id[p])
        identify_traits[actor] = _json(traits)

    # Group calls: each company's workspace(s) in the product; a few companies run two workspaces.
    group_ids = [f"grp_{token}" for token in base62_tokens(rng, len(companies), 12)]
    second_group_ids = [f"grp_{token}" for token in base62_tokens(rng, len(companies), 12)]
    has_second = rng.random(len(companies)) < 0.05
    group_traits = [_json({"name": name_variant(rng, companies.name[c], companies.domain[c]),
                           "website": website_variant(rng, companies.domain[c]),
                           "industry": companies.industry[c], "employees": int(companies.employees[c])})
                    for c in range(len(companies))]
    actor_second_group = rng.random(n_actors) < 0.4
    group_of_actor = [(second_group_ids[c] if has_second[c] and actor_second_group[a] else group_ids[c])
                      if c >= 0 else None for a, c in enumerate(plan.company.tolist())]
    group_traits_of_actor = [group_traits[c] if c >= 0 else None for c in plan.company.tolist()]

    # --- calls that happen once per actor: pre-sign-up anonymous pages, identify, "Signed Up", group
    extra_ts, extra_actor, extra_code, extra_page = [], [], [], []
    first = np.flatnonzero(plan.signs_up_now)
    pre_count = 1 + rng.poisson(2.0, size=len(first))
    pre_actor = np.repeat(first, pre_count)
    pre_back = rng.exponential(2.0 * DAY * 1000, size=len(pre_actor)).astype("int64") + 60_000
    pre_ts = np.maximum(plan.identify_ms[pre_actor] - pre_back, window.start * 1000)
    extra_ts.append(pre_ts)
    extra_actor.append(pre_actor)
    extra_code.append(np.full(len(pre_actor), ANON_PAGE))
    extra_page.append(rng.integers(vocab.ANONYMOUS_PAGES, size=len(pre_actor)))
    accounts = np.flatnonzero(plan.uses_account)
    grouped = accounts[plan.company[accounts] >= 0]
    signed = np.flatnonzero(plan.signs_up_now)
    for actors, code, offset in ((accounts, IDENTIFY, 0), (signed, SIGNED_UP, 1000), (grouped, GROUP, 2000)):
        extra_ts.append(plan.identify_ms[actors] + offset)
        extra_actor.append(actors)
        extra_code.append(np.full(len(actors), code))
        extra_page.append(np.zeros(len(actors), int))
    extra_ts_all = np.concatenate(extra_ts)
    order = np.argsort(extra_ts_all, kind="stable")
    extra_ts_all = extra_ts_all[order]
    extra_actor_all = np.concatenate(extra_actor)[order]
    extra_code_all = np.concatenate(extra_code)[order]
    extra_page_all = np.concatenate(extra_page)[order]

    track_weights = np.array([event[1] for event in vocab.TRACK_EVENTS])
    seen_anon = np.zeros((len(people), int(devices.max()) if len(people) else 1), dtype=bool)
    stats = SegmentStats()
    writer = _Writer()
    reported = -1
    try:
        for day in range(window.days):
            day_rng = rng_for(seed, f"segment/day/{day}")
            day_start_ms = (window.start + day * DAY) * 1000
            day_end_ms = day_start_ms + DAY * 1000

            # Regular calls: Poisson counts per actor, then what each call is.
            counts = day_rng.poisson(plan.daily_rate(window, day))
            actors = np.repeat(np.arange(n_actors), counts)
            m = len(actors)
            local_hour = np.where(day_rng.random(m) < 0.9, day_rng.normal(13.5, 3.0, size=m), day_rng.random(m) * 24)
            hour = np.where(plan.kind[actors] == CI_BOT, day_rng.random(m) * 24, local_hour - plan.utc_offset[actors])
            ts = day_start_ms + (np.mod(hour, 24) * 3_600_000).astype("int64")
            account = plan.uses_account[actors]
            identify_at = plan.identify_ms[actors]
            early = account & (ts <= identify_at + 2000)  # nothing before the sign-up but anonymous pages
            ts = np.where(early, np.minimum(identify_at + 3000 + day_rng.integers(0, 3_600_000, size=m),
                                            day_end_ms - 1), ts)
            event = weighted_choice(day_rng, track_weights, m)
            is_page = day_rng.random(m) < vocab.PAGE_WEIGHT
            allowed = plan.allowed[actors, event]
            is_page |= ~allowed & (day_rng.random(m) < 0.3)
            event = np.where(allowed | is_page, event, 0)  # outside the repertoire → a page or an API call
            code = np.where(~account, ANON_PAGE, np.where(plan.kind[actors] == CI_BOT, CI_TRACK,
                                                          np.where(is_page, PAGE, TRACK)))
            event = np.where(code == CI_TRACK, np.where(day_rng.random(m) < 0.8, 0, 3), event)
            page = np.where(code == ANON_PAGE, day_rng.integers(vocab.ANONYMOUS_PAGES, size=m),
                            day_rng.integers(len(vocab.PAGES), size=m))

            # Merge in the once-per-actor calls of this day, then order by time (stable: deterministic ties).
            low, high = np.searchsorted(extra_ts_all, [day_start_ms, day_end_ms])
            ts = np.concatenate([ts, extra_ts_all[low:high]])
            actors = np.concatenate([actors, extra_actor_all[low:high]])
            code = np.concatenate([code, extra_code_all[low:high]])
            event = np.concatenate([event, np.zeros(high - low, int)])
            page = np.concatenate([page, extra_page_all[low:high]])
            order = np.argsort(ts, kind="stable")
            ts, actors, code, event, page = ts[order], actors[order], code[order], event[order], page[order]
            m = len(ts)

            owners = person[actors]
            device = (day_rng.random(m) * devices[owners]).astype(int)
            # The browser that signs up (device 0) sends identify/group; before that, people browse from it
            # mostly, and from their other devices too (anonymousIds that only a later login may link).
            signing = (code == IDENTIFY) | (code == GROUP) | (code == SIGNED_UP) | (
                (code == ANON_PAGE) & plan.signs_up_now[actors] & (ts < plan.identify_ms[actors])
                & (day_rng.random(m) < 0.6))
            device = np.where(signing, 0, device)
            ci = plan.kind[actors] == CI_BOT
            browser = ~ci & ((code != TRACK) | ~server_side[event])
            seen_anon[owners[browser], device[browser]] = True
            variant = day_rng.integers(0, 1 << 30, size=m)
            prop = property_offset[event] + variant % property_count[event]
            context = np.where(browser, people.browser[owners],
                               np.where(ci, ci_context_base + actor_ci_agent[actors],
                                        server_context_base + actor_sdk[actors]))
            # Render and write the day in equal parts of at most MAX_LINES_PER_FILE lines (bounded memory).
            date = window.day(day)
            folder = out / f"{date.year:04d}" / f"{date.month:02d}" / f"{date.day:02d}"
            parts = max(1, -(-m // (MAX_LINES_PER_FILE - 100)))  # room for the retried duplicates
            bounds = [m * k // parts for k in range(parts + 1)]
            for part in range(parts):
                lo, hi = bounds[part], bounds[part + 1]
                lines = _lines(_message_ids(day_rng, hi - lo), iso_millis(ts[lo:hi]), code[lo:hi].tolist(),
                               actors[lo:hi].tolist(), owners[lo:hi].tolist(), device[lo:hi].tolist(),
                               browser[lo:hi].tolist(), event[lo:hi].tolist(), page[lo:hi].tolist(),
                               prop[lo:hi].tolist(), context[lo:hi].tolist(), user_part, anon_parts, event_names,
                               flat_properties, pages, contexts, identify_traits, group_of_actor,
                               group_traits_of_actor)
                # A few retries: the identical call archived twice, right after the original.
                duplicates = min(int(day_rng.poisson(len(lines) * DUPLICATE_RATE)), 100, len(lines))
                if day == window.days - 1 and part == parts - 1 and lines and stats.duplicates + duplicates == 0:
                    duplicates = 1  # every world has at least one
                for index in sorted(day_rng.choice(len(lines), size=duplicates, replace=False).tolist(),
                                    reverse=True):
                    lines.insert(index + 1, lines[index])
                stats.duplicates += duplicates
                stats.calls += len(lines)
                if lines:
                    writer.submit(folder / f"{part}.json.gz", lines)
                    stats.files += 1
                del lines
            if progress and (day + 1) * 10 // window.days > reported:
                reported = (day + 1) * 10 // window.days
                progress(f"segment: day {day + 1}/{window.days}, {stats.calls:,} calls, {stats.files} files")
    finally:
        writer.close()

    for p, d in zip(*np.nonzero(seen_anon)):
        identifiers.add(int(p), "segment_anonymous_id", people.anonymous_ids[p][d])
    return stats


def _message_ids(rng: np.random.Generator, count: int) -> str:
    """`count` random UUID-v4 strings, concatenated (36 characters each), built in one numpy pass."""
    nibbles = rng.integers(0, 16, size=(count, 32), dtype=np.uint8)
    nibbles[:, 12] = 4  # version
    nibbles[:, 16] = 8 + (nibbles[:, 16] & 3)  # variant
    chars = HEX_DIGITS[nibbles]
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    for begin, end, source in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        text[:, begin:end] = chars[:, source:source + end - begin]
    return text.tobytes().decode("ascii")


def _lines(message_ids, stamps, code, actors, owners, device, browser, event, page, prop, context, user_part,
           anon_parts, event_names, properties, pages, contexts, identify_traits, group_of_actor,
           group_traits_of_actor) -> list[str]:
    """Render one day's calls. Plain string templates: json.dumps per call would dominate the run time."""
    lines = []
    append = lines.append
    for i, c in enumerate(code):
        actor = actors[i]
        if c == ANON_PAGE:
            ids = anon_parts[owners[i]][device[i]]
        elif browser[i]:
            ids = f"{user_part[actor]},{anon_parts[owners[i]][device[i]]}"
        else:
            ids = user_part[actor]
        head = f'{{"messageId":"{message_ids[36 * i:36 * i + 36]}","type":"'
        if c == TRACK or c == CI_TRACK:
            append(f'{head}track","timestamp":"{stamps[i]}",{ids},"event":{event_names[event[i]]},'
                   f'"properties":{properties[prop[i]]},"context":{contexts[context[i]]}}}')
        elif c == PAGE or c == ANON_PAGE:
            name, props = pages[page[i]]
            append(f'{head}page","timestamp":"{stamps[i]}",{ids},"name":{name},'
                   f'"properties":{props},"context":{contexts[context[i]]}}}')
        elif c == IDENTIFY:
            append(f'{head}identify","timestamp":"{stamps[i]}",{ids},'
                   f'"traits":{identify_traits[actor]},"context":{contexts[context[i]]}}}')
        elif c == SIGNED_UP:
            append(f'{head}track","timestamp":"{stamps[i]}",{ids},"event":"Signed Up",'
                   f'"properties":{{"plan":"free","source":"website"}},"context":{contexts[context[i]]}}}')
        else:  # GROUP
            append(f'{head}group","timestamp":"{stamps[i]}",{ids},"groupId":"{group_of_actor[actor]}",'
                   f'"traits":{group_traits_of_actor[actor]},"context":{contexts[context[i]]}}}')
    return lines
