"""The base role refuses bad input before any change, naming the variable.

Runs the role in check mode against this machine: validation is its first step, so a failure
here happens before any task that could change something (and check mode guards the rest).
"""

from __future__ import annotations

import json

import pytest

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGexamplekeyexamplekeyexamplekeyexample alice@laptop"
GOOD = {"base_users": [{"name": "alice", "ssh_keys": [KEY]}], "ansible_user": "alice"}


def run_base(ansible_playbook, tmp_path, variables):
    playbook = tmp_path / "base.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False, "vars": {"ansible_connection": "local"},
        "roles": [{"role": "selfhost.stack.base"}],
    }]))
    return ansible_playbook(playbook, "localhost,", variables, "--check")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"base_ssh_port": 70000}, "base_ssh_port must be 1-65535 (got 70000)"),
        ({"base_ssh_port": "ssh"}, "base_ssh_port"),
        ({"base_unattended_reboot_time": "4am"}, "base_unattended_reboot_time HH:MM (got 4am)"),
        ({"base_timezone": "Mars/Olympus_Mons"}, "base_timezone: 'Mars/Olympus_Mons' is not a time zone"),
        ({"base_users": [{"name": "alice"}]}, "base_users: 'alice' has no ssh_keys"),
        ({"base_users": [{"name": "alice", "ssh_keys": [KEY], "state": "gone"}]}, "base_users"),
        ({"ansible_user": "root"}, "Ansible logs in as 'root', who could not log in after this role"),
        ({"ansible_user": "bob"}, "Ansible logs in as 'bob', who could not log in after this role"),
    ],
    ids=["port-range", "port-type", "reboot-time", "timezone", "user-without-key", "user-state", "root-login",
         "login-not-allowed"],
)
def test_bad_input_fails_before_any_change(ansible_playbook, tmp_path, changes, message):
    result = run_base(ansible_playbook, tmp_path, {**GOOD, **changes})
    assert result.returncode != 0
    assert message in result.stdout
    assert "Install the baseline packages" not in result.stdout
