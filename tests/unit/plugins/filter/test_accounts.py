"""Unit tests for the account filters: which admin users the user module must run for, and their
SSH keys as files."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.accounts import (
    FilterModule, accounts_to_change, authorized_keys_files,
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@laptop"
AS_ASKED = {"home": "/home/admin", "shell": "/bin/bash", "group": "admin", "groups": ["sudo"], "locked": True}


def test_filters_are_registered():
    assert FilterModule().filters() == {"accounts_to_change": accounts_to_change,
                                        "authorized_keys_files": authorized_keys_files}


def test_an_account_as_asked_needs_no_change():
    users = [{"name": "admin", "ssh_keys": [KEY]}, {"name": "gone", "state": "absent"}]
    assert accounts_to_change(users, {"admin": AS_ASKED}) == []


@pytest.mark.parametrize("account", [
    None,
    dict(AS_ASKED, shell="/bin/sh"),
    dict(AS_ASKED, groups=["adm"]),
    dict(AS_ASKED, locked=False),
    # /etc/shadow could not be read: not known to be locked.
    dict(AS_ASKED, locked=None),
])
def test_a_missing_or_different_account_is_changed(account):
    users = [{"name": "admin", "ssh_keys": [KEY]}]
    assert accounts_to_change(users, {"admin": account} if account else {}) == users


def test_a_user_without_sudo_may_lack_the_group_and_keeps_its_shell():
    users = [{"name": "ops", "sudo": False, "shell": "/bin/zsh", "ssh_keys": [KEY]}]
    assert accounts_to_change(users, {"ops": dict(AS_ASKED, shell="/bin/zsh", groups=[])}) == []


def test_a_user_to_remove_is_changed_only_while_it_exists():
    users = [{"name": "gone", "state": "absent"}]
    assert accounts_to_change(users, {}) == []
    assert accounts_to_change(users, {"gone": AS_ASKED}) == users


def test_keys_are_files_in_the_home_host_state_found_or_useradd_gives():
    users = [{"name": "admin", "ssh_keys": [KEY + "\n", "ssh-ed25519 AAAA second"]},
             {"name": "new", "ssh_keys": [KEY]}, {"name": "gone", "state": "absent"}]
    found = {"admin": dict(AS_ASKED, home="/srv/admin/", group="staff")}
    assert authorized_keys_files(users, found) == {
        "directories": [
            {"path": "/srv/admin/.ssh", "owner": "admin", "group": "staff", "mode": "0700"},
            {"path": "/home/new/.ssh", "owner": "new", "group": "new", "mode": "0700"},
        ],
        "files": [
            {"dest": "/srv/admin/.ssh/authorized_keys", "owner": "admin", "group": "staff", "mode": "0600",
             "content": f"{KEY}\nssh-ed25519 AAAA second\n"},
            {"dest": "/home/new/.ssh/authorized_keys", "owner": "new", "group": "new", "mode": "0600",
             "content": f"{KEY}\n"},
        ],
    }


@pytest.mark.parametrize("call", [
    lambda: accounts_to_change("admin", {}),
    lambda: accounts_to_change([{"ssh_keys": []}], {}),
    lambda: authorized_keys_files([{"name": "admin"}], ["admin"]),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(AnsibleFilterError, match="expects base_users"):
        call()
