"""The postgresql role refuses bad input before any change, naming the variable.

The role runs in check mode against this machine, as the primary of a group with one standby:
validation comes first, so each failure here happens before the packages are installed.
"""

from __future__ import annotations


import pytest

GOOD = {
    "postgresql_address": "10.0.0.1",
    "postgresql_replication_password": "a-long-replication-secret",
    "postgresql_users": [{"name": "app", "password": "a-long-app-secret"}],
    "postgresql_databases": [{"name": "app", "owner": "app"}],
}


GROUPS = {"postgresql": {
    "box": {"ansible_connection": "local", "postgresql_role": "primary"},
    "other": {"postgresql_role": "standby", "postgresql_address": "10.0.0.2"},
}}


@pytest.mark.parametrize("changes, message", [
    ({"postgresql_address": ""}, "postgresql_address: box has no private address"),
    ({"postgresql_replication_password": "short"}, "postgresql_replication_password: a group with standbys needs it"),
    ({"postgresql_users": [{"name": "app; DROP ROLE postgres", "password": "a-long-app-secret"}]},
     "postgresql_users and postgresql_databases: names must be lower-case"),
    ({"postgresql_databases": [{"name": "app", "owner": "nobody"}]}, "a database's owner must be one of postgresql_users"),
    ({"postgresql_tls_certificate": "-----BEGIN CERTIFICATE-----"}, "give all three"),
    ({"postgresql_memory_claims": {"redis": "120%"}}, "redis"),
    ({"postgresql_workload": "batch"}, "postgresql_workload"),
    ({"postgresql_role": "replica"}, "postgresql_role"),
    ({"postgresql_role": "standby"}, "exactly one host with postgresql_role=primary, the others standbys (got none)"),
], ids=["address", "replication-password", "user-name", "owner", "half-tls", "memory-claim", "workload", "role",
        "no-primary"])
def test_postgresql_refuses_bad_input_before_any_change(role_check, changes, message):
    result = role_check("postgresql", GROUPS, {**GOOD, **changes})
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-2000:]
    assert "Install PgBouncer" not in result.stdout
    assert "a-long-app-secret" not in result.stdout and "a-long-replication-secret" not in result.stdout


def test_postgresql_accepts_good_input_up_to_the_install(role_check):
    result = role_check("postgresql", GROUPS, GOOD)
    assert "Tune PostgreSQL to the hardware" in result.stdout
    assert "FAILED" not in result.stdout.split("Install PgBouncer")[0], result.stdout[-2000:]
