"""Settings: one list, documented everywhere, URLs understood in every shape."""

from devsignal import settings
from devsignal.settings import parse_pg_url


def test_env_example_lists_every_setting():
    text = (settings.REPO_ROOT / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert names == set(settings.SETTINGS)


def test_readme_documents_every_setting():
    readme = (settings.REPO_ROOT / "README.md").read_text()
    missing = [name for name in settings.SETTINGS if f"`{name}`" not in readme]
    assert not missing


def test_socket_url_round_trips_for_libpq_and_sqlalchemy():
    params = parse_pg_url("postgresql://postgres:@/devsignal?host=/tmp/pg%20data&port=5433")
    assert (params.host, params.port, params.dbname, params.password) == ("/tmp/pg data", 5433, "devsignal", "")
    assert params.sqlalchemy_url("dagster").startswith("postgresql+psycopg2://postgres:@/dagster?host=/tmp/pg data")
    assert parse_pg_url(params.url()).host == "/tmp/pg data"


def test_tcp_url_with_password():
    params = parse_pg_url("postgresql://ds:s%40cret@db.internal:6543/analytics")
    assert (params.host, params.port, params.user, params.password, params.dbname) == (
        "db.internal", 6543, "ds", "s@cret", "analytics")
    assert params.url() == "postgresql://ds:s%40cret@db.internal:6543/analytics"
    assert parse_pg_url(params.url()) == params


def test_settings_are_read_at_call_time(monkeypatch):
    monkeypatch.setenv("DEVSIGNAL_GITHUB_REPOS", " acme/one , acme/two ,,")
    assert settings.get_list("DEVSIGNAL_GITHUB_REPOS") == ["acme/one", "acme/two"]
    monkeypatch.setenv("DEVSIGNAL_GITHUB_REPOS", "")
    assert settings.get_list("DEVSIGNAL_GITHUB_REPOS") == []


def test_dotenv_never_overrides_the_environment(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nDEVSIGNAL_PYPI_PACKAGES='acme'\nDEVSIGNAL_NPM_PACKAGES=from-file\n")
    monkeypatch.setenv("DEVSIGNAL_NPM_PACKAGES", "from-env")
    monkeypatch.delenv("DEVSIGNAL_PYPI_PACKAGES", raising=False)
    settings.load_dotenv(env_file)
    assert settings.get("DEVSIGNAL_PYPI_PACKAGES") == "acme"
    assert settings.get("DEVSIGNAL_NPM_PACKAGES") == "from-env"
