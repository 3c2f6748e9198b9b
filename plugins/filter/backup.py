# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backups' hosts from the inventory: who runs pgBackRest, and whether they can agree on its
version (pgBackRest refuses to talk to another version)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, postgresql_major, setting

# The system user pgBackRest runs as: the repository's own on the repository host, PostgreSQL's
# on the database hosts (it reads the data directory).
REPOSITORY_USER = "pgbackrest"
DATABASE_USER = "postgres"


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


def _data_directory(database, hostvars, facts):
    """Where the postgresql role puts `database`'s cluster: the data root, its major version,
    main. A host whose facts are unknown (outside a --limit run) runs the release of the host
    asking, since pgbackrest_release_errors refuses a mix."""
    database_facts = (hostvars.get(database) or {}).get("ansible_facts") or facts
    major = postgresql_major(database_facts, setting(hostvars, database, "postgresql_pgdg"),
                             setting(hostvars, database, "postgresql_version"))
    return f"{str(setting(hostvars, database, 'postgresql_data_root')).rstrip('/')}/{major}/main"


def pgbackrest_plan(host, hostvars, groups, addresses, facts=None):
    """What `host` does for pgBackRest, from the inventory: its part (repository, database, or
    '' for neither or when there is no repository host), the user it runs as, the address its
    TLS server listens on, the peers whose certificates it accepts (their inventory names, the
    certificates' common names), the repository host, the database hosts with the address, data
    directory and port the repository host reaches each at, and `host`'s own among them. `addresses` maps each
    pgBackRest host to its private address (service_addresses); `facts` are `host`'s own."""
    _inventory(hostvars, groups, "pgbackrest_plan")
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError("pgbackrest_plan expects the pgBackRest hosts' addresses")
    repositories = group_hosts(hostvars, groups, host, "backup_repository_group")
    databases = group_hosts(hostvars, groups, host, "postgresql_group")
    repository = repositories[0] if repositories else ""
    if host == repository:
        part, user, peers = "repository", REPOSITORY_USER, databases
    elif repository and host in databases:
        part, user, peers = "database", DATABASE_USER, [repository]
    else:
        part, user, peers = "", "", []
    plans = [{"host": name, "address": addresses.get(name, ""), "path": _data_directory(name, hostvars, facts or {}),
              "port": setting(hostvars, name, "postgresql_port")} for name in databases]
    return {
        "part": part,
        "user": user,
        "address": addresses.get(host, ""),
        "peers": peers,
        "stanza": setting(hostvars, host, "backup_stanza"),
        "port": setting(hostvars, host, "backup_tls_port"),
        "repository": {"host": repository, "address": addresses.get(repository, "")},
        "databases": plans,
        "database": next((plan for plan in plans if plan["host"] == host), {}),
    }


def pgbackrest_postgresql_settings(host, hostvars, groups):
    """The PostgreSQL settings that archive `host`'s WAL to the repository: none without a
    repository host. archive_timeout bounds the WAL a quiet primary keeps to itself, and so the
    data lost with it (the RPO); a standby archives nothing until it is promoted."""
    _inventory(hostvars, groups, "pgbackrest_postgresql_settings")
    if not group_hosts(hostvars, groups, host, "backup_repository_group"):
        return {}
    return {
        "archive_mode": "on",
        "archive_command": f"pgbackrest --stanza={setting(hostvars, host, 'backup_stanza')} archive-push %p",
        "archive_timeout": f"{setting(hostvars, host, 'backup_archive_timeout')}s",
    }


class FilterModule:
    """selfhost.stack backup filters."""

    def filters(self):
        return {"pgbackrest_hosts": pgbackrest_hosts, "pgbackrest_release_errors": pgbackrest_release_errors,
                "pgbackrest_plan": pgbackrest_plan, "pgbackrest_postgresql_settings": pgbackrest_postgresql_settings}
