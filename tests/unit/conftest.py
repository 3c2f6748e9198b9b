"""Shared helpers for tests that run the collection's playbooks and roles on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ansible_playbook():
    """Runs ansible-playbook from the repository root (so ansible.cfg applies) and returns the result.

    Variables go in as extra vars; the controller's own Python runs the modules, whatever
    interpreter discovery would find on this machine.
    """

    def run(playbook, inventory, variables, *options):
        extra = {"ansible_python_interpreter": sys.executable, **variables}
        env = dict(os.environ, ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1")
        return subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), *options, "-i", str(inventory),
             "-e", json.dumps(extra), str(playbook)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )

    return run


@pytest.fixture
def role_check(ansible_playbook, tmp_path):
    """Runs a role of the collection in check mode on host `box` (this machine) of an inventory
    made of `groups` (group name to its hosts and their variables); returns the result."""

    def run(role, groups, variables):
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(json.dumps({"all": {"children": {name: {"hosts": hosts} for name, hosts in groups.items()}}}))
        playbook = tmp_path / "play.yml"
        playbook.write_text(json.dumps([{"hosts": "box", "roles": [{"role": f"selfhost.stack.{role}"}]}]))
        return ansible_playbook(playbook, inventory, variables, "--check")

    return run
