# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory checks that span hosts: what one host's argument spec cannot see."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import reads_hostvars_once, setting

# The role variable that names a service's group (the inventory may rename it), the host variable
# that gives a member its part, the parts allowed, and how many members must take the first part.
SERVICE_PARTS = {
    "postgresql_group": ("postgresql_role", ("primary", "standby"), 1),
}

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _is_host_name(name):
    """True for an RFC 1123 host name (lower case): what a host's name may be set to."""
    return len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))


@reads_hostvars_once
def topology_errors(groups, hostvars):
    """Return every inconsistency in the inventory as a sentence naming the variable."""
    if not isinstance(groups, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("topology_errors expects the 'groups' and 'hostvars' mappings")
    errors = []
    hosts = sorted(groups.get("all", []))

    for host in hosts:
        if not _is_host_name(host):
            errors.append(
                f"inventory host '{host}': the name becomes the host name, so it must be lower-case "
                "letters, digits and hyphens in dot-separated labels of at most 63 characters"
            )

    owner_of_address = {}
    for host in hosts:
        address = hostvars.get(host, {}).get("ansible_host")
        if address is None:
            continue
        if address in owner_of_address:
            errors.append(
                f"ansible_host: '{host}' and '{owner_of_address[address]}' both point at {address}; "
                "one machine is one inventory host (put it in several groups instead)"
            )
        else:
            owner_of_address[address] = host

    for group_variable, (variable, parts, leaders) in SERVICE_PARTS.items():
        group = setting(hostvars, hosts[0], group_variable) if hosts else ""
        members = set(groups.get(group, []))
        for host in hosts:
            part = hostvars.get(host, {}).get(variable)
            if host not in members:
                if part is not None:
                    errors.append(f"{variable}: '{host}' sets it but is not in group '{group}'")
            elif part not in parts:
                errors.append(
                    f"{variable}: '{host}' is in group '{group}' and needs {variable} set to one of "
                    f"{', '.join(parts)} (got {part!r})"
                )
        first = sorted(h for h in members if hostvars.get(h, {}).get(variable) == parts[0])
        if members and len(first) != leaders:
            errors.append(
                f"{variable}: group '{group}' needs exactly {leaders} host with "
                f"{variable}={parts[0]}, found {len(first)}" + (f" ({', '.join(first)})" if first else "")
            )
    return errors


class FilterModule:
    """selfhost.stack inventory filters."""

    def filters(self):
        return {"topology_errors": topology_errors}
