"""docker-compose.yml parses and names only commands the project has.

No Docker engine runs here, so the file is checked statically: YAML, services, and that every
command is a console script of pyproject.toml or a `python -m runner` service name.
"""

import tomllib
from pathlib import Path

import yaml

from runner.embedded import SERVICES

ROOT = Path(__file__).resolve().parents[3]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_brokers_databases_services_and_gateway():
    services = _compose()["services"]
    assert {"rabbitmq", "postgres", "migrate", "auth", "quota", "gateway"} <= set(services)


def test_every_command_exists_in_the_project():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if command is None:
            assert "image" in service, f"{name} has neither an image nor a command"
            continue
        if command[:3] == ["python", "-m", "runner"]:
            targets = [arg for arg in command[3:] if not arg.startswith("--")]
            assert targets and set(targets) <= set(SERVICES), (name, command)
        else:
            assert command[0] in scripts, (name, command)


def test_build_files_exist():
    for name, service in _compose()["services"].items():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
