# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backups' hosts from the inventory: who runs pgBackRest, and whether they can agree on its
version (pgBackRest refuses to talk to another version)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, setting


def _inventory(hostvars, groups, name):
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError(f"{name} expects a host name, hostvars and groups")


def pgbackrest_hosts(host, hostvars, groups):
    """The hosts that run pgBackRest: those of the group postgresql_group names, then those of
    backup_repository_group's, each once, as `host`'s variables name the groups."""
    _inventory(hostvars, groups, "pgbackrest_hosts")
    hosts = group_hosts(hostvars, groups, host, "postgresql_group")
    hosts += group_hosts(hostvars, groups, host, "backup_repository_group")
    return list(dict.fromkeys(hosts))


def _release(host, hostvars, pgdg_hosts):
    """Where `host`'s pgBackRest comes from, such as 'Debian 12', or None when its facts are unknown."""
    facts = (hostvars.get(host) or {}).get("ansible_facts") or {}
    if not facts.get("distribution") or not facts.get("distribution_major_version"):
        return None
    release = f"{facts['distribution']} {facts['distribution_major_version']}"
    return release + " with the PGDG repository (postgresql_pgdg)" if host in pgdg_hosts else release


def pgbackrest_release_errors(host, hostvars, groups):
    """A sentence naming the hosts of each release when the pgBackRest hosts (pgbackrest_hosts)
    run more than one, whose packages bring different pgBackRest versions; else nothing. The
    PostgreSQL role's PGDG repository brings its own version. A host without facts (outside the
    run, not in the fact cache) is left out."""
    hosts = pgbackrest_hosts(host, hostvars, groups)
    pgdg_hosts = {name for name in group_hosts(hostvars, groups, host, "postgresql_group")
                  if setting(hostvars, name, "postgresql_pgdg")}
    releases = {}
    for name in hosts:
        release = _release(name, hostvars, pgdg_hosts)
        if release:
            releases.setdefault(release, []).append(name)
    if len(releases) < 2:
        return []
    found = "; ".join(f"{release} on {', '.join(names)}" for release, names in releases.items())
    return [f"backup_repository_group: pgBackRest must be one version on the database hosts and the repository "
            f"host, and each release's packages bring their own ({found}). Keep them on one release"]


class FilterModule:
    """selfhost.stack backup filters."""

    def filters(self):
        return {"pgbackrest_hosts": pgbackrest_hosts, "pgbackrest_release_errors": pgbackrest_release_errors}
