"""CRM export formats: which headers mark which system and entity, each table's key, the generic
CSV aliases (SPEC-seed §4.6-4.7, with the seed's detection gaps fixed), and reading limits."""

from __future__ import annotations

CRM_DIR_SETTING = "DEVSIGNAL_CRM_DIR"

FILE_GLOB = "*.csv"

FORMATS = ("hubspot", "salesforce", "generic")
ENTITIES = ("contacts", "companies", "deals")

# ---------------------------------------------------------------- tables
# table -> (format, entity); vendor tables keep every export column (labels snake_cased);
# generic tables hold the canonical fields below plus `custom_fields`.
TABLES: dict[str, tuple[str, str]] = {
    "hubspot_contacts": ("hubspot", "contacts"),
    "hubspot_companies": ("hubspot", "companies"),
    "hubspot_deals": ("hubspot", "deals"),
    "salesforce_contacts": ("salesforce", "contacts"),
    "salesforce_accounts": ("salesforce", "companies"),
    "salesforce_opportunities": ("salesforce", "deals"),
    "generic_contacts": ("generic", "contacts"),
    "generic_companies": ("generic", "companies"),
}
TABLE_OF = {value: table for table, value in TABLES.items()}

# ---------------------------------------------------------------- vendor detection
# Headers compare lower-cased with runs of whitespace collapsed (helpers.header_key).
# The record id: HubSpot's is one header for every object; Salesforce's names the object.
HUBSPOT_ID = "record id"
SALESFORCE_IDS = {"opportunity id": "deals", "contact id": "contacts", "account id": "companies"}
ID_WEIGHT = 3

# The seed's marker headers (§4.7: 11 HubSpot, 10 Salesforce), plus the create-date and id-list
# labels each vendor really exports, which tell the two apart better than any of the seed's.
HUBSPOT_MARKERS = (
    "company domain name", "lifecycle stage", "deal name", "deal stage", "associated company", "lead status",
    "phone number", "number of employees", "annual revenue", "state/region", "country/region",
    # added
    "associated company ids", "create date", "deal description",
)
SALESFORCE_MARKERS = (
    "account name", "opportunity name", "lead source", "billing city", "billing state", "billing country",
    "mailing city", "mailing state", "mailing country", "created date",
    # added
    "billing street", "mailing street", "account owner", "contact owner", "opportunity owner",
)

# entity -> {header: weight}, inside a vendor format. (HubSpot contacts exports carry "Company
# Name" and HubSpot companies exports "Phone Number": neither tells the entity.)
HUBSPOT_ENTITY_MARKERS: dict[str, dict[str, int]] = {
    "deals": {"deal name": 2, "deal stage": 2, "pipeline": 1, "amount": 1, "close date": 1,
              "deal description": 1, "deal owner": 1},
    "contacts": {"email": 2, "email address": 2, "e-mail": 2, "e-mail address": 2, "first name": 1,
                 "last name": 1, "job title": 1, "lead status": 1, "contact owner": 1},
    "companies": {"company domain name": 2, "annual revenue": 1, "number of employees": 1, "website url": 1,
                  "industry": 1, "company owner": 1},
}
# A Salesforce id header counts ID_WEIGHT for its entity; "Account ID" counts for accounts only
# when no contact or opportunity id is there (those exports carry it as a foreign key).
SALESFORCE_ENTITY_MARKERS: dict[str, dict[str, int]] = {
    "deals": {"opportunity name": 2, "stage": 1, "amount": 1, "close date": 1, "probability (%)": 1,
              "opportunity owner": 1},
    "contacts": {"email": 2, "email address": 2, "e-mail": 2, "e-mail address": 2, "first name": 1,
                 "last name": 1, "title": 1, "mailing city": 1, "mailing country": 1, "lead source": 1,
                 "contact owner": 1},
    "companies": {"website": 1, "billing city": 1, "billing country": 1, "employees": 1, "industry": 1,
                  "annual revenue": 1, "account owner": 1},
}

