# One image for every DevSignal service; docker-compose.yml picks the command.
FROM python:3.11-slim
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY devsignal devsignal
COPY ingestion ingestion
COPY orchestration orchestration
COPY apps apps
COPY dbt_project dbt_project
COPY workspace.yaml dagster.yaml ./
ENV UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH DAGSTER_HOME=/opt/dagster
RUN uv sync --locked --no-dev && mkdir -p /opt/dagster && cp dagster.yaml /opt/dagster/
