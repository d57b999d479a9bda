"""People: who works where (employment spells, some changed job during the window) and every identity they own.

A person's identities are drawn here once (work email per employer, personal email, GitHub login, the product's
userId, browser anonymousIds); the source writers decide which of them show up where, and how messily.
Non-human actors are people too (flagged `is_bot`): GitHub bots, companies' CI accounts and test accounts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ingestion.world import vocab
from ingestion.world.common import Window, ascii_slug, base62_tokens, rng_for, weighted_choice
from ingestion.world.companies import Companies

HUMAN, VENDOR, GITHUB_BOT, CI_BOT, TEST_ACCOUNT = 0, 1, 2, 3, 4

EMAIL_CONVENTIONS = ("first.last", "first", "flast", "firstl", "first_last", "firstlast")
EMAIL_CONVENTION_WEIGHTS = (0.5, 0.12, 0.16, 0.05, 0.07, 0.1)


@dataclass
class People:
    person_id: list[str]
    kind: np.ndarray  # HUMAN, VENDOR, GITHUB_BOT, CI_BOT, TEST_ACCOUNT
    first_name: list[str]
    last_name: list[str]
    title: list[str | None]
    is_senior: np.ndarray
    company: np.ndarray  # current employer's row, -1 for none
    personal_email: list[str | None]
    github_login: list[str | None]
    user_id: list[str]  # the product's userId, used only if the person signs up
    anonymous_ids: list[list[str]]  # browser ids, one per device
    browser: np.ndarray  # index into vocab.BROWSER_USER_AGENTS
    heaviness: np.ndarray  # how intensely this person uses things, independent of the company
    test_email: list[str | None]

    def __len__(self) -> int:
        return len(self.person_id)

    def full_name(self, index: int) -> str:
        return f"{self.first_name[index]} {self.last_name[index]}".strip()

    @property
    def is_bot(self) -> np.ndarray:
        return np.isin(self.kind, (GITHUB_BOT, CI_BOT, TEST_ACCOUNT))


@dataclass
class Spells:
    """Employment spells: one row per (person, employer) period. Activity is generated per spell."""

    person: np.ndarray
    company: np.ndarray
    start_date: list[dt.date]
    end_date: list[dt.date | None]
    work_email: list[str | None]
    first_day: np.ndarray  # first window-day index the spell covers
    last_day: np.ndarray  # last window-day index the spell covers (inclusive)

    def __len__(self) -> int:
        return len(self.person)


def is_senior_title(title: str | None) -> bool:
    """Real seniority (word-based), unlike the seed's substring test that "Headless CMS Engineer" fools."""
    if not title:
        return False
    words = title.lower().replace(",", " ").replace("&", " ").split()
    return (bool(words) and words[0] == "vp") or "director" in words or title.lower().startswith("head of") \
        or any(word in ("cto", "ceo", "founder", "co-founder", "chief") for word in words) \
        or title.lower().startswith("vice president")


def _allocate(rng: np.random.Generator, companies: Companies, count: int) -> np.ndarray:
    """How many people each customer company gets: more for bigger companies, never more than it employs."""
    customers = np.arange(1, len(companies))
    capacity = companies.employees[customers].astype(float)
    weight = capacity**0.35 * rng.lognormal(0, 0.3, size=len(customers))
    counts = rng.multinomial(count, weight / weight.sum())
    for _ in range(20):  # hand the overflow of tiny companies to companies with room
        excess = np.maximum(counts - capacity, 0).astype(int)
        if excess.sum() == 0:
            break
        counts -= excess
        room = np.maximum(capacity - counts, 0) * weight
        if room.sum() == 0:
            break
        counts += rng.multinomial(excess.sum(), room / room.sum())
    return counts


class _UniqueNames:
    """Hands out unique values (case-insensitive), adding digits on collision, like sign-up forms do."""

    def __init__(self, reserved=()):
        self.taken = {value.lower() for value in reserved}

    def claim(self, wanted: str, rng: np.random.Generator, sep: str = "") -> str:
        candidate, attempts = wanted, 0
        while candidate.lower() in self.taken:
            attempts += 1  # widen the range as it fills up, so huge worlds never loop for long
            candidate = f"{wanted}{sep}{rng.integers(2, 99 * (1 + attempts // 5) ** 2)}"
        self.taken.add(candidate.lower())
        return candidate


def _work_local(convention: str, first: str, last: str) -> str:
    return {
        "first.last": f"{first}.{last}", "first": first, "flast": f"{first[:1]}{last}", "firstl": f"{first}{last[:1]}",
        "first_last": f"{first}_{last}", "firstlast": f"{first}{last}",
    }[convention]


