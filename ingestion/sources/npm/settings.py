"""npm endpoints and defaults. Base URLs come from devsignal.settings at run time."""

API_URL_SETTING = "DEVSIGNAL_NPM_API_URL"  # https://api.npmjs.org
REGISTRY_URL_SETTING = "DEVSIGNAL_NPM_REGISTRY_URL"  # https://registry.npmjs.org
PACKAGES_SETTING = "DEVSIGNAL_NPM_PACKAGES"

RANGE_PATH = "/downloads/range/{start}:{end}/{package}"
POINT_LAST_WEEK_PATH = "/downloads/point/last-week/{package}"
VERSIONS_LAST_WEEK_PATH = "/versions/{package}/last-week"
REGISTRY_DOC_PATH = "/{package}"

# npm answers at most 18 months per range query (longer ones are clamped: 200 with a later
# `start`); stay safely inside it. 18 months are at least 546 days.
MAX_RANGE_DAYS = 540
# npm has no download counts before this day: a range starting earlier answers from here on
EARLIEST_DATA = "2015-01-10"
# a window npm clamps anyway is re-asked in halves, at most this many times over
MAX_CLAMP_SPLITS = 4
# npm recomputes the last couple of days: re-read them on every run (merge overwrites).
LAG_DAYS = 3
# first run without DEVSIGNAL_START_DATE reads this many days back
DEFAULT_BACKFILL_DAYS = 90
