"""Companies: names, domains, size, industry, GitHub org, latent buying intent, outcome, CRM coverage.

Row 0 is always the vendor (Forgeflow) itself: it has employees who use their own product a lot, which
the pipeline must recognise as noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ingestion.world import vocab
from ingestion.world.common import Window, ascii_slug, rng_for, weighted_choice


@dataclass
class Companies:
    company_id: list[str]
    name: list[str]
    domain: list[str]
    size: list[str]
    employees: np.ndarray
    industry: list[str]  # HubSpot label
    industry_sf: list[str]  # Salesforce picklist value
    github_org: list[str | None]
    intent: np.ndarray
    outcome: list[str]
    outcome_date: list[dt.date | None]
    is_vendor: np.ndarray
    city: list[str]
    country: list[str]
    utc_offset: np.ndarray  # hours; shifts the time of day their people are active
    founded_year: np.ndarray
    in_hubspot: np.ndarray
    in_salesforce: np.ndarray

    def __len__(self) -> int:
        return len(self.company_id)


def _brand(rng: np.random.Generator) -> str:
    syllables = 1 + int(rng.random() < 0.6)
    word = ""
    for _ in range(syllables):
        word += vocab.BRAND_ONSETS[rng.integers(len(vocab.BRAND_ONSETS))]
        word += vocab.BRAND_VOWELS[rng.integers(len(vocab.BRAND_VOWELS))]
    word += vocab.BRAND_ENDINGS[rng.integers(len(vocab.BRAND_ENDINGS))]
    return word.capitalize()


def _names_and_domains(rng: np.random.Generator, count: int) -> tuple[list[str], list[str], list[str]]:
    """Unique names, domains and slugs; the vendor's own are reserved."""
    names, domains, slugs = [], [], []
    taken_names = {vocab.VENDOR_NAME.lower()}
    taken_domains = {vocab.VENDOR_DOMAIN, "example.com", *vocab.FREE_MAIL_DOMAINS}
    while len(names) < count:
        if rng.random() < 0.6:
            first = vocab.NAME_FIRST[rng.integers(len(vocab.NAME_FIRST))]
            name = f"{first} {vocab.NAME_SECOND[rng.integers(len(vocab.NAME_SECOND))]}"
        else:
            first = _brand(rng)
            name = first if rng.random() < 0.7 else f"{first} {vocab.NAME_SECOND[rng.integers(len(vocab.NAME_SECOND))]}"
        if name.lower() in taken_names:
            continue
        slug = ascii_slug(name)
        tld = vocab.TLDS[weighted_choice(rng, vocab.TLD_WEIGHTS, 1)[0]]
        # Short domains ("bluefin.io") for some two-word names, else the whole slug; "get"/"hq" when taken.
        base = ascii_slug(first) if (" " in name and rng.random() < 0.3) else slug
        for candidate in (f"{base}.{tld}", f"{slug}.{tld}", f"{slug}.com", f"get{slug}.com", f"{slug}hq.com",
                          f"{slug}{len(names)}.com"):
            if candidate not in taken_domains:
                break
        taken_names.add(name.lower())
        taken_domains.add(candidate)
        names.append(name)
        domains.append(candidate)
        slugs.append(slug)
    return names, domains, slugs


def _github_orgs(rng: np.random.Generator, names: list[str], slugs: list[str]) -> list[str | None]:
    orgs: list[str | None] = []
    taken = {vocab.VENDOR_GITHUB_ORG}
    for name, slug in zip(names, slugs):
        if rng.random() < 0.15:  # not every company has a GitHub org
            orgs.append(None)
            continue
        words = [ascii_slug(word) for word in name.split()]
        options = [slug, "-".join(words), f"{slug}hq", f"{slug}-inc", f"{words[0]}-dev", f"{slug}-oss"]
        pick = options[rng.choice(len(options), p=[0.45, 0.2, 0.1, 0.08, 0.07, 0.1])]
        for candidate in (pick, *options, f"{slug}-{len(orgs)}"):
            if candidate.lower() not in taken:
                break
        taken.add(candidate.lower())
        orgs.append(candidate)
    return orgs


