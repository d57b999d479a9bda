"""`devsignal up` starts every service against one database and each answers on its URL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devsignal import services

pytestmark = pytest.mark.slow

URLS = {
    "dagster": f"http://127.0.0.1:{services.DAGSTER_PORT}/server_info",
    "api": f"http://127.0.0.1:{services.API_PORT}/health",
    "crm": f"http://127.0.0.1:{services.CRM_PORT}/_stcore/health",
}


def _wait_for(url: str, deadline: float) -> int:
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=2).status_code
        except requests.ConnectionError:
            time.sleep(0.5)
    return 0


def test_up_serves_dagster_api_and_crm_then_stops_them_all():
    process = subprocess.Popen([str(Path(sys.executable).parent / "devsignal"), "up", "--no-sandbox"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 120
        statuses = {name: _wait_for(url, deadline) for name, url in URLS.items()}
        assert statuses == {"dagster": 200, "api": 200, "crm": 200}
        # the webserver reads the same instance: the asset graph and the dagster database
        graph = requests.post(f"http://127.0.0.1:{services.DAGSTER_PORT}/graphql", timeout=30, json={
            "query": "{ assetNodes { assetKey { path } } instance { runLauncher { name } } }"}).json()
        keys = {tuple(node["assetKey"]["path"]) for node in graph["data"]["assetNodes"]}
        assert ("raw", "github", "stargazers") in keys and ("marts", "fct_account_scores_daily") in keys
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert "Dagster UI" in output and "CRM" in output
    for url in URLS.values():  # nothing left listening
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
