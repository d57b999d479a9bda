"""The engagement plan: how each company's latent intent turns into who is active, when, how much and how broadly.

One "actor" per employment spell, plus one per test account. Intent drives, per actor:
- whether they engage at all (more people active at high-intent companies),
- how long they stay active (high intent: until the end of the window, so activity is recent),
- how intensely (calls per day) and whether activity ramps up (high intent) or fades (low intent),
- how many different things they do in the product (breadth of event types),
- whether they sign up (a product userId) or only read docs anonymously.
Segment and GitHub activity are both drawn from this plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.world import vocab
from ingestion.world.common import DAY, Window, rng_for
from ingestion.world.companies import Companies
from ingestion.world.people import CI_BOT, HUMAN, TEST_ACCOUNT, VENDOR, People, Spells

# Calls per active weekday for a typical engaged customer (scaled by intent and personal heaviness).
# ~100 signals per person on average at the default intent mix; vendor staff and CI accounts are much louder.
CUSTOMER_RATE = 10.0
VENDOR_RATE = 45.0
CI_RATE = 35.0
TEST_RATE = 6.0
WEEKEND_FACTOR = 0.3


@dataclass
class Plan:
    person: np.ndarray  # actor → person row
    company: np.ndarray  # actor → company row (-1 for test accounts)
    kind: np.ndarray  # the person's kind
    intent: np.ndarray
    engaged: np.ndarray
    active_first: np.ndarray  # window-day index
    active_last: np.ndarray
    rate: np.ndarray  # calls per active weekday on average over the active range
    ramp: np.ndarray  # slope of exp(ramp * x) over the active range (x in 0..1): >0 grows, <0 fades
    uses_account: np.ndarray  # signed-up actors send userId calls; the others only anonymous page views
    first_identify: np.ndarray  # the actor whose identify is the person's first in the window
    signs_up_now: np.ndarray  # ... and who signs up then (anonymous visits before, a "Signed Up" track)
    identify_ms: np.ndarray  # epoch ms of the identify call (-1 if none)
    allowed: np.ndarray  # actor × track event: in this actor's repertoire
    utc_offset: np.ndarray

    def __len__(self) -> int:
        return len(self.person)

    def daily_rate(self, window: Window, day: int) -> np.ndarray:
        """Expected calls per actor on one window day."""
        active = self.engaged & (self.active_first <= day) & (day <= self.active_last)
        span = np.maximum(self.active_last - self.active_first, 1)
        x = (day - self.active_first) / span
        # exp(ramp*x) normalised to mean 1 over the range, so `rate` stays the average.
        norm = np.where(np.abs(self.ramp) < 1e-6, 1.0, np.expm1(self.ramp) / np.where(self.ramp == 0, 1, self.ramp))
        weight = np.exp(self.ramp * x) / norm
        weekend = window.weekday_of(np.array([day]))[0] >= 5
        day_factor = np.where(weekend & (self.kind != CI_BOT), WEEKEND_FACTOR, 1.0)
        return np.where(active, self.rate * weight * day_factor, 0.0)


def build_plan(seed: int, companies: Companies, people: People, spells: Spells, window: Window) -> Plan:
    rng = rng_for(seed, "engagement")
    tests = np.flatnonzero(people.kind == TEST_ACCOUNT)
    person = np.concatenate([spells.person, tests])
    company = np.concatenate([spells.company, np.full(len(tests), -1)])
    first = np.concatenate([spells.first_day, np.zeros(len(tests), int)])
    last = np.concatenate([spells.last_day, np.full(len(tests), window.days - 1)])
    kind = people.kind[person]
    n = len(person)
    intent = np.where(company >= 0, companies.intent[np.maximum(company, 0)], 0.0)
    customer = kind == HUMAN

    engaged = np.where(customer, rng.random(n) < np.clip(0.02 + 0.95 * intent**0.7, 0, 0.95), True)
    length = last - first + 1
    # Some were already users before the window; the others start during it (high intent: earlier).
    # High-intent people stay active to the end; low-intent ones try it and drift away.
    start_share = np.where(rng.random(n) < 0.4, 0.0, rng.random(n) * (0.85 - 0.5 * intent))
    active_first = first + np.floor(start_share * length).astype(int)
    stays = rng.random(n) < 0.15 + 0.8 * intent
    fade_length = np.floor((last - active_first) * rng.beta(1.2, 2.5, size=n)).astype(int)
    active_last = np.where(stays, last, active_first + fade_length)
    rate = CUSTOMER_RATE * people.heaviness[person] * (0.1 + 2.5 * intent)
    ramp = 3.5 * (intent - 0.3)

    # Vendor staff: active all window, loud. CI accounts: steady machine traffic. Test accounts: short bursts.
    vendor, ci, test = kind == VENDOR, kind == CI_BOT, kind == TEST_ACCOUNT
    active_first = np.where(vendor, first, active_first)
    active_last = np.where(vendor, last, active_last)
    rate = np.where(vendor, VENDOR_RATE * people.heaviness[person], rate)
    ci_start = rng.integers(0, max(1, window.days // 3), size=n)
    active_first = np.where(ci, np.maximum(first, ci_start), active_first)
    active_last = np.where(ci, last, active_last)
    rate = np.where(ci, CI_RATE * (0.5 + rng.random(n)), rate)
    test_start = rng.integers(0, window.days, size=n)
    active_first = np.where(test, test_start, active_first)
    active_last = np.where(test, np.minimum(window.days - 1, test_start + rng.integers(1, 8, size=n)), active_last)
    rate = np.where(test, TEST_RATE, rate)
    ramp = np.where(customer, ramp, 0.0)
    active_last = np.maximum(active_last, active_first)

    # Sign-up: once per person, in their first engaged spell that draws it; later spells keep the account.
    signs_up = np.where(customer, rng.random(n) < 0.45 + 0.45 * intent, True) & engaged
    # Users from before the window log in (identify) on their first day but do not sign up again.
    existing_user = (start_share == 0) & (first == 0)
    uses_account = np.zeros(n, dtype=bool)
    first_identify = np.zeros(n, dtype=bool)
    has_account: dict[int, bool] = {}
    for actor in range(n):  # actors of one person are in time order (old spell first)
        owner = int(person[actor])
        if engaged[actor] and (signs_up[actor] or has_account.get(owner, False)):
            uses_account[actor] = True
            if not has_account.get(owner, False):
                first_identify[actor] = True
            has_account[owner] = True

    rate = np.where(engaged & ~uses_account, 0.25 * rate, rate)  # anonymous docs readers: a few pages a day

    utc_offset = np.where(company >= 0, companies.utc_offset[np.maximum(company, 0)], 0.0)
    identify_hour = np.clip(rng.normal(10.5, 2.0, size=n), 6, 17) - utc_offset
    identify_seconds = np.floor(np.mod(identify_hour, 24) * 3600).astype("int64")
    identify_ms = np.where(uses_account, (window.start + active_first * DAY + identify_seconds) * 1000, -1)
    identify_ms = np.where(uses_account, identify_ms + rng.integers(0, 1000, size=n), -1)

    # Breadth: which track events each actor ever sends (API Call always; the rest more likely with intent).
    low = np.array([event[2] for event in vocab.TRACK_EVENTS])
    high = np.array([event[3] for event in vocab.TRACK_EVENTS])
    chance = low[None, :] + (high - low)[None, :] * intent[:, None]
    allowed = rng.random((n, len(vocab.TRACK_EVENTS))) < chance
    allowed[vendor | test] = True
    allowed[:, 0] = True

    return Plan(person=person, company=company, kind=kind, intent=intent, engaged=engaged,
                active_first=active_first, active_last=active_last, rate=rate, ramp=ramp,
                uses_account=uses_account, first_identify=first_identify,
                signs_up_now=first_identify & ~existing_user & np.isin(kind, (HUMAN, TEST_ACCOUNT)),
                identify_ms=identify_ms,
                allowed=allowed, utc_offset=utc_offset)
