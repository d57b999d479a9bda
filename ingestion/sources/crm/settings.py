"""CRM export detection: which headers mark which system and entity, and each table's record id."""

CRM_DIR_SETTING = "DEVSIGNAL_CRM_DIR"

FILE_GLOB = "*.csv"

# table -> (record-id header, headers of which at least one must be present); checked in order,
# the first match wins. Headers compare case- and space-insensitively.
HUBSPOT_ID = "Record ID"
# (contacts before companies: a contacts export has a "Company Name" column too)
HUBSPOT_TABLES = (
    ("hubspot_deals", ("Deal Name", "Deal Stage")),
    ("hubspot_contacts", ("Email", "First Name", "Last Name")),
    ("hubspot_companies", ("Company Domain Name", "Company name")),
)
SALESFORCE_TABLES = (
    ("salesforce_opportunities", "Opportunity ID"),
    ("salesforce_contacts", "Contact ID"),
    ("salesforce_accounts", "Account ID"),
)

TABLES = tuple(t for t, _ in HUBSPOT_TABLES) + tuple(t for t, _ in SALESFORCE_TABLES)

# rows per batch handed to dlt
BATCH_ROWS = 20_000
MAX_RAW_CHARS = 20_000
