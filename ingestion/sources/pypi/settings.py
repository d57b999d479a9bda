"""PyPI / pypistats endpoints and defaults. Base URLs come from devsignal.settings at run time."""

PYPISTATS_URL_SETTING = "DEVSIGNAL_PYPISTATS_URL"  # https://pypistats.org
PYPI_URL_SETTING = "DEVSIGNAL_PYPI_URL"  # https://pypi.org
PACKAGES_SETTING = "DEVSIGNAL_PYPI_PACKAGES"

STATS_PATH = "/api/packages/{package}/{kind}"
RELEASES_PATH = "/pypi/{package}/json"

# (kind, query parameters) per pypistats call; `overall` is asked for both mirror settings
STATS_CALLS = (
    ("overall", {"mirrors": "true"}),
    ("overall", {"mirrors": "false"}),
    ("python_major", {}),
    ("system", {}),
)

# pypistats keeps ~180 days and recomputes recent ones: re-write the last few on every run
LAG_DAYS = 3

# optional: a folder of Linehaul / BigQuery `file_downloads` exports (CSV, CSV.gz or Parquet)
FILE_DOWNLOADS_DIR_SETTING = "DEVSIGNAL_PYPI_FILE_DOWNLOADS_DIR"
