"""Unit tests for the postgresql_objects module: passwords against real stored secrets, the plan
from a cluster's state, the statements it composes, and input refused before any connection.

The module's reads and writes against a running PostgreSQL are proved by the postgresql
molecule scenario and the lab, which apply it on their primary.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.selfhost.stack.plugins.modules import postgresql_objects as module

psycopg = pytest.importorskip("psycopg")
needs_quoting = pytest.mark.skipif(tuple(int(part) for part in psycopg.__version__.split(".")[:2]) < (3, 2),
                                   reason="psycopg < 3.2 quotes identifiers only on a connection")

# Stored by PostgreSQL 15 (the lab's primary) for the password lab-app-password.
APP_SECRET = ("SCRAM-SHA-256$4096:ZuLtO7DUFmQTad9ZhySyFA==$Wc1nRE5QjSog2EbF5FBgNNPUaiiNyWN8pjfiL6kYTW8="
              ":7Qd57KiHSuWXn+rv5+Bq8fp0wVrBunr7FokFsacEyxI=")
LOOKUP = {"signature": "pgbouncer.user_lookup(text)", "version": "lookup 2", "script": "CREATE FUNCTION ..."}


def params(**overrides):
    values = {
        "roles": [{"name": "replicator", "password": "r-secret", "attributes": ["LOGIN", "REPLICATION"]},
                  {"name": "app", "password": "lab-app-password", "attributes": ["LOGIN"]}],
        "databases": [{"name": "app", "owner": "app", "encoding": "UTF-8"}],
        "function_grants": [{"role": "replicator", "functions": ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]}],
        "replication_slots": ["standby"],
        "database_functions": [LOOKUP],
        "settings": {},
        "login_db": "postgres",
    }
    values.update(overrides)
    return values


def role_row(login=True, replication=False, password=None):
    return {"rolcanlogin": login, "rolreplication": replication, "rolcreatedb": False, "rolcreaterole": False,
            "rolpassword": password}


def current_state():
    """A cluster that has everything params() lists."""
    replicator_secret = "md5" + hashlib.md5(b"r-secretreplicator").hexdigest()
    return {
        "roles": {"replicator": role_row(replication=True, password=replicator_secret),
                  "app": role_row(password=APP_SECRET)},
        "databases": {"app": {"owner": "app", "encoding": "UTF8"}},
        "slots": {"standby": "physical"},
        "grants": [{"role": "replicator", "function": "pg_catalog.pg_ls_dir(text, boolean, boolean)",
                    "procedure": "pg_ls_dir(text,boolean,boolean)", "granted": True}],
        "versions": {("app", LOOKUP["signature"]): "lookup 2"},
        "settings": {},
    }


# --- passwords -------------------------------------------------------------------------------------

def test_a_scram_secret_matches_its_password_only():
    assert module.password_matches(APP_SECRET, "app", "lab-app-password")
    assert not module.password_matches(APP_SECRET, "app", "lab-app-password2")


def test_an_md5_secret_matches_its_password_and_role_only():
    secret = "md5" + hashlib.md5(b"s3cretapp").hexdigest()
    assert module.password_matches(secret, "app", "s3cret")
    assert not module.password_matches(secret, "other", "s3cret")


@pytest.mark.parametrize("stored", [None, "", "plain-text"])
def test_no_stored_secret_matches(stored):
    assert not module.password_matches(stored, "app", "plain-text")


@pytest.mark.parametrize("password, prepared", [
    ("plain ASCII~", "plain ASCII~"),
    ("soft\u00adhyphen", "softhyphen"),      # mapped to nothing
    ("nbsp\u00a0space", "nbsp space"),       # a non-ASCII space is a space
    ("\u2168", "IX"),                        # NFKC
    ("bell\u0007\u00e9", "bell\u0007\u00e9"),  # prohibited: the password itself, as the server does
])
def test_saslprep_prepares_as_postgresql_does(password, prepared):
    assert module.saslprep(password) == prepared


# --- input ---------------------------------------------------------------------------------------

def test_bad_slot_names_and_repeated_entries_are_named():
    errors = module.validate(params(replication_slots=["standby", "Standby-1"],
                                    roles=[{"name": "app"}, {"name": "app"}]))
    assert errors == ["replication_slots[1]: 'Standby-1' is not a slot name (lower-case letters, digits and "
                      "underscores, at most 63)", "roles: 'app' is listed more than once"]


def test_bad_input_fails_before_any_connection(run_module, monkeypatch):
    monkeypatch.setattr(module, "connect", lambda *_: pytest.fail("connected"))
    result = run_module(module, {"replication_slots": ["no-dashes"]})
    assert result["failed"] is True
    assert result["msg"].startswith("replication_slots[0]: 'no-dashes' is not a slot name")


# --- the plan --------------------------------------------------------------------------------------

def test_a_cluster_that_has_everything_needs_nothing():
    assert module.plan(params(), current_state()) == ([], [])


def test_an_empty_cluster_gets_everything_in_order():
    state = {"roles": {}, "databases": {}, "slots": {}, "versions": {},
             "grants": [{"role": "replicator", "function": "f()", "procedure": "f()", "granted": False}]}
    changes, refusals = module.plan(params(), state)
    assert refusals == []
    assert changes == [
        ("role", "replicator", False, ["LOGIN", "REPLICATION"], "r-secret"),
        ("role", "app", False, ["LOGIN"], "lab-app-password"),
        ("database", "app", "app", "UTF-8"),
        ("grant", "replicator", "f()"),
        ("slot", "standby"),
        ("function", "app", LOOKUP["signature"], LOOKUP["script"], "lookup 2"),
    ]


def test_only_what_differs_changes():
    state = current_state()
    state["roles"]["replicator"]["rolreplication"] = False
    state["roles"]["app"]["rolpassword"] = "md5" + hashlib.md5(b"old-passwordapp").hexdigest()
    state["databases"]["app"]["owner"] = "postgres"
    state["versions"][("app", LOOKUP["signature"])] = "lookup 1"
    changes = module.plan(params(), state)[0]
    assert changes == [
        ("role", "replicator", True, ["REPLICATION"], None),
        ("role", "app", True, [], "lab-app-password"),
        ("owner", "app", "app"),
        ("function", "app", LOOKUP["signature"], LOOKUP["script"], "lookup 2"),
    ]


def test_a_role_without_a_password_keeps_its_own():
    roles = [{"name": "app", "password": None, "attributes": ["LOGIN"]}]
    assert module.plan(params(roles=roles), current_state()) == ([], [])


def test_what_cannot_be_done_is_refused_naming_it():
    state = current_state()
    state["databases"]["app"]["encoding"] = "SQL_ASCII"
    state["slots"]["standby"] = "logical"
    state["grants"][0]["procedure"] = None
    changes, refusals = module.plan(params(databases=[{"name": "app", "owner": "app", "encoding": "UTF8"},
                                                      {"name": "other", "owner": "nobody", "encoding": "UTF8"}]),
                                    state)
    assert refusals == [
        "databases[0]: 'app' has encoding SQL_ASCII, not UTF8, which PostgreSQL cannot change (dump it into a new "
        "database)",
        "databases[1]: owner 'nobody' is not a role of the cluster, nor in roles",
        "function_grants: no function pg_catalog.pg_ls_dir(text, boolean, boolean) in database 'postgres'",
        "replication_slots: 'standby' is the name of a logical slot",
    ]
    assert ("database", "other", "nobody", "UTF8") in changes


# --- statements ----------------------------------------------------------------------------------

@needs_quoting
def test_a_password_is_sent_hashed_and_never_shown():
    change = ("role", "app", False, ["LOGIN"], "lab-app-password")
    query, shown, database = module.compose(change, None, lambda password, role: f"SCRAM-of-{role}")
    assert query.as_string(None) == "CREATE ROLE \"app\" WITH LOGIN PASSWORD 'SCRAM-of-app'"
    assert shown == "CREATE ROLE \"app\" WITH LOGIN PASSWORD '********'"
    assert database is None


@needs_quoting
@pytest.mark.parametrize("change, shown", [
    (("role", "replicator", True, ["REPLICATION"], None), 'ALTER ROLE "replicator" WITH REPLICATION'),
    (("role", "ro", False, [], None), 'CREATE ROLE "ro"'),
    (("database", "app", "app", "UTF8"), "CREATE DATABASE \"app\" OWNER \"app\" ENCODING 'UTF8'"),
    (("owner", "app", "app"), 'ALTER DATABASE "app" OWNER TO "app"'),
    (("grant", "replicator", "pg_ls_dir(text,boolean,boolean)"),
     'GRANT EXECUTE ON FUNCTION pg_ls_dir(text,boolean,boolean) TO "replicator"'),
    (("slot", "standby"), "SELECT pg_create_physical_replication_slot('standby', true)"),
])
def test_each_change_is_one_statement(change, shown):
    query, text, database = module.compose(change, None, pytest.fail)
    assert (query.as_string(None), text, database) == (shown, shown, None)


CONNINFO = "host=10.0.0.1 user=replicator passfile=/var/lib/postgresql/.pgpass-replication sslmode=verify-full"


def test_a_setting_changes_only_where_alter_system_wrote_another_value():
    state = dict(current_state(), settings={"primary_conninfo": CONNINFO, "primary_slot_name": "old"})
    wanted = params(settings={"primary_conninfo": CONNINFO, "primary_slot_name": "standby", "hot_standby_feedback": "on"})
    changes = [("setting", "hot_standby_feedback", "on"), ("setting", "primary_slot_name", "standby")]
    assert module.plan(wanted, state) == (changes, [])
    assert [module.describe(change, state) for change in changes] == [
        ("setting hot_standby_feedback", "not set by ALTER SYSTEM", "on"), ("setting primary_slot_name", "old", "standby")]


@needs_quoting
def test_a_setting_is_one_alter_system_statement():
    change = ("setting", "primary_conninfo", "host=10.0.0.1 application_name='s'")
    query, shown, database = module.compose(change, None, pytest.fail)
    assert (query.as_string(None), database) == (shown, None)
    assert shown == """ALTER SYSTEM SET "primary_conninfo" = 'host=10.0.0.1 application_name=''s'''"""


def test_a_setting_that_is_no_name_is_refused():
    assert module.validate(params(settings={"primary_conninfo; DROP ROLE x": "y"})) == [
        "settings: 'primary_conninfo; DROP ROLE x' is not a setting's name"]


def test_a_versioned_function_runs_its_script_in_its_database():
    change = ("function", "app", LOOKUP["signature"], "CREATE FUNCTION x() ...", "lookup 2")
    query, shown, database = module.compose(change, None, pytest.fail)
    assert (query.as_string(None), database) == ("CREATE FUNCTION x() ...", "app")
    assert shown == "-- in database app: the script of pgbouncer.user_lookup(text)"


def test_the_diff_says_what_each_object_was_and_becomes_without_a_password():
    state = current_state()
    described = [module.describe(change, state) for change in [
        ("role", "replicator", True, ["CREATEDB"], "x"), ("owner", "app", "postgres"), ("slot", "standby2")]]
    assert described == [
        ("role replicator", "LOGIN, REPLICATION", "CREATEDB, LOGIN, REPLICATION, a new password"),
        ("database app", "owned by app", "owned by postgres"),
        ("replication slot standby2", "absent", "physical, its WAL position reserved"),
    ]
