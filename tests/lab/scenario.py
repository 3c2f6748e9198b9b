"""Helpers the molecule scenarios' tests share (molecule/conftest.py puts them on the path)."""

from __future__ import annotations

import os
import re
import subprocess
import time

import testinfra


def on(name):
    """The scenario's container `name`, as a testinfra host."""
    return testinfra.get_host(f"docker://{name}")


def eventually(check, seconds=40, interval=2):
    """check() until it is true or `seconds` pass; whether it became true."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def playbook(path, *options, inventory=None):
    """Runs a playbook against the scenario's inventory (or `inventory`), as molecule runs converge.

    `path` is relative to the scenario's directory (converge.yml, ../../playbooks/...)."""
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory or os.environ["MOLECULE_INVENTORY_FILE"]), *options,
         os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], path)],
        cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], capture_output=True, text=True, timeout=900, check=False,
        env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"),
    )


def words(result):
    """A playbook's output and errors with line wrapping undone (YAML output wraps long messages)."""
    return " ".join((result.stdout + result.stderr).split())


def changed_counts(output):
    """Each host's changed= count from a playbook's recap."""
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}
