# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a run reaches its host over SSH, so that its own login and port must survive."""

from __future__ import annotations

# The connection plugins that log in over SSH, as ansible_connection may name them.
SSH_CONNECTIONS = {
    "ssh", "ansible.builtin.ssh", "ansible.legacy.ssh", "smart",
    "paramiko", "paramiko_ssh", "ansible.builtin.paramiko_ssh", "ansible.legacy.paramiko_ssh",
}


def ssh_connection(value):
    """True when value (an ansible_connection) logs in over SSH."""
    return str(value) in SSH_CONNECTIONS


class TestModule:
    """selfhost.stack tests."""

    def tests(self):
        return {"ssh_connection": ssh_connection}