def build_companies(seed: int, count: int, window: Window) -> Companies:
    rng = rng_for(seed, "companies")
    customers = count - 1
    names, domains, slugs = _names_and_domains(rng, customers)
    orgs = _github_orgs(rng, names, slugs)

    size_index = weighted_choice(rng, vocab.SIZE_WEIGHTS, customers)
    low = np.array([band[0] for band in vocab.SIZE_EMPLOYEES])[size_index]
    high = np.array([band[1] for band in vocab.SIZE_EMPLOYEES])[size_index]
    # Log-uniform inside the band: many 12-person companies, few 48-person ones.
    employees = np.floor(np.exp(rng.uniform(np.log(low), np.log(high + 1)))).astype("int64")
    industry_index = weighted_choice(rng, vocab.INDUSTRY_WEIGHTS, customers)
    city_index = rng.integers(len(vocab.CITIES), size=customers)
    founded = rng.integers(2006, 2024, size=customers)

    # Latent buying intent: most companies barely care, a few are hot.
    intent = rng.beta(0.55, 2.2, size=customers)
    won_p, lost_p, open_p = 0.6 * intent**2, 0.15 * intent, 0.2 * intent
    draw = rng.random(customers)
    outcome = np.where(draw < won_p, "closed_won",
                       np.where(draw < won_p + lost_p, "closed_lost",
                                np.where(draw < won_p + lost_p + open_p, "open", "none")))
    won_days_before_end = rng.integers(0, 21, size=customers)
    lost_days_before_end = rng.integers(0, 60, size=customers)
    outcome_date: list[dt.date | None] = []
    for index, result in enumerate(outcome.tolist()):
        if result in ("closed_won", "closed_lost"):
            back = won_days_before_end[index] if result == "closed_won" else lost_days_before_end[index]
            outcome_date.append(window.end_date - dt.timedelta(days=min(int(back), window.days - 1)))
        else:
            outcome_date.append(None)

    # CRM covers ~40% of companies: bigger and warmer ones more often; every company with a deal is in it.
    size_bonus = np.array([0.0, 0.0, 0.05, 0.15, 0.25])[size_index]
    in_crm = (rng.random(customers) < np.clip(0.22 + 0.55 * intent + size_bonus, 0, 1)) | (outcome != "none")
    in_hubspot = in_crm & (rng.random(customers) < 0.7)
    in_salesforce = in_crm & (rng.random(customers) < 0.45)
    in_hubspot |= in_crm & ~in_hubspot & ~in_salesforce

    industries = [vocab.INDUSTRIES[i] for i in industry_index.tolist()]
    cities = [vocab.CITIES[i] for i in city_index.tolist()]
    return Companies(
        company_id=[f"c{index:06d}" for index in range(count)],
        name=[vocab.VENDOR_NAME, *names],
        domain=[vocab.VENDOR_DOMAIN, *domains],
        size=["SMALL", *[vocab.SIZES[i] for i in size_index.tolist()]],
        employees=np.concatenate([[38], employees]),
        industry=["Computer Software", *[label for label, _ in industries]],
        industry_sf=["Technology", *[sf for _, sf in industries]],
        github_org=[vocab.VENDOR_GITHUB_ORG, *orgs],
        intent=np.concatenate([[0.0], intent]),
        outcome=["none", *outcome.tolist()],
        outcome_date=[None, *outcome_date],
        is_vendor=np.concatenate([[True], np.zeros(customers, dtype=bool)]),
        city=["Amsterdam", *[city for city, _, _ in cities]],
        country=["Netherlands", *[country for _, country, _ in cities]],
        utc_offset=np.concatenate([[1.0], [offset for _, _, offset in cities]]).astype(float),
        founded_year=np.concatenate([[2021], founded]),
        in_hubspot=np.concatenate([[False], in_hubspot]),
        in_salesforce=np.concatenate([[False], in_salesforce]),
    )


def name_variant(rng: np.random.Generator, name: str, domain: str) -> str:
    """How a person or a CRM user writes a company's name: as is, with a legal suffix, in caps, or as the domain."""
    style = rng.random()
    if style < 0.5:
        return name
    if style < 0.75:
        return name + vocab.LEGAL_SUFFIXES[rng.integers(len(vocab.LEGAL_SUFFIXES))]
    if style < 0.85:
        return name.upper()
    if style < 0.93:
        return name.lower()
    return domain


def website_variant(rng: np.random.Generator, domain: str) -> str:
    options = (f"https://{domain}", f"https://www.{domain}", domain, f"http://{domain}/", f"www.{domain}",
               f"https://{domain}/")
    return options[rng.choice(len(options), p=[0.35, 0.2, 0.2, 0.08, 0.1, 0.07])]
