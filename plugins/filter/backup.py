# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backups' hosts from the inventory: who runs pgBackRest, and whether they can agree on its
version (pgBackRest refuses to talk to another version); and what a restore to a point in time
takes from the repository."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, postgresql_major, reads_hostvars_once, setting

# The system user pgBackRest runs as: the repository's own on the repository host, PostgreSQL's
# on the database hosts (it reads the data directory).
REPOSITORY_USER = "pgbackrest"
DATABASE_USER = "postgres"


def _inventory(hostvars, groups, name):
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError(f"{name} expects a host name, hostvars and groups")


@reads_hostvars_once
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


@reads_hostvars_once
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


@reads_hostvars_once
def pgbackrest_plan(host, hostvars, groups, addresses, facts=None):
    """What `host` does for pgBackRest, from the inventory: its part (repository, database, or
    '' for neither or when there is no repository host), the user it runs as, the address its
    TLS server listens on, the peers whose certificates it accepts (their inventory names, the
    certificates' common names), the repositories (1 on the repository host, and 2 on S3 when the
    repository host's backup_s3_bucket names one), the repository host, the database hosts with
    the address, data directory and port the repository host reaches each at, and `host`'s own
    among them. `addresses` maps each
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
        "repos": [1, 2] if repository and setting(hostvars, repository, "backup_s3_bucket") else [1],
        "repository": {"host": repository, "address": addresses.get(repository, "")},
        "databases": plans,
        "database": next((plan for plan in plans if plan["host"] == host), {}),
    }


@reads_hostvars_once
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


# A time as restore_target_time takes it: date, time, optional fraction, and a zone (an offset or
# Z): a time without a zone would mean another instant on each host.
TARGET_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
                         r"(Z|[+-]\d\d(?::?\d\d)?)$")


def _target_time(text):
    """The instant `text` names, in UTC, or None when it is not such a time."""
    found = TARGET_TIME.match(text.strip())
    if not found:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    offset = timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        offset = -offset if zone[0] == "-" else offset
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                         int((fraction or "0").ljust(6, "0")), tzinfo=timezone(offset))
    except ValueError:
        return None
    return local.astimezone(timezone.utc)


def pgbackrest_restore_plan(info, stanza, target, now, repo=1):
    """What restoring `stanza` to `target` from repository `repo` takes: the backup set to start
    from (the newest of that repository that ended before the target), pgBackRest's restore
    options, and the reasons to refuse it (a target that is not a time with a zone, before the
    oldest backup's end, after `now`, or a repository without backups). `info` is `pgbackrest info
    --output=json`'s answer; `target` is '' or 'latest' for the end of the archive, else
    'YYYY-MM-DD HH:MM:SS+ZZ'; `now` is the repository host's clock, in seconds since the epoch."""
    if not isinstance(info, list):
        raise AnsibleFilterError("pgbackrest_restore_plan expects pgbackrest info's JSON answer")
    repo = int(repo)
    entry = next((item for item in info if isinstance(item, Mapping) and item.get("name") == stanza), {})
    backups = sorted((backup for backup in entry.get("backup") or []
                      if int(backup.get("database", {}).get("repo-key", 1)) == repo),
                     key=lambda backup: backup["timestamp"]["stop"])
    plan = {"errors": [], "set": "", "target": "", "options": [], "backups": len(backups), "repo": repo}
    if not backups:
        plan["errors"].append(f"repository {repo} holds no backup of stanza '{stanza}' yet: nothing to restore")
        return plan
    oldest = datetime.fromtimestamp(backups[0]["timestamp"]["stop"], timezone.utc)
    target = str(target or "").strip()
    if target in ("", "latest"):
        plan.update(set=backups[-1]["label"], target="latest", options=[f"--repo={repo}", "--type=default"])
        return plan
    instant = _target_time(target)
    if instant is None:
        plan["errors"].append(f"restore_target_time: '{target}' is not a time with its zone, such as "
                              f"'2026-12-06 14:02:00+00' (or 'latest')")
    elif instant < oldest:
        plan["errors"].append(f"restore_target_time: {target} is before the oldest backup, which ended "
                              f"{oldest:%Y-%m-%d %H:%M:%S}+00; the repository cannot go back that far")
    elif instant.timestamp() > now:
        plan["errors"].append(f"restore_target_time: {target} is in the future (the repository host's clock "
                              f"says {datetime.fromtimestamp(now, timezone.utc):%Y-%m-%d %H:%M:%S}+00)")
    if plan["errors"]:
        return plan
    start = [backup for backup in backups if backup["timestamp"]["stop"] <= instant.timestamp()][-1]
    normalized = f"{instant:%Y-%m-%d %H:%M:%S.%f}+00"
    plan.update(set=start["label"], target=normalized,
                options=[f"--repo={repo}", "--type=time", f"--target={normalized}", "--target-action=promote"])
    return plan


class FilterModule:
    """selfhost.stack backup filters."""

    def filters(self):
        return {"pgbackrest_hosts": pgbackrest_hosts, "pgbackrest_release_errors": pgbackrest_release_errors,
                "pgbackrest_plan": pgbackrest_plan, "pgbackrest_postgresql_settings": pgbackrest_postgresql_settings,
                "pgbackrest_restore_plan": pgbackrest_restore_plan}
