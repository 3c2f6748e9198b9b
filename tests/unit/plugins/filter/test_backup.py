"""Unit tests for the backup filters: the pgBackRest hosts, and whether their releases agree."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.backup import (
    FilterModule, pgbackrest_hosts, pgbackrest_release_errors,
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
                                        "pgbackrest_release_errors": pgbackrest_release_errors}


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
