"""The redis role refuses bad input before any change, naming the variable.

The role runs in check mode against this machine, as the primary of a group with one replica and
three Sentinels: validation comes first, so each failure here happens before anything is installed.
"""

from __future__ import annotations


import pytest

GOOD = {
    "redis_address": "10.0.0.1",
    "redis_admin_password": "a-long-admin-secret",
    "redis_replication_password": "a-long-replication-secret",
    "redis_sentinel_password": "a-long-sentinel-secret",
    "redis_users": [{"name": "app", "password": "a-long-app-secret", "keys": ["app:*"]}],
    "redis_maxmemory": "25%",
}
SECRETS = ("a-long-admin-secret", "a-long-replication-secret", "a-long-sentinel-secret", "a-long-app-secret")


GROUPS = {
    "redis": {"box": {"ansible_connection": "local"}, "other": {"redis_role": "replica", "redis_address": "10.0.0.2"}},
    "redis_sentinel": {"box": {}, "other": {}, "app1": {"redis_address": "10.0.0.10"}},
    "two_sentinels": {"box": {}, "other": {}},
}


@pytest.mark.parametrize("changes, message", [
    ({"redis_address": ""}, "redis_address: every host of 'redis' and 'redis_sentinel' needs a private"),
    ({"redis_role": "replica"}, "redis_role: group 'redis' (redis_group) must hold exactly one host"),
    ({"redis_role": "primary"}, "(got box, other)"),
    ({"redis_role": "master"}, "redis_role must be one of: primary, replica, got: master"),
    ({"redis_sentinel_group": "two_sentinels"}, "redis_sentinel_group: group 'two_sentinels' must be empty"),
    ({"redis_sentinel_quorum": 4}, "redis_sentinel_quorum must be from 1 to that number (got 4)"),
    ({"redis_replication_password": "short"}, "redis_replication_password (with replicas)"),
    ({"redis_admin_password": ""}, "redis_admin_password, redis_replication_password (with replicas), "
                                   "redis_sentinel_password (with Sentinels) and the password of every redis_users "
                                   "entry: at least 16 characters"),
    ({"redis_users": [{"name": "App User", "password": "a-long-app-secret"}]}, "redis_users: each is"),
    ({"redis_users": [{"name": "default", "password": "a-long-app-secret"}]}, "redis_users: each is"),
    ({"redis_users": [{"name": "app", "password": "a-long-app-secret", "keys": ["~app:*"]}]}, "redis_users: each is"),
    ({"redis_users": [{"name": "app", "password": "a-long-app-secret", "keys": ["app *"]}]}, "redis_users: each is"),
    ({"redis_users": [{"name": "app", "password": "a-long-app-secret", "commands": "+@all +@dangerous"}]},
     "never +@dangerous"),
    ({"redis_users": [{"name": "app", "password": "a-long-app-secret", "commands": "+@all; FLUSHALL"}]},
     "redis_users: each is"),
    ({"redis_users": [{"name": "app", "password": "short"}]}, "the password of every redis_users entry"),
    ({"redis_tls_certificate": "-----BEGIN CERTIFICATE-----"}, "give all three"),
    ({"redis_maxmemory": "120%"}, "the claim of redis_maxmemory '120%' is more than 100% of the host's RAM"),
    ({"redis_maxmemory": "lots"}, "the claim of redis_maxmemory 'lots' is not a size such as 512 (MB)"),
    ({"redis_maxmemory_policy": "lru"}, "redis_maxmemory_policy"),
], ids=["address", "no-primary", "two-primaries", "role", "two-sentinels", "quorum", "replication-password",
        "admin-password", "user-name", "reserved-user", "key-prefix", "key-space", "dangerous", "commands",
        "user-password", "half-tls", "maxmemory-share", "maxmemory-size", "policy"])
def test_redis_refuses_bad_input_before_any_change(role_check, changes, message):
    result = role_check("redis", GROUPS, {**GOOD, **changes})
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert message in output, result.stdout[-2000:]
    assert "Install Redis and Sentinel" not in result.stdout
    assert not any(secret in result.stdout for secret in SECRETS)


def test_redis_accepts_good_input_up_to_the_install(role_check):
    result = role_check("redis", GROUPS, GOOD)
    assert "Refuse bad input, naming every variable that is wrong" in result.stdout
    assert "FAILED" not in result.stdout.split("Install Redis and Sentinel")[0], result.stdout[-2000:]
