"""A loopback HTTP server that serves a DevSignal world through the real public API shapes.

    from ingestion.sandbox import serve
    with serve(".devsignal/world") as sandbox:
        sandbox.url                       # http://127.0.0.1:43121
        sandbox.settings()                # {"DEVSIGNAL_GITHUB_API_URL": "http://127.0.0.1:43121/github", ...}

See README.md in this folder for the endpoints and the knobs.
"""

from .faults import FaultError
from .github import GitHubLimits
from .segment_replay import ReplayError, ReplaySummary, iter_segment_calls, replay_segment
from .server import PREFIXES, SandboxServer, serve

__all__ = [
    "FaultError",
    "GitHubLimits",
    "PREFIXES",
    "ReplayError",
    "ReplaySummary",
    "SandboxServer",
    "iter_segment_calls",
    "replay_segment",
    "serve",
]
