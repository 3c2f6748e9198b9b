# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPN plan as every role reads it, computed from the inventory alone: a role whose service
listens on a VPN address needs the plan whether or not the wireguard role ran in this play, and
the drop-in that starts such a service after its tunnel."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.network import wireguard_plan
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, reads_hostvars_once, setting

# A systemd unit's full name, with its type.
UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@-]+[.](service|socket|mount|target|timer|path)$")

# The settings the plan is computed from, the wireguard role's wireguard_<name>.
PLAN_SETTINGS = ("group", "network", "port", "topology", "hub", "interface", "external_peers")


@reads_hostvars_once
def vpn_plan(host, hostvars, groups):
    """The VPN plan (selfhost.stack.wireguard_plan) of the VPN `host` belongs to or would reach,
    with 'unit': the systemd unit of `host`'s tunnel, or '' when `host` is not a member. Empty
    when there is no VPN or it is inconsistent (the preflight refuses that, naming the variable)."""
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError("vpn_plan expects a host name, hostvars and groups")
    members = group_hosts(hostvars, groups, host, "wireguard_group")
    if not members:
        return {}
    # The VPN's settings are its members' (a host outside the VPN may not set them).
    member = host if host in members else members[0]
    settings = {name: setting(hostvars, member, f"wireguard_{name}") for name in PLAN_SETTINGS}
    plan = wireguard_plan(members, hostvars, settings)
    if plan["errors"]:
        return {}
    unit = f"wg-quick@{settings['interface']}.service" if host in members else ""
    return dict(plan, unit=unit)


# The drop-in that orders a service after its tunnel: the file's name in the unit's drop-in directory.
VPN_DROPIN = "selfhost-after-vpn.conf"


def vpn_dropin(unit, vpn_unit):
    """The entry of module selfhost.stack.files for `unit`'s drop-in that starts it after
    `vpn_unit`, the tunnel it listens on; with an empty `vpn_unit` (the host left the VPN, or the
    service listens on an address of its own) the drop-in is removed, so that the unit no longer
    pulls a tunnel in."""
    for option, name in (("unit", unit), ("vpn_unit", vpn_unit)):
        if not isinstance(name, str) or (name and not UNIT_NAME.match(name)) or (option == "unit" and not name):
            raise AnsibleFilterError(f"vpn_dropin: {option} {name!r} is not a systemd unit name")
    dest = f"/etc/systemd/system/{unit}.d/{VPN_DROPIN}"
    if not vpn_unit:
        return {"dest": dest, "state": "absent"}
    return {"dest": dest, "content": (f"# Managed by selfhost.stack: listens on an address of {vpn_unit}.\n"
                                      f"[Unit]\nWants={vpn_unit}\nAfter={vpn_unit}\n")}


class FilterModule:
    """selfhost.stack VPN plan filters."""

    def filters(self):
        return {"vpn_plan": vpn_plan, "vpn_dropin": vpn_dropin}
