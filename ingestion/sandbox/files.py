"""The two file-shaped sources: CRM export files and the Segment archive, served from the world folder.

Neither has a public HTTP API to imitate (the connectors read them as files: DEVSIGNAL_CRM_DIR and
DEVSIGNAL_SEGMENT_ARCHIVE_DIR), so the sandbox only serves the bytes as they are on disk, plus a JSON
listing of what is there: {"files": [{"path", "size", "url"}]}.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

from .web import Request, Response, json_response

CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/gzip",
}


class FileFolder:
    """Serve every file under `folder` below `/<prefix>/`, and list them at `/<prefix>/`."""

    def __init__(self, folder: Path, pattern: str = "**/*"):
        self.folder = folder
        self.pattern = pattern

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob(self.pattern) if p.is_file())

    def handle(self, request: Request) -> Response:
        relative = unquote(request.path).strip("/")
        if relative == "":
            return self.listing(request)
        path = (self.folder / relative).resolve()
        # Refuse anything that escapes the folder (`..`, absolute paths, symlinks out).
        if not path.is_file() or not path.is_relative_to(self.folder.resolve()):
            return json_response(404, {"error": f"no such file: {relative}"})
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return Response(200, path.read_bytes(), {"Content-Type": content_type})

    def listing(self, request: Request) -> Response:
        entries = []
        for path in self.files():
            relative = path.relative_to(self.folder).as_posix()
            entries.append({"path": relative, "size": path.stat().st_size,
                            "url": f"{request.base_url}/{quote(relative)}"})
        return json_response(200, {"files": entries})


def segment_files_in_order(archive_dir: Path) -> list[Path]:
    """archive/YYYY/MM/DD/<n>.json.gz sorted by day, then by n as a number (10 after 9)."""
    def key(path: Path) -> tuple:
        relative = path.relative_to(archive_dir).parts
        number = path.name.split(".", 1)[0]
        return (*relative[:-1], (0, int(number), "") if number.isdigit() else (1, 0, number))
    return sorted(archive_dir.glob("*/*/*/*.json.gz"), key=key)
