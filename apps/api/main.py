"""The intake API (FastAPI). For now: health. Segment-compatible intake lands with the ingestion issue."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI(title="DevSignal intake API", version="0.1.0")


@app.get("/health")
def health() -> JSONResponse:
    """200 when the database answers, 503 (with the reason) when it does not."""
    import sqlalchemy as sa

    from devsignal import db

    try:
        with db.engine().connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # report, don't crash: this is what a load balancer polls
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
