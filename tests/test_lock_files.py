"""requirements.lock (the image) and requirements-dev.lock (.venv and CI) pin every dependency
pyproject.toml declares, at versions it allows, the same in both, and are what gets installed."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        pytest.param("requirements.lock", PROJECT["dependencies"], id="runtime"),
        pytest.param("requirements-dev.lock",
                     PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"], id="dev"),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, declared: list[str]) -> None:
    pins = _pins(lock)
    for requirement in map(Requirement, declared):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {requirement}: run `make lock`"
        )


def test_the_image_and_ci_get_the_same_runtime_versions() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v} == {}


def test_the_image_and_the_makefile_install_from_the_locks() -> None:
    assert "pip install --no-cache-dir -r requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "pip install --quiet -c requirements-dev.lock -e '.[dev]'" in (ROOT / "Makefile").read_text()


def test_this_environment_is_the_locked_one() -> None:
    drift = {}
    for name, version in _pins("requirements-dev.lock").items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            drift[name] = (version, installed)
    assert drift == {}, "the .venv differs from requirements-dev.lock: rm .venv/.installed-stamp; make"
