"""docker-compose.yml: no Docker engine runs here, so check the file itself and its commands."""

import shlex
import subprocess

import yaml

from devsignal import services, settings

EXPECTED_SERVICES = {"postgres", "dagster-code", "dagster-webserver", "dagster-daemon", "api", "crm"}


def load_compose() -> dict:
    return yaml.safe_load((settings.REPO_ROOT / "docker-compose.yml").read_text())


def test_compose_names_every_service():
    assert EXPECTED_SERVICES <= set(load_compose()["services"])


def test_each_project_service_command_exists_in_the_project():
    from click.testing import CliRunner

    from devsignal.cli import main

    venv_bin = settings.REPO_ROOT / ".venv" / "bin"
    for name, service in load_compose()["services"].items():
        if "image" in service and "build" not in service:
            continue  # upstream images (postgres)
        command = service["command"]
        command = shlex.split(command) if isinstance(command, str) else command
        assert (venv_bin / command[0]).exists(), f"{name}: {command[0]} is not installed by the project"
        if command[0] == "devsignal":  # a subcommand of ours: it must exist and take these options
            result = CliRunner().invoke(main, [*command[1:2], "--help"])
            assert result.exit_code == 0, f"{name}: devsignal {command[1]} — {result.output}"
        else:
            subcommands = []
            for part in command[1:]:
                if part.startswith("-"):
                    break
                subcommands.append(part)
            result = subprocess.run([str(venv_bin / command[0]), *subcommands, "--help"],
                                                   capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, f"{name}: {command[0]} --help failed"
            for flag in (part for part in command[1:] if part.startswith("--")):
                assert flag in result.stdout, f"{name}: {command[0]} has no {flag}"


def test_every_project_service_reaches_the_compose_database():
    compose = load_compose()
    for name, service in compose["services"].items():
        if name == "postgres":
            continue
        url = service["environment"]["DEVSIGNAL_DATABASE_URL"]
        assert "@postgres:5432/" in url, name


def test_up_runs_the_same_dagster_programs_locally():
    local = {command[0].rsplit("/", 1)[-1] for command in services.service_commands().values()}
    compose = {load_compose()["services"][name]["command"][0] for name in ("dagster-webserver", "dagster-daemon")}
    assert compose <= local
