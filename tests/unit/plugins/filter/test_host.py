"""Unit tests for the host filters: what a host runs, from its groups, its memory plan, the
inventory's primary and the kind of disk under a path."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.host import (
    FilterModule, disk_kind, host_services, inventory_primaries, inventory_primary, memory_plan, postgresql_major,
)

# The reference topology: PostgreSQL and Redis share the primary and the standby; app1 runs a
# Sentinel; cache1 is a Redis-only host.
GROUPS = {
    "all": ["primary", "standby", "app1", "cache1", "nas"],
    "postgresql": ["primary", "standby"], "redis": ["primary", "standby", "cache1"],
    "redis_sentinel": ["primary", "standby", "app1"], "minio": ["primary", "nas"],
    "wireguard": ["primary", "standby", "app1"],
}
HOSTVARS = {host: {} for host in GROUPS["all"]}


def plan(total_mb, host, groups=None, **hostvars):
    merged = {name: dict(values, **hostvars.get(name, {})) for name, values in HOSTVARS.items()}
    return memory_plan(total_mb, host, merged, groups or GROUPS)


def test_filters_are_registered():
    assert FilterModule().filters() == {"host_services": host_services, "memory_plan": memory_plan,
                                        "inventory_primaries": inventory_primaries,
                                        "inventory_primary": inventory_primary, "disk_kind": disk_kind,
                                        "postgresql_major": postgresql_major}


@pytest.mark.parametrize("host, expected", [
    ("primary", ["postgresql", "redis", "redis_sentinel", "minio", "wireguard"]),
    ("app1", ["redis_sentinel", "wireguard"]),
    ("cache1", ["redis"]),
    ("nas", ["minio"]),
])
def test_a_host_runs_the_services_of_its_groups(host, expected):
    assert host_services(host, HOSTVARS, GROUPS) == expected


def test_group_names_come_from_the_group_variables():
    hostvars = {host: {"postgresql_group": "databases", "redis_group": "caches"} for host in GROUPS["all"]}
    groups = dict(GROUPS, databases=["nas"], caches=["app1"])
    assert host_services("nas", hostvars, groups) == ["postgresql", "minio"]
    assert host_services("app1", hostvars, groups) == ["redis", "redis_sentinel", "wireguard"]
    assert host_services("primary", hostvars, groups) == ["redis_sentinel", "minio", "wireguard"]


def test_a_redis_only_host_with_little_memory_needs_no_room_for_postgresql():
    # 1 GB and 30 %: the reserve (512 MB) and Redis (307 MB) fit; PostgreSQL is not there.
    assert plan(1024, "cache1", cache1={"redis_maxmemory": "30%"}) == {
        "total_mb": 1024, "os_reserve_mb": 512, "claims_mb": {"redis_maxmemory": 307}, "postgresql_mb": 0}


def test_a_redis_only_host_still_refuses_more_than_it_has():
    with pytest.raises(AnsibleFilterError, match=r"the OS reserve \(512 MB\) and the claims "
                                                 r"\(redis_maxmemory 614 MB\) need 102 MB more than the host has"):
        plan(1024, "cache1", cache1={"redis_maxmemory": "60%"})


def test_postgresql_and_redis_share_the_host():
    # The reference primary: 32 GB, Redis 8 GB, the reserve 10 %; PostgreSQL the rest.
    assert plan(32768, "primary", primary={"redis_maxmemory": "8GB"}) == {
        "total_mb": 32768, "os_reserve_mb": 3276, "claims_mb": {"redis_maxmemory": 8192},
        "postgresql_mb": 32768 - 8192 - 3276}
    # Redis's default claim (25 %) counts even when the inventory does not set it.
    assert plan(16384, "standby")["claims_mb"] == {"redis_maxmemory": 4096}
    with pytest.raises(AnsibleFilterError, match=r"\(redis_maxmemory 3379 MB\) leave PostgreSQL 205 MB"):
        plan(4096, "primary", primary={"redis_maxmemory": "3.3GB"})


def test_postgresql_alone_gets_everything_and_other_claims_count():
    assert plan(8192, "nas", groups=dict(GROUPS, postgresql=["nas"])) == {
        "total_mb": 8192, "os_reserve_mb": 0, "claims_mb": {}, "postgresql_mb": 8192}
    shared = plan(8192, "primary", primary={"redis_maxmemory": "1GB", "postgresql_memory_claims": {"minio": "10%"}})
    assert shared["claims_mb"] == {"redis_maxmemory": 1024, "minio": 819}
    assert shared["postgresql_mb"] == 8192 - 1024 - 819 - 819


def test_a_claim_of_a_service_the_host_runs_is_refused_rather_than_counted_twice():
    with pytest.raises(AnsibleFilterError, match="postgresql_memory_claims names redis, which primary runs from "
                                                 "the collection; its claim is redis_maxmemory"):
        plan(32768, "primary", primary={"postgresql_memory_claims": {"redis": "8GB"}})
    # On a host without the collection's Redis, a Redis of its own is just another claim.
    assert plan(8192, "nas", groups=dict(GROUPS, postgresql=["nas"]),
                nas={"postgresql_memory_claims": {"redis": "1GB"}})["claims_mb"] == {"redis": 1024}


@pytest.mark.parametrize("hostvars, message", [
    ({"redis_maxmemory": "lots"}, r"the claim of redis_maxmemory 'lots' is not a size"),
    ({"redis_maxmemory": "120%"}, r"the claim of redis_maxmemory '120%' is more than 100%"),
    ({"postgresql_memory_claims": ["minio"]}, r"postgresql_memory_claims \['minio'\] is not a mapping"),
])
def test_refusals_name_the_variable(hostvars, message):
    with pytest.raises(AnsibleFilterError, match=message):
        plan(32768, "primary", primary=hostvars)


def test_refuses_what_is_not_an_inventory():
    with pytest.raises(AnsibleFilterError, match="memory_plan expects"):
        memory_plan(1024, "primary", HOSTVARS, None)
    with pytest.raises(AnsibleFilterError, match="host_services expects"):
        host_services("primary", None, GROUPS)


@pytest.mark.parametrize("roles, expected", [
    ({"primary": "primary", "standby": "standby"}, "primary"),
    # A host without the variable is a primary; the first in the group's order wins.
    ({"primary": "standby", "standby": "standby"}, "cache1"),
    ({"primary": "standby"}, "standby"),
    ({"primary": "standby", "standby": "replica", "cache1": "replica"}, ""),
])
def test_the_inventory_primary_is_the_first_host_named_primary(roles, expected):
    hostvars = {host: ({"redis_role": roles[host]} if host in roles else {}) for host in GROUPS["all"]}
    assert inventory_primary(GROUPS["redis"], hostvars, "redis_role") == expected


def test_an_empty_group_has_no_primary():
    assert inventory_primary([], HOSTVARS, "postgresql_role") == ""
    assert inventory_primaries([], HOSTVARS, "postgresql_role") == []


@pytest.mark.parametrize("roles, expected", [
    ({"primary": "primary", "standby": "replica", "cache1": "replica"}, ["primary"]),
    # The validate tasks refuse a group of two primaries, or of none, naming them.
    ({"primary": "primary", "standby": "replica"}, ["primary", "cache1"]),
    ({"primary": "replica", "standby": "replica", "cache1": "replica"}, []),
])
def test_the_inventory_primaries_are_every_host_named_primary(roles, expected):
    hostvars = {host: ({"redis_role": roles[host]} if host in roles else {}) for host in GROUPS["all"]}
    assert inventory_primaries(GROUPS["redis"], hostvars, "redis_role") == expected


# Facts as Ansible gathers them: a root SSD, a spinning disk for the data, an NVMe drive, an md
# array and an LVM volume (which the facts list without a disk of their own).
FACTS = {
    "mounts": [
        {"mount": "/", "device": "/dev/sda2"},
        {"mount": "/srv", "device": "/dev/sdb1"},
        {"mount": "/srv/fast", "device": "/dev/nvme0n1p1"},
        {"mount": "/srv/array", "device": "/dev/md0"},
        {"mount": "/srv/lvm", "device": "/dev/mapper/vg-data"},
        {"mount": "/srvx", "device": "/dev/sdb2"},
    ],
    "devices": {
        "sda": {"rotational": "0"}, "sdb": {"rotational": "1"},
        "nvme0n1": {"rotational": "0"}, "md0": {"rotational": "1"},
    },
}


@pytest.mark.parametrize("path, expected", [
    ("/var/lib/postgresql", "ssd"),  # only / is above it
    ("/srv/postgresql", "hdd"),
    ("/srv", "hdd"),
    ("/srv/", "hdd"),
    ("/srv/fast/pg", "ssd"),  # the longest mount point wins over /srv
    ("/srv/array/pg", "hdd"),
    ("/srv/lvm/pg", "ssd"),  # a device the facts do not describe
    ("/srvx/pg", "hdd"),  # /srvx, not /srv: a mount point matches whole names only
])
def test_the_disk_kind_is_that_of_the_longest_mount_above_the_path(path, expected):
    assert disk_kind(path, FACTS) == expected


@pytest.mark.parametrize("facts", [{}, {"mounts": [{"mount": "/", "device": "overlay"}], "devices": {}}])
def test_without_a_described_disk_the_kind_is_ssd(facts):
    assert disk_kind("/var/lib/postgresql", facts) == "ssd"


def test_a_rotational_disk_whose_name_prefixes_another_is_not_taken_for_it():
    facts = {"mounts": [{"mount": "/", "device": "/dev/sda1"}],
             "devices": {"sd": {"rotational": "1"}, "sda": {"rotational": "0"}}}
    assert disk_kind("/data", facts) == "ssd"


@pytest.mark.parametrize("call", [
    lambda: inventory_primary(["primary"], "hostvars", "redis_role"),
    lambda: disk_kind("/data", "facts"),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(AnsibleFilterError, match="expects"):
        call()


@pytest.mark.parametrize("facts, pgdg, version, expected", [
    ({"distribution": "Debian", "distribution_major_version": "12"}, False, 0, 15),
    ({"distribution": "Debian", "distribution_major_version": "13"}, False, 16, 17),
    ({"distribution": "Ubuntu", "distribution_major_version": "24"}, False, 0, 16),
    ({"distribution": "Debian", "distribution_major_version": "12"}, True, "16", 16),
    ({"distribution": "Fedora", "distribution_major_version": "41"}, False, 0, 0),
    ({}, False, 0, 0),
])
def test_the_postgresql_major_version_is_the_releases_or_pgdgs(facts, pgdg, version, expected):
    assert postgresql_major(facts, pgdg, version) == expected
