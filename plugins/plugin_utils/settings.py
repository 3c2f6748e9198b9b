# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's role settings as the inventory gives them, for filters that look across
hosts and roles (the firewall's openings, the VPN plan): a host's own value of a role's variable,
else the role's default, read from the role's defaults/main.yml, so that a default is written
in one place only."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from pathlib import Path

import yaml

from ansible.errors import AnsibleFilterError

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


@functools.lru_cache(maxsize=None)
def role_defaults(role):
    """The defaults of the collection's role `role`."""
    return yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text()) or {}


class HostvarsOnce(Mapping):
    """hostvars whose hosts are each read once. Ansible's hostvars computes all of a host's
    variables anew at each hostvars[host] (facts copied, every source merged), so a filter that
    reads ten settings of four hosts would otherwise compute them forty times."""

    def __init__(self, hostvars):
        self._hostvars = hostvars
        self._read = {}

    def __getitem__(self, host):
        if host not in self._read:
            self._read[host] = self._hostvars[host]
        return self._read[host]

    def __contains__(self, host):
        return host in self._hostvars

    def __iter__(self):
        return iter(self._hostvars)

    def __len__(self):
        return len(self._hostvars)


def reads_hostvars_once(function):
    """Decorates a filter so that its argument `hostvars` reads each host once (HostvarsOnce)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        hostvars = bound.arguments.get("hostvars")
        if isinstance(hostvars, Mapping) and not isinstance(hostvars, HostvarsOnce):
            bound.arguments["hostvars"] = HostvarsOnce(hostvars)
        return function(*bound.args, **bound.kwargs)

    return wrapper


def setting(hostvars, host, name):
    """The value of role variable `name` (its role is the name's first word) for `host`."""
    defaults = role_defaults(name.split("_", 1)[0])
    if name not in defaults:
        raise AnsibleFilterError(f"{name} is not a variable of the collection's roles")
    variables = hostvars.get(host) if isinstance(hostvars, Mapping) else None
    if variables is not None and name in variables:
        return variables[name]
    if isinstance(defaults[name], str) and "{{" in defaults[name]:
        raise AnsibleFilterError(f"{name}: its default is a template, which only its role can resolve")
    return defaults[name]


# The collection's services, each with the role variable that names its group.
SERVICE_GROUPS = {
    "postgresql": "postgresql_group",
    "redis": "redis_group",
    "redis_sentinel": "redis_sentinel_group",
    "minio": "minio_group",
    "wireguard": "wireguard_group",
}


def group_hosts(hostvars, groups, host, variable):
    """The hosts of the group that `host`'s role variable `variable` (such as redis_group) names."""
    return list(groups.get(setting(hostvars, host, variable)) or [])


def services(hostvars, groups, host):
    """The collection's services `host` runs: those whose group holds it."""
    return [service for service, variable in SERVICE_GROUPS.items()
            if host in group_hosts(hostvars, groups, host, variable)]


# PostgreSQL's major version where Debian or Ubuntu ship it; the PGDG repository
# (postgresql_pgdg) takes postgresql_version instead.
POSTGRESQL_DISTRIBUTION_MAJORS = {"Debian 12": 15, "Debian 13": 17, "Ubuntu 22": 14, "Ubuntu 24": 16}


def postgresql_major(facts, pgdg, version):
    """The major version the postgresql role installs on a host with these facts: `version` from
    the PGDG repository, else the distribution's own; 0 when the distribution ships none."""
    if pgdg:
        return int(version or 0)
    facts = facts if isinstance(facts, Mapping) else {}
    release = f"{facts.get('distribution', '')} {facts.get('distribution_major_version', '')}"
    return POSTGRESQL_DISTRIBUTION_MAJORS.get(release, 0)
