"""Unit tests for the topology_errors filter."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.topology import FilterModule, topology_errors

REFERENCE_GROUPS = {
    "all": ["primary", "standby", "app1", "app2", "nas"],
    "postgresql": ["primary", "standby"],
    "app": ["app1", "app2"],
}
REFERENCE_HOSTVARS = {
    "primary": {"ansible_host": "203.0.113.10", "postgresql_role": "primary"},
    "standby": {"ansible_host": "203.0.113.11", "postgresql_role": "standby"},
    "app1": {"ansible_host": "203.0.113.20"},
    "app2": {"ansible_host": "203.0.113.21"},
    "nas": {},
}


def with_hostvars(**changes):
    hostvars = {host: dict(values) for host, values in REFERENCE_HOSTVARS.items()}
    for host, values in changes.items():
        hostvars.setdefault(host, {}).update(values)
    return hostvars


def test_reference_topology_is_consistent():
    assert topology_errors(REFERENCE_GROUPS, REFERENCE_HOSTVARS) == []


def test_all_in_one_host_is_consistent():
    groups = {"all": ["box"], "postgresql": ["box"], "app": ["box"], "redis": ["box"]}
    assert topology_errors(groups, {"box": {"postgresql_role": "primary"}}) == []


def test_empty_inventory_is_consistent():
    assert topology_errors({"all": []}, {}) == []


@pytest.mark.parametrize("name", ["Primary", "db_1", "-db", "db-", "a" * 64, "db..example.com"])
def test_invalid_host_names_are_refused(name):
    errors = topology_errors({"all": [name]}, {name: {}})
    assert len(errors) == 1
    assert f"inventory host '{name}'" in errors[0]


@pytest.mark.parametrize("name", ["db1", "db-1.example.com", "a" * 63, "10-0-0-1"])
def test_valid_host_names_pass(name):
    assert topology_errors({"all": [name]}, {name: {}}) == []


def test_duplicate_addresses_name_both_hosts():
    errors = topology_errors(REFERENCE_GROUPS, with_hostvars(app2={"ansible_host": "203.0.113.20"}))
    assert errors == [
        "ansible_host: 'app2' and 'app1' both point at 203.0.113.20; one machine is one inventory "
        "host (put it in several groups instead)"
    ]


def test_missing_part_is_refused():
    hostvars = with_hostvars()
    del hostvars["standby"]["postgresql_role"]
    errors = topology_errors(REFERENCE_GROUPS, hostvars)
    assert errors == [
        "postgresql_role: 'standby' is in group 'postgresql' and needs postgresql_role set to one "
        "of primary, standby (got None)"
    ]


def test_unknown_part_is_refused():
    errors = topology_errors(REFERENCE_GROUPS, with_hostvars(standby={"postgresql_role": "replica"}))
    assert len(errors) == 1
    assert "(got 'replica')" in errors[0]


def test_two_primaries_are_refused():
    errors = topology_errors(REFERENCE_GROUPS, with_hostvars(standby={"postgresql_role": "primary"}))
    assert errors == [
        "postgresql_role: group 'postgresql' needs exactly 1 host with postgresql_role=primary, "
        "found 2 (primary, standby)"
    ]


def test_no_primary_is_refused():
    errors = topology_errors(REFERENCE_GROUPS, with_hostvars(primary={"postgresql_role": "standby"}))
    assert errors == [
        "postgresql_role: group 'postgresql' needs exactly 1 host with postgresql_role=primary, found 0"
    ]


def test_part_outside_its_group_is_refused():
    errors = topology_errors(REFERENCE_GROUPS, with_hostvars(app1={"postgresql_role": "standby"}))
    assert errors == ["postgresql_role: 'app1' sets it but is not in group 'postgresql'"]


def test_a_renamed_group_is_checked_under_its_new_name():
    groups = dict(REFERENCE_GROUPS, databases=REFERENCE_GROUPS["postgresql"], postgresql=[])
    renamed = {host: dict(values, postgresql_group="databases") for host, values in REFERENCE_HOSTVARS.items()}
    assert topology_errors(groups, renamed) == []
    renamed["standby"]["postgresql_role"] = "primary"
    assert topology_errors(groups, renamed) == [
        "postgresql_role: group 'databases' needs exactly 1 host with postgresql_role=primary, "
        "found 2 (primary, standby)"
    ]


def test_every_problem_is_reported_at_once():
    hostvars = with_hostvars(app2={"ansible_host": "203.0.113.20"}, standby={"postgresql_role": "x"})
    groups = dict(REFERENCE_GROUPS, all=REFERENCE_GROUPS["all"] + ["Bad_Name"])
    assert len(topology_errors(groups, hostvars)) == 3


def test_non_mapping_input_is_an_error():
    with pytest.raises(AnsibleFilterError, match="expects the 'groups' and 'hostvars' mappings"):
        topology_errors(["primary"], {})


def test_filter_is_registered():
    assert FilterModule().filters()["topology_errors"] is topology_errors
