"""Unit tests for the Redis filters: the current master from what the Sentinels and servers
answered, and the Sentinel tunables to set."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.redis import (
    FilterModule, redis_master, redis_sentinel_changes,
)

ADDRESSES = {"primary": "10.0.0.1", "standby": "10.0.0.2", "app1": "10.0.0.10"}


def answer(item, *lines, rc=0):
    """A registered loop result of redis-cli: the login's OK, then the command's lines."""
    return {"item": item, "rc": rc, "stdout_lines": ["OK", *lines]}


def test_filters_are_registered():
    assert FilterModule().filters() == {"redis_master": redis_master,
                                        "redis_sentinel_changes": redis_sentinel_changes}


def test_the_sentinels_majority_names_the_master():
    sentinels = [answer("primary", "10.0.0.2", "6379"), answer("standby", "10.0.0.2", "6379"),
                 answer("app1", "10.0.0.1", "6379")]
    servers = [answer("primary", "master"), answer("standby", "slave")]
    assert redis_master("primary", sentinels, servers, ADDRESSES) == {"host": "standby", "source": "the Sentinels"}


def test_an_address_no_host_has_is_marked():
    sentinels = [answer("app1", "10.9.9.9", "6379")]
    assert redis_master("primary", sentinels, [], ADDRESSES) == {"host": "?10.9.9.9", "source": "the Sentinels"}


@pytest.mark.parametrize("sentinels", [
    [],
    # Unreachable, a refused login, a Sentinel that does not know the master (one empty line).
    [answer("primary", rc=124), {"item": "standby", "rc": 0, "stdout_lines": ["WRONGPASS"]}, answer("app1", "")],
    [{"item": "app1", "rc": 1}],
])
def test_without_a_sentinel_answer_the_one_server_that_is_master_is(sentinels):
    servers = [answer("primary", "slave", "10.0.0.2"), answer("standby", "master", "0")]
    assert redis_master("primary", sentinels, servers, ADDRESSES) == {"host": "standby", "source": "the servers"}


@pytest.mark.parametrize("servers", [
    [],
    [answer("primary", rc=124), answer("standby", rc=124)],
    # Two masters (a split the Sentinels are not there to settle): the inventory decides.
    [answer("primary", "master"), answer("standby", "master")],
])
def test_otherwise_the_inventory_primary_is(servers):
    assert redis_master("primary", [], servers, ADDRESSES) == {"host": "primary", "source": "the inventory"}


MASTER = ["OK", "name", "selfhost", "ip", "10.0.0.1", "port", "6379", "quorum", "2",
          "down-after-milliseconds", "5000", "failover-timeout", "60000", "parallel-syncs", "1"]


def test_no_change_when_the_sentinel_has_the_tunables():
    wanted = {"quorum": 2, "down-after-milliseconds": "5000", "failover-timeout": 60000, "parallel-syncs": 1}
    assert redis_sentinel_changes(MASTER, wanted) == []


def test_the_tunables_that_differ_are_set_in_order():
    wanted = {"quorum": 2, "down-after-milliseconds": 10000, "failover-timeout": 60000, "parallel-syncs": 2}
    assert redis_sentinel_changes(MASTER, wanted) == ["down-after-milliseconds", "10000", "parallel-syncs", "2"]


def test_a_tunable_the_sentinel_does_not_report_is_set():
    assert redis_sentinel_changes(["OK", "quorum", "2"], {"quorum": 2, "parallel-syncs": 1}) == ["parallel-syncs", "1"]


@pytest.mark.parametrize("call", [
    lambda: redis_master("primary", "answers", [], ADDRESSES),
    lambda: redis_master("primary", [], [], ["10.0.0.1"]),
    lambda: redis_sentinel_changes("OK", {"quorum": 2}),
    lambda: redis_sentinel_changes(MASTER, ["quorum"]),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(AnsibleFilterError, match="expects"):
        call()
