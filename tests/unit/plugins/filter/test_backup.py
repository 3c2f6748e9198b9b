"""Unit tests for the backup filters: the pgBackRest hosts, and whether their releases agree."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.backup import (
    FilterModule, pgbackrest_hosts, pgbackrest_plan, pgbackrest_postgresql_settings, pgbackrest_release_errors,
    pgbackrest_restore_plan,
)

BOOKWORM = {"distribution": "Debian", "distribution_major_version": "12"}
TRIXIE = {"distribution": "Debian", "distribution_major_version": "13"}
GROUPS = {
    "all": ["primary", "standby", "app1", "nas"],
    "postgresql": ["primary", "standby"], "backup_repository": ["nas"], "app": ["app1"],
}


def hostvars(**facts):
    """Every host on Debian 12 unless `facts` says otherwise (None: no facts known)."""
    variables = {}
    for host in GROUPS["all"]:
        known = facts.get(host, BOOKWORM)
        variables[host] = {"ansible_facts": known} if known is not None else {}
    return variables


def test_filters_are_registered():
    assert FilterModule().filters() == {"pgbackrest_hosts": pgbackrest_hosts,
                                        "pgbackrest_release_errors": pgbackrest_release_errors,
                                        "pgbackrest_plan": pgbackrest_plan,
                                        "pgbackrest_postgresql_settings": pgbackrest_postgresql_settings,
                                        "pgbackrest_restore_plan": pgbackrest_restore_plan}


def test_the_database_hosts_then_the_repository_host_run_pgbackrest():
    assert pgbackrest_hosts("app1", hostvars(), GROUPS) == ["primary", "standby", "nas"]


def test_group_names_come_from_the_group_variables_and_a_host_counts_once():
    groups = dict(GROUPS, databases=["primary"], archive=["primary"])
    variables = {host: dict(values, postgresql_group="databases", backup_repository_group="archive")
                 for host, values in hostvars().items()}
    assert pgbackrest_hosts("primary", variables, groups) == ["primary"]


def test_one_release_everywhere_is_fine():
    assert pgbackrest_release_errors("nas", hostvars(), GROUPS) == []


def test_a_repository_on_another_release_is_refused_naming_the_hosts():
    errors = pgbackrest_release_errors("primary", hostvars(nas=TRIXIE), GROUPS)
    assert errors == ["backup_repository_group: pgBackRest must be one version on the database hosts and the "
                      "repository host, and each release's packages bring their own (Debian 12 on primary, standby; "
                      "Debian 13 on nas). Keep them on one release"]


def test_the_app_hosts_release_does_not_matter():
    assert pgbackrest_release_errors("primary", hostvars(app1=TRIXIE), GROUPS) == []


def test_database_hosts_on_the_pgdg_repository_differ_from_the_repository_host():
    variables = hostvars()
    for host in GROUPS["postgresql"]:
        variables[host]["postgresql_pgdg"] = True
    errors = pgbackrest_release_errors("primary", variables, GROUPS)
    assert len(errors) == 1
    assert "(Debian 12 with the PGDG repository (postgresql_pgdg) on primary, standby; Debian 12 on nas)" in errors[0]


def test_hosts_whose_facts_are_unknown_are_left_out():
    assert pgbackrest_release_errors("primary", hostvars(standby=None, nas=None), GROUPS) == []
    assert pgbackrest_release_errors("primary", hostvars(primary=None, nas=TRIXIE), GROUPS) != []


@pytest.mark.parametrize("call", [
    lambda: pgbackrest_hosts("primary", "hostvars", GROUPS),
    lambda: pgbackrest_release_errors("primary", hostvars(), ["postgresql"]),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(AnsibleFilterError, match="expects"):
        call()


ADDRESSES = {"primary": "10.0.0.1", "standby": "10.0.0.2", "nas": "10.0.0.20"}
DATABASES = [
    {"host": "primary", "address": "10.0.0.1", "path": "/var/lib/postgresql/15/main", "port": 5432},
    {"host": "standby", "address": "10.0.0.2", "path": "/var/lib/postgresql/15/main", "port": 5432},
]


def test_the_repository_host_reaches_every_database_host_and_accepts_their_certificates():
    plan = pgbackrest_plan("nas", hostvars(), GROUPS, ADDRESSES, BOOKWORM)
    assert plan == {
        "part": "repository", "user": "pgbackrest", "address": "10.0.0.20", "peers": ["primary", "standby"],
        "stanza": "main", "port": 8432, "repos": [1], "repository": {"host": "nas", "address": "10.0.0.20"},
        "databases": DATABASES, "database": {},
    }


def test_every_pgbackrest_host_knows_the_s3_repository_the_repository_host_keeps():
    variables = hostvars()
    variables["nas"]["backup_s3_bucket"] = "offsite"
    assert [pgbackrest_plan(host, variables, GROUPS, ADDRESSES, BOOKWORM)["repos"]
            for host in ("nas", "primary", "standby")] == [[1, 2]] * 3


def test_a_database_host_accepts_the_repository_host_only():
    plan = pgbackrest_plan("standby", hostvars(), GROUPS, ADDRESSES, BOOKWORM)
    assert (plan["part"], plan["user"], plan["address"], plan["peers"]) == ("database", "postgres", "10.0.0.2", ["nas"])
    assert plan["database"] == DATABASES[1]


def test_data_directories_follow_the_release_the_data_root_and_pgdg():
    variables = hostvars(primary=TRIXIE, standby=None)
    variables["primary"].update(postgresql_data_root="/data/postgresql/", postgresql_port=5433)
    variables["standby"].update(postgresql_pgdg=True, postgresql_version=16)
    plan = pgbackrest_plan("nas", variables, GROUPS, ADDRESSES, BOOKWORM)
    assert [(d["path"], d["port"]) for d in plan["databases"]] == [
        ("/data/postgresql/17/main", 5433), ("/var/lib/postgresql/16/main", 5432)]
    # A database host whose facts are unknown runs the release of the host asking.
    plan = pgbackrest_plan("nas", hostvars(standby=None), GROUPS, ADDRESSES, TRIXIE)
    assert plan["databases"][1]["path"] == "/var/lib/postgresql/17/main"


def test_without_a_repository_host_no_host_takes_part():
    groups = dict(GROUPS, backup_repository=[])
    assert pgbackrest_plan("primary", hostvars(), groups, ADDRESSES)["part"] == ""
    assert pgbackrest_plan("app1", hostvars(), GROUPS, ADDRESSES)["part"] == ""
    assert pgbackrest_postgresql_settings("primary", hostvars(), groups) == {}


def test_the_database_hosts_archive_to_the_stanza_within_the_archive_timeout():
    variables = hostvars()
    variables["primary"].update(backup_stanza="sales", backup_archive_timeout=30)
    assert pgbackrest_postgresql_settings("primary", variables, GROUPS) == {
        "archive_mode": "on", "archive_command": "pgbackrest --stanza=sales archive-push %p", "archive_timeout": "30s"}
    assert pgbackrest_postgresql_settings("standby", variables, GROUPS)["archive_timeout"] == "60s"


def test_a_plan_needs_the_addresses():
    with pytest.raises(AnsibleFilterError, match="pgbackrest_plan expects the pgBackRest hosts' addresses"):
        pgbackrest_plan("nas", hostvars(), GROUPS, None)


# Two backups of stanza main: a full one that ended at 2026-12-06 10:00:00 UTC, a differential at 12:00.
FULL_END, DIFF_END = 1796551200, 1796558400
INFO = [{"name": "main", "status": {"code": 0}, "backup": [
    {"label": "20261206-120000F_20261206-115900D", "type": "diff", "timestamp": {"start": DIFF_END - 60, "stop": DIFF_END}},
    {"label": "20261206-095500F", "type": "full", "timestamp": {"start": FULL_END - 300, "stop": FULL_END}},
]}]
NOW = DIFF_END + 7200


def test_restore_to_a_time_starts_from_the_newest_backup_that_ended_before_it():
    plan = pgbackrest_restore_plan(INFO, "main", "2026-12-06 14:02:00+01:00", NOW)
    # 14:02 at +01:00 is 13:02 UTC: after the differential backup.
    assert plan == {"errors": [], "set": "20261206-120000F_20261206-115900D", "backups": 2, "repo": 1,
                    "target": "2026-12-06 13:02:00.000000+00",
                    "options": ["--repo=1", "--type=time", "--target=2026-12-06 13:02:00.000000+00", "--target-action=promote"]}
    between = pgbackrest_restore_plan(INFO, "main", "2026-12-06T11:30:00.25Z", NOW)
    assert between["set"] == "20261206-095500F"
    assert between["target"] == "2026-12-06 11:30:00.250000+00"
    assert pgbackrest_restore_plan(INFO, "main", "2026-12-06 05:00:00-0500", NOW)["set"] == "20261206-095500F"


@pytest.mark.parametrize("target", ["", "latest", " latest "])
def test_restore_to_the_latest_starts_from_the_newest_backup(target):
    plan = pgbackrest_restore_plan(INFO, "main", target, NOW)
    assert (plan["errors"], plan["set"], plan["target"], plan["options"]) == (
        [], "20261206-120000F_20261206-115900D", "latest", ["--repo=1", "--type=default"])


def test_restore_from_the_s3_repository_takes_its_own_backups():
    # The S3 repository (2) holds one full backup, which ended at 11:00 UTC.
    info = [dict(INFO[0], backup=INFO[0]["backup"] + [
        {"label": "20261206-105000F", "type": "full", "database": {"id": 1, "repo-key": 2},
         "timestamp": {"start": FULL_END + 3000, "stop": FULL_END + 3600}}])]
    plan = pgbackrest_restore_plan(info, "main", "2026-12-06 13:02:00+00", NOW, 2)
    assert (plan["errors"], plan["set"], plan["backups"], plan["options"][0]) == ([], "20261206-105000F", 1, "--repo=2")
    # Repository 1's backups are its own: the S3 backup is not among them.
    assert pgbackrest_restore_plan(info, "main", "latest", NOW)["set"] == "20261206-120000F_20261206-115900D"
    assert pgbackrest_restore_plan(info, "main", "2026-12-06 10:30:00+00", NOW, "2")["errors"] == [
        "restore_target_time: 2026-12-06 10:30:00+00 is before the oldest backup, which ended 2026-12-06 "
        "11:00:00+00; the repository cannot go back that far"]
    assert pgbackrest_restore_plan(INFO, "main", "latest", NOW, 2)["errors"] == [
        "repository 2 holds no backup of stanza 'main' yet: nothing to restore"]


@pytest.mark.parametrize("target, message", [
    ("2026-12-06 09:59:59+00", "restore_target_time: 2026-12-06 09:59:59+00 is before the oldest backup, "
                               "which ended 2026-12-06 10:00:00+00"),
    ("2026-12-06 14:00:01Z", "restore_target_time: 2026-12-06 14:00:01Z is in the future (the repository "
                             "host's clock says 2026-12-06 14:00:00+00)"),
    ("2026-12-06 14:02:00", "restore_target_time: '2026-12-06 14:02:00' is not a time with its zone"),
    ("2026-02-30 14:02:00+00", "restore_target_time: '2026-02-30 14:02:00+00' is not a time with its zone"),
    ("yesterday", "restore_target_time: 'yesterday' is not a time with its zone"),
], ids=["before-the-oldest", "future", "no-zone", "no-such-day", "words"])
def test_a_target_outside_the_backups_is_refused(target, message):
    plan = pgbackrest_restore_plan(INFO, "main", target, NOW)
    assert len(plan["errors"]) == 1 and plan["errors"][0].startswith(message), plan["errors"]
    assert plan["set"] == "" and plan["options"] == []


def test_the_oldest_backups_end_is_the_earliest_target():
    assert pgbackrest_restore_plan(INFO, "main", "2026-12-06 10:00:00+00", NOW)["set"] == "20261206-095500F"


def test_a_stanza_without_backups_is_refused():
    for info in ([], [{"name": "other", "backup": INFO[0]["backup"]}], [{"name": "main", "backup": []}]):
        plan = pgbackrest_restore_plan(info, "main", "latest", NOW)
        assert plan["errors"] == ["repository 1 holds no backup of stanza 'main' yet: nothing to restore"]
    with pytest.raises(AnsibleFilterError, match="pgbackrest info's JSON answer"):
        pgbackrest_restore_plan({"name": "main"}, "main", "latest", NOW)
