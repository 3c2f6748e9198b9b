# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin users base keeps, against the accounts host_state found: which accounts differ (the
only ones the user module is run for), and each present user's SSH keys as files, written with
the role's other files in one module run."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DEFAULT_SHELL = "/bin/bash"


def _arguments(users, found, name):
    if not isinstance(users, list) or not all(isinstance(user, Mapping) and "name" in user for user in users) \
            or not isinstance(found, Mapping):
        raise AnsibleFilterError(f"{name} expects base_users and host_state's users")


def _present(user):
    return user.get("state", "present") != "absent"


def accounts_to_change(users, found):
    """The users of `users` (base_users) whose account is not as asked: a user to remove that
    exists; a user to keep that is missing, has another shell, lacks the sudo group it should be
    in, or has a password that is not locked (or not known to be)."""
    _arguments(users, found, "accounts_to_change")
    changes = []
    for user in users:
        account = found.get(user["name"])
        if not _present(user):
            differs = account is not None
        else:
            differs = (account is None
                       or account.get("shell") != user.get("shell", DEFAULT_SHELL)
                       or (user.get("sudo", True) and "sudo" not in account.get("groups", []))
                       or account.get("locked") is not True)
        if differs:
            changes.append(user)
    return changes


def authorized_keys_files(users, found):
    """The .ssh directory and authorized_keys file of each user to keep, as the files module takes
    them: exactly the listed keys, the user's own. A user not made yet (check mode) is shown at
    /home/<name> with a group of its name; the role reads a user it made again before this."""
    _arguments(users, found, "authorized_keys_files")
    directories, files = [], []
    for user in filter(_present, users):
        account = found.get(user["name"]) or {}
        home = account.get("home") or f"/home/{user['name']}"
        owner = {"owner": user["name"], "group": account.get("group") or user["name"]}
        directories.append(dict(owner, path=f"{home.rstrip('/')}/.ssh", mode="0700"))
        keys = "".join(f"{key.strip()}\n" for key in user.get("ssh_keys", []))
        files.append(dict(owner, dest=f"{home.rstrip('/')}/.ssh/authorized_keys", content=keys, mode="0600"))
    return {"directories": directories, "files": files}


class FilterModule:
    """selfhost.stack account filters."""

    def filters(self):
        return {"accounts_to_change": accounts_to_change, "authorized_keys_files": authorized_keys_files}
