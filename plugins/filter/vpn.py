# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPN plan as every role reads it, computed from the inventory alone: a role whose service
listens on a VPN address needs the plan whether or not the wireguard role ran in this play."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.network import wireguard_plan
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, reads_hostvars_once, setting

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


class FilterModule:
    """selfhost.stack VPN plan filter."""

    def filters(self):
        return {"vpn_plan": vpn_plan}
