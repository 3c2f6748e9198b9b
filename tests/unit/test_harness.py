"""The test harness: every molecule scenario starts from new containers, whatever an earlier run left."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED = yaml.safe_load((REPO / ".config/molecule/config.yml").read_text())
SCENARIOS = sorted(p.parent for p in (REPO / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_every_scenario_destroys_first_and_last_with_the_shared_destroy(scenario):
    own = yaml.safe_load((scenario / "molecule.yml").read_text()) or {}
    # molecule merges the shared config under the scenario's own: a scenario may override both.
    sequence = own.get("scenario", {}).get("test_sequence", SHARED["scenario"]["test_sequence"])
    destroy = own.get("provisioner", {}).get("playbooks", {}).get(
        "destroy", SHARED["provisioner"]["playbooks"]["destroy"])
    assert sequence[0] == "destroy" and sequence[-1] == "destroy", sequence
    assert destroy == "../../tests/lab/molecule-destroy.yml"
