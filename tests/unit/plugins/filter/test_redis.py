"""Unit tests for the Redis filters: the current master from what the Sentinels and servers
answered (redis_state's result), and the Sentinel tunables to set."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.redis import (
    FilterModule, redis_master, redis_sentinel_changes,
)

ADDRESSES = {"primary": "10.0.0.1", "standby": "10.0.0.2", "app1": "10.0.0.10"}
MASTER = {"name": "selfhost", "ip": "10.0.0.1", "port": "6379", "quorum": "2",
          "down-after-milliseconds": "5000", "failover-timeout": "60000", "parallel-syncs": "1"}


def state(sentinels=None, servers=None):
    """redis_state's result."""
    return {"sentinels": sentinels or {}, "servers": servers or {}}


def test_filters_are_registered():
    assert FilterModule().filters() == {"redis_master": redis_master,
                                        "redis_sentinel_changes": redis_sentinel_changes}


def test_the_sentinels_majority_names_the_master():
    sentinels = {"primary": dict(MASTER, ip="10.0.0.2"), "standby": dict(MASTER, ip="10.0.0.2"), "app1": MASTER}
    servers = {"primary": {"role": "master"}, "standby": {"role": "slave"}}
    found = redis_master("primary", state(sentinels, servers), ADDRESSES)
    assert found == {"host": "standby", "source": "the Sentinels"}


def test_an_address_no_host_has_is_marked():
    found = redis_master("primary", state({"app1": dict(MASTER, ip="10.9.9.9")}), ADDRESSES)
    assert found == {"host": "?10.9.9.9", "source": "the Sentinels"}


@pytest.mark.parametrize("sentinels", [
    {},
    # Unreachable, a refused login, a Sentinel that does not know the master.
    {"primary": {"error": "timed out"}, "standby": {"error": "WRONGPASS invalid username-password pair"},
     "app1": {"error": "ERR No such master with that name"}},
])
def test_without_a_sentinel_answer_the_one_server_that_is_master_is(sentinels):
    servers = {"primary": {"role": "slave", "master_host": "10.0.0.2", "master_port": 6379},
               "standby": {"role": "master"}}
    found = redis_master("primary", state(sentinels, servers), ADDRESSES)
    assert found == {"host": "standby", "source": "the servers"}


@pytest.mark.parametrize("servers", [
    {},
    {"primary": {"error": "connection refused"}, "standby": {"error": "timed out"}},
    # Two masters (a split the Sentinels are not there to settle): the inventory decides.
    {"primary": {"role": "master"}, "standby": {"role": "master"}},
])
def test_otherwise_the_inventory_primary_is(servers):
    found = redis_master("primary", state(servers=servers), ADDRESSES)
    assert found == {"host": "primary", "source": "the inventory"}


def test_no_change_when_the_sentinel_has_the_tunables():
    wanted = {"quorum": 2, "down-after-milliseconds": "5000", "failover-timeout": 60000, "parallel-syncs": 1}
    assert redis_sentinel_changes(MASTER, wanted) == []


def test_the_tunables_that_differ_are_set_in_order():
    wanted = {"quorum": 2, "down-after-milliseconds": 10000, "failover-timeout": 60000, "parallel-syncs": 2}
    assert redis_sentinel_changes(MASTER, wanted) == ["down-after-milliseconds", "10000", "parallel-syncs", "2"]


def test_a_tunable_the_sentinel_does_not_report_is_set():
    assert redis_sentinel_changes({"quorum": "2"}, {"quorum": 2, "parallel-syncs": 1}) == ["parallel-syncs", "1"]


@pytest.mark.parametrize("call", [
    lambda: redis_master("primary", "answers", ADDRESSES),
    lambda: redis_master("primary", {"sentinels": []}, ADDRESSES),
    lambda: redis_master("primary", state(), ["10.0.0.1"]),
    lambda: redis_sentinel_changes(["OK"], {"quorum": 2}),
    lambda: redis_sentinel_changes(MASTER, ["quorum"]),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(AnsibleFilterError, match="expects"):
        call()
