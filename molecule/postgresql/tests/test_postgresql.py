"""PostgreSQL primary and hot standby, proved by behaviour on both releases: replication through
PgBouncer, a read-only standby, TLS-only remote access, the tenants, and a failover with the old
primary rejoining. Tests run in file order; the failover is last."""

import json
import time
from collections import namedtuple

import pytest
from scenario import changed_counts, eventually, on, playbook, words

Pair = namedtuple("Pair", "primary standby major")
PAIRS = {"pg12": Pair("pg12-primary", "pg12-standby", 15), "pg13": Pair("pg13-primary", "pg13-standby", 17)}
APP_PASSWORD = "scenario-app-secret"
CA = "/etc/selfhost/postgresql/tls/ca.crt"


def address(name):
    return on(name).interface("eth0").addresses[0]


def sql(name, query, database="app"):
    """Runs query as postgres over the local socket; returns the result, or raises."""
    with on(name).sudo("postgres"):
        return on(name).check_output(f"psql -XAt -d {database} -v ON_ERROR_STOP=1 -c {json.dumps(query)}")


def remote(source, target, query, port=6432, sslmode="verify-full"):
    """Runs query as the app user from `source` on `target`, as an application would."""
    conninfo = (f"host={address(target)} port={port} dbname=app user=app sslmode={sslmode} "
                f"sslrootcert={CA} connect_timeout=5")
    with on(source).sudo():
        return on(source).run(
            f"PGPASSWORD={APP_PASSWORD} psql -XAt -v ON_ERROR_STOP=1 {json.dumps(conninfo)} -c {json.dumps(query)}")


# Each test runs on both pairs, in file order (a module-scoped fixture would reorder them).
both_pairs = pytest.mark.parametrize("pair", list(PAIRS.values()), ids=list(PAIRS))


@both_pairs
def test_each_release_runs_its_own_postgresql(pair):
    primary, standby, major = pair.primary, pair.standby, pair.major
    for name in (primary, standby):
        assert sql(name, "SHOW server_version_num")[:2] == str(major)
        assert on(name).service(f"postgresql@{major}-main").is_running
        assert on(name).service("pgbouncer").is_running


@both_pairs
def test_a_row_written_through_pgbouncer_is_read_on_the_standby_within_2s(pair):
    primary, standby = pair.primary, pair.standby
    token = f"probe-{time.time_ns()}"
    # From the standby, as an app server would: TLS, verified against the role's CA.
    created = remote(standby, primary, "CREATE TABLE IF NOT EXISTS probe (note text)")
    assert created.rc == 0, created.stderr
    assert remote(standby, primary, f"INSERT INTO probe VALUES ('{token}')").rc == 0
    written = time.monotonic()
    assert eventually(lambda: sql(standby, f"SELECT count(*) FROM probe WHERE note = '{token}'") == "1",
                      seconds=2, interval=0.05)
    print(f"replication delay {primary} -> {standby}: {time.monotonic() - written:.3f}s")


@both_pairs
def test_the_standby_refuses_writes(pair):
    standby = pair.standby
    result = remote(standby, standby, "INSERT INTO probe VALUES ('no')")
    assert result.rc != 0
    assert "read-only transaction" in result.stderr