# ---------------------------------------------------------------- generic CSV (§4.6)
# canonical column -> header aliases (compared after header_key, with `_` read as a space)
GENERIC_CONTACT_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "full_name": ("name", "full name", "fullname", "contact name", "contact"),
    "email": ("email", "email address", "e-mail", "e-mail address", "mail"),
    "phone": ("phone", "phone number", "work phone"),
    "mobile": ("mobile", "mobile phone", "cell", "cell phone"),
    "title": ("title", "job title", "position", "role"),
    "company_name": ("company", "company name", "organization", "organisation", "account name"),
    "linkedin": ("linkedin", "linkedin url", "linkedin profile"),
    "twitter": ("twitter", "twitter handle", "twitter url"),
    "github": ("github", "github username", "github url"),
    "notes": ("notes", "description", "comments"),
    "address": ("address", "street", "street address"),
    "city": ("city",),
    "state": ("state", "province", "region", "state/region"),
    "postal_code": ("zip", "postal code", "zip code", "zipcode", "postcode"),
    "country": ("country", "country/region"),
}
GENERIC_COMPANY_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "company name", "company", "organization", "organisation", "account name"),
    "domain": ("domain", "website domain", "company domain", "company domain name"),
    "website": ("website", "url", "company url", "website url"),
    "industry": ("industry", "sector"),
    "size": ("size", "company size", "employees", "number of employees", "employee count", "headcount"),
    "email": ("email", "company email"),
    "phone": ("phone", "company phone", "phone number"),
    "linkedin": ("linkedin", "linkedin url", "linkedin company page"),
    "twitter": ("twitter", "twitter handle", "twitter url"),
    "github_org": ("github", "github org", "github organization", "github organisation"),
    "description": ("description", "about", "notes"),
    "address": ("address", "street", "street address"),
    "city": ("city",),
    "state": ("state", "province", "region", "state/region"),
    "postal_code": ("zip", "postal code", "zip code", "zipcode", "postcode"),
    "country": ("country", "country/region"),
}
GENERIC_FIELDS = {"contacts": GENERIC_CONTACT_FIELDS, "companies": GENERIC_COMPANY_FIELDS}
# fields that only one of the two entities has: they decide the entity (email weighs 2)
GENERIC_ENTITY_WEIGHTS: dict[str, dict[str, int]] = {
    "contacts": {"email": 2, "first_name": 1, "last_name": 1, "full_name": 1, "title": 1, "mobile": 1},
    "companies": {"domain": 2, "website": 1, "industry": 1, "size": 1, "github_org": 1},
}
# the generic tables' keys, computed by the loader (a generic export has no record id):
# contacts -> lower(trim(email)); companies -> lower(name) with whitespace collapsed, else the domain/website
GENERIC_KEYS = {"contacts": "contact_key", "companies": "company_key"}

# ---------------------------------------------------------------- reading
# below this, a file is "not recognised" (folder mode) or needs --format (import-crm)
MIN_CONFIDENCE = 0.5
# bytes read to pick the encoding and the delimiter
SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
# rows per Arrow batch handed to dlt
BATCH_ROWS = 10_000
# longest raw text kept in the quarantine, and the longest physical line read
MAX_RAW_CHARS = 20_000
MAX_LINE_BYTES = 16 * 1024 * 1024

# loader-owned columns in every table: lineage and the per-row flags. They never count as schema drift.
SYSTEM_COLUMNS = ("_source_file", "_source_line", "_encoding", "_has_formula")
# rows per parquet file handed to the load step (dlt's ADBC job reads a whole file into memory)
FILE_ROWS = 50_000
# how the load step runs this pipeline's jobs: one table's files one after another. dlt's ADBC job
# holds a whole parquet file (and a connection) in memory: 20 in parallel (dlt's default) peaked
# ~530 MB over baseline on a 1M-row export, one at a time ~120 MB, in about the same time (the
# merge that follows is one statement anyway).
LOAD_PARALLELISM = "table-sequential"
