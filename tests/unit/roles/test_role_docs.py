"""Each role's README, defaults and argument_specs describe the same variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLES = sorted(p.parent.parent for p in Path(__file__).resolve().parents[3].glob("roles/*/meta/argument_specs.yml"))


def spec_options(role):
    specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]
    return {name: option for entry in specs.values() for name, option in entry.get("options", {}).items()}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_readme_lists_exactly_the_specified_variables(role):
    documented = set(re.findall(r"^\| `(\w+)` \|", (role / "README.md").read_text(), re.MULTILINE))
    assert documented == set(spec_options(role))


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_the_specified_defaults(role):
    defaults_file = role / "defaults/main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    specified = {name: option["default"] for name, option in spec_options(role).items() if "default" in option}
    assert defaults == specified


def test_every_role_has_argument_specs():
    roles_dir = Path(__file__).resolve().parents[3] / "roles"
    assert {r.name for r in ROLES} == {p.name for p in roles_dir.iterdir() if p.is_dir()}
