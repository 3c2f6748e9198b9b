# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host runs, from its groups, and how its memory is shared among it: every role that sizes
itself to the host (base's kernel settings, PostgreSQL's tuning, Redis's maxmemory) reads the
same answer from the inventory. Also which host of a group the inventory names primary, what
kind of disk holds a path, and which PostgreSQL a host's release ships."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.tuning import memory_budget
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import postgresql_major, reads_hostvars_once, services, setting

# The memory each service claims on its hosts, by the variable that sets it (the claim is named
# after the variable, so that a refusal names it). PostgreSQL takes what the others leave.
SERVICE_MEMORY = {"redis": "redis_maxmemory"}


def _claims_of(runs):
    """The services among `runs` that claim memory of their own."""
    return [service for service in runs if service in SERVICE_MEMORY]


def _inventory(hostvars, groups, name):
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError(f"{name} expects a host name, hostvars and groups")


@reads_hostvars_once
def host_services(host, hostvars, groups):
    """The collection's services `host` runs (postgresql, redis, redis_sentinel, minio, wireguard),
    from the groups that postgresql_group and the like name."""
    _inventory(hostvars, groups, "host_services")
    return services(hostvars, groups, host)


@reads_hostvars_once
def memory_plan(total_mb, host, hostvars, groups):
    """memory_budget's split of total_mb for `host`: the claims of the services it runs (Redis's
    redis_maxmemory on a Redis server), then postgresql_memory_claims (services outside the
    collection), and the rest for PostgreSQL when the host runs it."""
    _inventory(hostvars, groups, "memory_plan")
    runs = services(hostvars, groups, host)
    claims = {SERVICE_MEMORY[service]: setting(hostvars, host, SERVICE_MEMORY[service]) for service in _claims_of(runs)}
    others = setting(hostvars, host, "postgresql_memory_claims") or {}
    if not isinstance(others, Mapping):
        raise AnsibleFilterError(f"memory_plan: postgresql_memory_claims {others!r} is not a mapping of service "
                                 "name to size, such as {'minio': '10%'}")
    for name in others:
        if str(name).lower() in _claims_of(runs):
            raise AnsibleFilterError(f"memory_plan: postgresql_memory_claims names {name}, which {host} runs from "
                                     f"the collection; its claim is {SERVICE_MEMORY[str(name).lower()]}. Remove it")
    claims.update(others)
    return memory_budget(total_mb, claims, postgresql="postgresql" in runs)


@reads_hostvars_once
def inventory_primaries(hosts, hostvars, variable):
    """The hosts of `hosts` whose `variable` (such as postgresql_role) is primary, a host without
    it counting as one, in the inventory's order: a group is sound when this holds one host."""
    if not isinstance(hostvars, Mapping) or not isinstance(variable, str):
        raise AnsibleFilterError("inventory_primaries expects a list of hosts, hostvars and a variable name")
    return [host for host in hosts or [] if (hostvars.get(host) or {}).get(variable, "primary") == "primary"]


@reads_hostvars_once
def inventory_primary(hosts, hostvars, variable):
    """The first of inventory_primaries; '' when there is none."""
    if not isinstance(hostvars, Mapping) or not isinstance(variable, str):
        raise AnsibleFilterError("inventory_primary expects a list of hosts, hostvars and a variable name")
    return next(iter(inventory_primaries(hosts, hostvars, variable)), "")


def disk_kind(path, facts):
    """hdd when the disk under `path` spins, else ssd, from the Ansible facts (mounts, devices):
    the longest mount point above the path, its device, and the disk whose name starts that
    device's (sda for sda1, nvme0n1 for nvme0n1p2). A device the facts do not describe (md, dm,
    a container's overlay) counts as ssd."""
    if not isinstance(facts, Mapping):
        raise AnsibleFilterError("disk_kind expects a path and ansible_facts")
    under = str(path).rstrip("/") + "/"
    device = ""
    longest = -1
    for mount in facts.get("mounts") or []:
        point = str(mount.get("mount", ""))
        if under.startswith(point.rstrip("/") + "/") and len(point) > longest:
            longest = len(point)
            device = str(mount.get("device", "")).rsplit("/", 1)[-1]
    disks = [name for name in (facts.get("devices") or {}) if device.startswith(name)]
    if not disks:
        return "ssd"
    disk = max(disks, key=len)
    return "hdd" if str(facts["devices"][disk].get("rotational")) == "1" else "ssd"


class FilterModule:
    """selfhost.stack host filters."""

    def filters(self):
        return {
            "host_services": host_services,
            "memory_plan": memory_plan,
            "inventory_primaries": inventory_primaries,
            "inventory_primary": inventory_primary,
            "disk_kind": disk_kind,
            "postgresql_major": postgresql_major,
        }
