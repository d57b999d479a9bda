"""Segment archive layout and table routing."""

ARCHIVE_DIR_SETTING = "DEVSIGNAL_SEGMENT_ARCHIVE_DIR"

# archive/YYYY/MM/DD/<n>.json.gz (plain .json / .jsonl read too; gzip is detected by its magic bytes)
FILE_SUFFIXES = (".gz", ".json", ".jsonl", ".ndjson")

# Segment call type -> table
TABLES = {
    "identify": "identifies",
    "track": "tracks",
    "group": "groups",
    "page": "pages",
    "screen": "screens",
    "alias": "aliases",
}

# top-level fields kept as text whatever their JSON type (ids are sometimes numbers)
TEXT_FIELDS = ("message_id", "type", "user_id", "anonymous_id", "group_id", "previous_id", "event", "name",
               "category", "channel", "project_id", "write_key", "version")
# top-level timestamps parsed to timestamptz
TIMESTAMP_FIELDS = ("timestamp", "sent_at", "received_at", "original_timestamp")

# rows per Arrow batch handed to dlt
BATCH_ROWS = 50_000
# longest raw line kept in the quarantine
MAX_RAW_CHARS = 20_000
# inbox rows read per query (the inbox path logs its progress after each)
INBOX_CHUNK_ROWS = 10_000