def _personal_local(rng: np.random.Generator, first: str, last: str) -> str:
    style = rng.integers(6)
    number = rng.integers(1, 99)
    year = rng.integers(70, 100) if rng.random() < 0.5 else rng.integers(0, 6)
    return (f"{first}.{last}", f"{first}{last}{number}", f"{first}_{last}", f"{first[:1]}{last}{year:02d}",
            f"{first}.{last}.dev", f"{last}.{first}")[style]


def _github_login(rng: np.random.Generator, first: str, last: str, first_raw: str, last_raw: str) -> str:
    style = rng.integers(8)
    login = (f"{first}{last}", f"{first}-{last}", f"{first[:1]}{last}", f"{first}{rng.integers(1, 999)}",
             f"{last}{first[:1]}", f"{first}-dev", f"{first}codes", f"{first}-{last[:3]}")[style]
    if rng.random() < 0.25 and style in (0, 2):  # some write their login CamelCase
        login = ascii_slug(first_raw).capitalize() + ascii_slug(last_raw).capitalize()
    return login[:39]


def build_people(seed: int, companies: Companies, humans: int, window: Window) -> tuple[People, Spells]:
    rng = rng_for(seed, "people")
    n_vendor = max(4, min(40, humans // 250))
    n_customers = humans - n_vendor
    counts = _allocate(rng, companies, n_customers)
    current = np.repeat(np.arange(1, len(companies)), counts)
    current = current[rng.permutation(len(current))]

    ci_companies = [index for index in range(1, len(companies)) if companies.github_org[index]]
    n_ci = min(len(ci_companies), max(2, round(0.02 * len(companies))))
    ci_company = np.sort(rng.choice(ci_companies, size=n_ci, replace=False)) if n_ci else np.zeros(0, int)

    kind = np.concatenate([
        np.full(n_vendor, VENDOR), np.full(n_customers, HUMAN), np.full(len(vocab.GITHUB_BOTS), GITHUB_BOT),
        np.full(n_ci, CI_BOT), np.full(len(vocab.TEST_ACCOUNT_EMAILS), TEST_ACCOUNT),
    ]).astype("int8")
    company = np.concatenate([
        np.zeros(n_vendor, int), current, np.full(len(vocab.GITHUB_BOTS), -1), ci_company,
        np.full(len(vocab.TEST_ACCOUNT_EMAILS), -1),
    ]).astype("int64")
    total = len(kind)

    # Names and titles.
    first_index = rng.integers(len(vocab.FIRST_NAMES), size=total)
    last_index = rng.integers(len(vocab.LAST_NAMES), size=total)
    title_index = weighted_choice(rng, [weight for _, weight in vocab.TITLES], total)
    vendor_titles = ("Founder & CEO", "Co-founder & CTO", "Staff Engineer", "Developer Advocate", "Software Engineer",
                     "Senior Software Engineer", "Head of Growth", "Product Engineer")
    first_name, last_name, title = [], [], []
    for index in range(total):
        if kind[index] in (HUMAN, VENDOR):
            first_name.append(vocab.FIRST_NAMES[first_index[index]])
            last_name.append(vocab.LAST_NAMES[last_index[index]])
            if kind[index] == VENDOR:
                title.append(vendor_titles[index % len(vendor_titles)])
            else:
                title.append(vocab.TITLES[title_index[index]][0] if rng.random() < 0.93 else None)
        elif kind[index] == TEST_ACCOUNT:
            first_name.append("Test")
            last_name.append("User" if index % 2 else "Account")
            title.append(None)
        else:
            first_name.append("")
            last_name.append("")
            title.append(None)
    is_senior = np.array([is_senior_title(value) for value in title], dtype=bool)

    spells = _build_spells(rng, companies, kind, company, window)

    # Work emails per spell, following each company's address convention.
    convention = weighted_choice(rng, EMAIL_CONVENTION_WEIGHTS, len(companies))
    convention[0] = 1  # the vendor uses first@forgeflow.dev
    taken_by_domain: dict[int, _UniqueNames] = {}
    work_email: list[str | None] = []
    for person, employer in zip(spells.person.tolist(), spells.company.tolist()):
        domain = companies.domain[employer]
        unique = taken_by_domain.setdefault(employer, _UniqueNames(("ci", "team", "info", "hello")))
        if kind[person] == CI_BOT:
            work_email.append(f"{unique.claim('ci', rng)}@{domain}")
            continue
        first, last = ascii_slug(first_name[person]), ascii_slug(last_name[person])
        local = _work_local(EMAIL_CONVENTIONS[convention[employer]], first, last)
        work_email.append(f"{unique.claim(local, rng)}@{domain}")
    spells.work_email = work_email

    # Personal emails and GitHub logins.
    personal_by_domain: dict[str, _UniqueNames] = {}
    logins = _UniqueNames([bot for bot, _ in vocab.GITHUB_BOTS] + [vocab.VENDOR_GITHUB_ORG]
                          + [org for org in companies.github_org if org])
    personal_email: list[str | None] = []
    github_login: list[str | None] = []
    has_personal = rng.random(total) < 0.55
    has_github = rng.random(total) < 0.65
    free_mail = weighted_choice(rng, vocab.FREE_MAIL_WEIGHTS, total)
    for index in range(total):
        first, last = ascii_slug(first_name[index]), ascii_slug(last_name[index])
        if kind[index] in (HUMAN, VENDOR) and has_personal[index]:
            domain = vocab.FREE_MAIL_DOMAINS[free_mail[index]]
            unique = personal_by_domain.setdefault(domain, _UniqueNames())
            personal_email.append(f"{unique.claim(_personal_local(rng, first, last), rng)}@{domain}")
        else:
            personal_email.append(None)
        if kind[index] == GITHUB_BOT:
            github_login.append(vocab.GITHUB_BOTS[index - n_vendor - n_customers][0])
        elif kind[index] == CI_BOT:
            github_login.append(logins.claim(f"ci-runner-{companies.github_org[company[index]].lower()}", rng, "-"))
        elif kind[index] == VENDOR or (kind[index] == HUMAN and has_github[index]):
            github_login.append(logins.claim(_github_login(rng, first, last, first_name[index], last_name[index]),
                                             rng))
        else:
            github_login.append(None)

    # Product ids: a userId per person (used if they sign up) and 1–4 browser anonymousIds.
    user_tokens = base62_tokens(rng, total, 14)
    devices = rng.integers(1, 5, size=total)
    anon_hex = [rng.bytes(16).hex() for _ in range(int(devices.sum()))]
    anonymous_ids, cursor = [], 0
    for count in devices.tolist():
        anonymous_ids.append([_uuid(value) for value in anon_hex[cursor:cursor + count]])
        cursor += count

    test_email = [None] * total
    for offset, email in enumerate(vocab.TEST_ACCOUNT_EMAILS):
        test_email[total - len(vocab.TEST_ACCOUNT_EMAILS) + offset] = email

    order = rng.permutation(total)  # ids carry no hint of who is a bot, vendor or customer
    people = People(
        person_id=[f"p{value:07d}" for value in order.tolist()],
        kind=kind, first_name=first_name, last_name=last_name, title=title, is_senior=is_senior,
        company=company, personal_email=personal_email, github_login=github_login,
        user_id=[f"usr_{token}" for token in user_tokens], anonymous_ids=anonymous_ids,
        browser=rng.integers(len(vocab.BROWSER_USER_AGENTS), size=total),
        heaviness=rng.lognormal(0, 0.5, size=total), test_email=test_email,
    )
    return people, spells


def _uuid(hex32: str) -> str:
    # UUID v4 layout (version nibble 4, variant 8..b), as browsers' analytics libraries generate them.
    variant = "89ab"[int(hex32[16], 16) % 4]
    return f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{variant}{hex32[17:20]}-{hex32[20:32]}"


def _build_spells(rng: np.random.Generator, companies: Companies, kind: np.ndarray, company: np.ndarray,
                  window: Window) -> Spells:
    """One spell per employed person; ~6% of customers switched employer inside the window (two spells)."""
    person, employer, start, end = [], [], [], []
    customers = np.arange(1, len(companies))
    can_switch = len(customers) >= 2 and window.days >= 20
    switch_draw = rng.random(len(kind))
    back = rng.integers(30, 3000, size=len(kind))
    new_hire_day = rng.integers(1, max(2, window.days), size=len(kind))
    new_hire = rng.random(len(kind)) < 0.03
    switch_day = rng.integers(window.days // 5, window.days - window.days // 10, size=len(kind)) if can_switch \
        else np.zeros(len(kind), int)
    old_company = rng.choice(customers, size=len(kind))
    for index in range(len(kind)):
        if company[index] < 0:
            continue
        current_start = window.start_date - dt.timedelta(days=int(back[index]))
        if kind[index] == HUMAN and can_switch and switch_draw[index] < 0.06:
            previous = int(old_company[index])
            if previous == company[index]:
                previous = int(customers[(previous) % len(customers)])  # the next company over
            switched = window.day(switch_day[index])
            person += [index, index]
            employer += [previous, int(company[index])]
            start += [current_start, switched]
            end += [switched - dt.timedelta(days=1), None]
            continue
        if kind[index] == HUMAN and new_hire[index]:
            current_start = window.day(new_hire_day[index])
        person.append(index)
        employer.append(int(company[index]))
        start.append(current_start)
        end.append(None)
    first_day = np.array([max(0, (value - window.start_date).days) for value in start], dtype="int64")
    last_day = np.array([window.days - 1 if value is None else min(window.days - 1, (value - window.start_date).days)
                         for value in end], dtype="int64")
    return Spells(person=np.array(person, dtype="int64"), company=np.array(employer, dtype="int64"),
                  start_date=start, end_date=end, work_email=[None] * len(person), first_day=first_day,
                  last_day=last_day)