@both_pairs
def test_the_standby_streams_through_its_active_slot(pair):
    primary, standby = pair.primary, pair.standby
    slot = standby.replace("-", "_")
    assert sql(primary, f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'") == "t"
    assert sql(primary, "SELECT state || ' ' || application_name || ' ' || ssl FROM pg_stat_replication "
               "JOIN pg_stat_ssl USING (pid)") == f"streaming {slot} true"


@both_pairs
@pytest.mark.parametrize("port", [5432, 6432])
def test_a_remote_connection_without_tls_is_refused(pair, port):
    primary, standby = pair.primary, pair.standby
    result = remote(standby, primary, "SELECT 1", port=port, sslmode="disable")
    assert result.rc != 0
    assert ("no encryption" in result.stderr) or ("SSL required" in result.stderr), result.stderr
    assert remote(standby, primary, "SELECT 1", port=port).stdout.strip() == "1"


@both_pairs
def test_a_wrong_password_is_refused_by_pgbouncer(pair):
    primary, standby = pair.primary, pair.standby
    conninfo = f"host={address(primary)} port=6432 dbname=app user=app sslmode=require"
    result = on(standby).run(f"PGPASSWORD=wrong psql -XAt {json.dumps(conninfo)} -c 'SELECT 1'")
    assert result.rc != 0 and "SASL authentication failed" in result.stderr


@both_pairs
def test_no_password_is_written_for_pgbouncer(pair):
    primary = pair.primary
    with on(primary).sudo():
        userlist = on(primary).file("/etc/pgbouncer/userlist.txt")
        assert APP_PASSWORD not in userlist.content_string and "SCRAM-SHA-256$" not in userlist.content_string
        assert userlist.mode == 0o640


@both_pairs
def test_the_tenants_exist_with_their_tables_and_migrations(pair):
    primary, standby = pair.primary, pair.standby
    assert sql(primary, "SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM public.tenants") == \
        "acme:active,globex:active,initech:suspended"
    for tenant in ("acme", "globex", "initech"):
        tables = sql(standby, "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
                     f"WHERE table_schema = 'tenant_{tenant}'")
        assert tables == "inventory_movements,products,schema_migrations,transactions"
        assert sql(primary, f"SELECT string_agg(version::text, ',' ORDER BY version) FROM tenant_{tenant}.schema_migrations") == "1"
    # The application reaches active tenants only.
    assert remote(standby, primary, "SELECT count(*) FROM tenant_acme.products").stdout.strip() == "0"
    assert "permission denied" in remote(standby, primary, "SELECT count(*) FROM tenant_initech.products").stderr
    assert remote(standby, primary, "SELECT count(*) FROM public.tenants").stdout.strip() == "3"
    # It signs its users in through the registry, so it keeps them there (the role grants it that).
    added = remote(standby, primary, "INSERT INTO public.users (tenant_id, email) "
                   "VALUES ('acme', 'probe@example.com') RETURNING tenant_id")
    assert added.stdout.splitlines()[0] == "acme"
    removed = remote(standby, primary, "DELETE FROM public.users WHERE email = 'probe@example.com' RETURNING email")
    assert removed.stdout.splitlines()[0] == "probe@example.com"


def test_applying_the_tenants_again_changes_nothing():
    result = playbook("../../playbooks/tenants.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(changed_counts(result.stdout).values()) == {0}


def test_an_injection_shaped_tenant_id_fails_cleanly_and_runs_nothing():
    evil = "acme; DROP SCHEMA public CASCADE"
    result = playbook("../../playbooks/tenants.yml", "--limit", "pg12-primary",
                      "-e", json.dumps({"postgresql_tenants": [{"id": evil}]}))
    assert result.returncode != 0
    assert "'acme; DROP SCHEMA public CASCADE'" in words(result) and "lower-case" in words(result)
    assert sql("pg12-primary", "SELECT count(*) FROM public.tenants") == "3"


@both_pairs
def test_failover_makes_the_standby_writable_and_the_old_primary_follows_it(pair):
    primary, standby = pair.primary, pair.standby
    started = time.monotonic()
    result = playbook("../../playbooks/failover.yml", "--limit", f"{primary},{standby}",
                      "-e", f"postgresql_failover_to={standby}")
    assert result.returncode == 0, result.stdout[-4000:]
    print(f"failover.yml {primary} -> {standby}: {time.monotonic() - started:.1f}s")
    token = f"after-failover-{time.time_ns()}"
    written = remote(primary, standby, f"INSERT INTO probe VALUES ('{token}')")
    assert written.rc == 0, written.stderr
    assert sql(primary, "SELECT pg_is_in_recovery()") == "t"
    assert eventually(lambda: sql(primary, f"SELECT count(*) FROM probe WHERE note = '{token}'") == "1", seconds=10)
    assert eventually(lambda: sql(primary, "SELECT status FROM pg_stat_wal_receiver") == "streaming", seconds=10)
    assert on(primary).service("pgbouncer").is_running


def test_the_inventory_must_follow_the_failover():
    result = playbook("converge.yml", "--limit", "pg12-primary,pg12-standby")
    assert result.returncode != 0
    assert "pg12-primary is the primary in the inventory but its cluster is a standby" in words(result)
