"""Unit tests for the postgresql_tenant module: input checks, the plan, and the SQL it composes.

Nothing here needs a PostgreSQL server: the tests that run the module give it a fake
connection that answers the read queries and records the rest.
"""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.selfhost.stack.plugins.module_utils import postgresql, tenant_migrations
from ansible_collections.selfhost.stack.plugins.modules import postgresql_tenant as module
from ansible_collections.selfhost.stack.plugins.modules.postgresql_tenant import (
    Action,
    PlanError,
    RegistryRow,
    SchemaState,
)
from ansible_collections.selfhost.stack.plugins.module_utils.tenants import Tenant

psycopg = pytest.importorskip("psycopg")
# Identifiers are quoted without a connection from psycopg 3.2 on; 3.1 needs one.
QUOTES_WITHOUT_CONNECTION = tuple(int(part) for part in psycopg.__version__.split(".")[:2]) >= (3, 2)
needs_quoting = pytest.mark.skipif(not QUOTES_WITHOUT_CONNECTION, reason="psycopg < 3.2 quotes identifiers only on a connection")

INJECTIONS = ["acme; DROP SCHEMA public CASCADE", "acme\n", 'x"y', "Acme", "1acme", "acme-shop", "", "acme\x00", "ácme"]
LATEST = tenant_migrations.latest(tenant_migrations.TENANT_MIGRATIONS)


def params(**overrides):
    values = dict(tenants=[{"id": "acme", "name": "Acme", "state": "present"}], database="app", app_role="app",
                  schema_prefix="tenant_", drop_data=False)
    values.update(overrides)
    return values


def tenant(tenant_id="acme", state="present", name=None):
    return Tenant(tenant_id, name or tenant_id, state, "tenant_" + tenant_id)


def schema(tables=("inventory_movements", "products", "transactions"), usage=True, granted=True, has_migrations=True):
    return SchemaState(has_migrations, tuple(tables), usage, granted)


def kinds(tenant_plan):
    return [action.kind for action in tenant_plan.actions]


# --- input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", INJECTIONS)
def test_an_id_that_is_not_a_plain_identifier_is_refused_naming_the_entry(bad_id):
    wanted, errors = module.validate(params(tenants=[{"id": "good"}, {"id": bad_id}]))
    assert [entry.id for entry in wanted] == ["good"]
    assert len(errors) == 1
    assert errors[0].startswith("tenants[1]: id ") and repr(bad_id) in errors[0]
    assert "^[a-z][a-z0-9_]*$" in errors[0]


def test_duplicate_ids_too_long_and_reserved_schemas_are_refused():
    wanted, errors = module.validate(params(tenants=[{"id": "acme"}, {"id": "acme"}, {"id": "a" * 57}]))
    assert errors == ["tenants[1]: id 'acme' is already given by tenants[0]",
                      f"tenants[2] (id '{'a' * 57}'): the schema name 'tenant_{'a' * 57}' (schema_prefix + id) must be "
                      "at most 63 bytes long"]
    assert len(wanted) == 2
    assert module.validate(params(tenants=[{"id": "a" * 56}]))[1] == []
    # A prefix and an id that together name public would let state absent drop it.
    assert "reserved" in module.validate(params(schema_prefix="pub", tenants=[{"id": "lic"}]))[1][0]
    assert "pg_" in module.validate(params(schema_prefix="pg_"))[1][0]


@pytest.mark.parametrize("option", ["database", "app_role", "schema_prefix"])
def test_database_role_and_prefix_follow_the_same_rule(option):
    errors = module.validate(params(**{option: 'app"; DROP ROLE postgres; --'}))[1]
    assert len(errors) == 1 and errors[0].startswith(f"{option} 'app\"")


def test_name_defaults_to_the_id_and_an_empty_role_is_no_role():
    wanted, errors = module.validate(params(tenants=[{"id": "acme", "name": None, "state": None}], app_role=""))
    assert errors == [] and wanted == [Tenant("acme", "acme", "present", "tenant_acme")]
    assert module.validate(params(tenants=[{"id": "acme", "name": "  "}]))[1] == ["tenants[0] (id 'acme'): name is empty"]


# --- the module, with a fake connection ---------------------------------------------------------------

class FakeCursor:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows


class FakeConnection:
    """Answers the module's read queries from a given state; records every statement."""

    adapters = psycopg.adapters
    connection = None  # as an adaptation context: no connection, so psycopg >= 3.2 quotes by itself

    def __init__(self, registry=(), schemas=(), applied=(), registry_exists=True, registry_granted=True):
        self.registry, self.schemas, self.applied = list(registry), list(schemas), list(applied)
        self.registry_exists, self.registry_granted = registry_exists, registry_exists and registry_granted
        self.statements, self.commits, self.closed = [], 0, False

    def execute(self, statement):
        text = statement.as_string(self)
        self.statements.append(text)
        if text.startswith("SELECT to_regclass"):
            return FakeCursor([(self.registry_exists, self.registry_exists, True, self.registry_granted)])
        if text.startswith("SELECT version FROM public.tenant_registry_migrations"):
            return FakeCursor([(1,)])
        if text.startswith("SELECT id, name, schema_name, status FROM public.tenants"):
            return FakeCursor(self.registry)
        if text.startswith("WITH roles AS"):
            return FakeCursor(self.schemas)
        if text.startswith("SELECT 'tenant_") and "schema_migrations" in text:
            return FakeCursor(self.applied)
        return FakeCursor([])

    def commit(self):
        self.commits += 1

    def rollback(self):
        pass

    def close(self):
        self.closed = True


def run_module(monkeypatch, capsys, arguments, connection=None):
    """Runs the module; returns its result and the list of connections it asked for."""
    connects = []

    def connect(ansible_module, database):
        connects.append(database)
        return connection

    monkeypatch.setattr(postgresql, "connect", connect)
    with patch_module_args(arguments), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out), connects


def test_injection_ids_fail_before_any_connection(monkeypatch, capsys):
    arguments = params(tenants=[{"id": "acme"}, {"id": "acme; DROP SCHEMA public CASCADE"}, {"id": 'x"y'}])
    result, connects = run_module(monkeypatch, capsys, arguments)
    assert connects == []
    assert result["failed"] is True and result["msg"].startswith("invalid input, nothing was run: ")
    assert "tenants[1]: id 'acme; DROP SCHEMA public CASCADE' must be a lower-case letter" in result["msg"]
    assert "tenants[2]: id 'x\"y'" in result["msg"]


def test_without_psycopg_the_module_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(postgresql, "psycopg", None)
    result, connects = run_module(monkeypatch, capsys, params())
    assert connects == [] and result["failed"] is True
    assert "python3-psycopg" in result["msg"]


@needs_quoting
def test_check_mode_only_reads_and_reports_what_would_change(monkeypatch, capsys):
    connection = FakeConnection(registry_exists=False)
    arguments = dict(params(tenants=[{"id": "acme", "name": "Acme"}]), _ansible_check_mode=True)
    result, connects = run_module(monkeypatch, capsys, arguments, connection)
    assert connects == ["app"] and connection.closed and connection.commits == 0
    assert all(text.startswith(("SELECT", "WITH")) for text in connection.statements)
    assert result["changed"] is True and result["queries"] == connection.statements
    assert result["registry"] == {"migrations": [], "pending_migrations": [1], "grant_app_role": True}
    assert result["tenants"]["acme"]["pending_migrations"] == list(range(1, LATEST + 1))
    assert result["tenants"]["acme"]["actions"][:2] == ["register as active", "create schema tenant_acme"]
    assert result["diff"]["before"]["acme"] == {"state": "absent", "name": None, "migrations": []}
    assert result["diff"]["after"]["acme"]["state"] == "present"


@needs_quoting
def test_the_reads_do_not_grow_with_the_tenants(monkeypatch, capsys):
    def reads(count):
        ids = [f"shop_{number}" for number in range(count)]
        connection = FakeConnection(
            registry=[(tenant_id, tenant_id, f"tenant_{tenant_id}", "active") for tenant_id in ids],
            schemas=[(f"tenant_{tenant_id}", True, ["products"], True, True) for tenant_id in ids],
            applied=[(f"tenant_{tenant_id}", version) for tenant_id in ids for version in range(1, LATEST + 1)])
        result, unused = run_module(monkeypatch, capsys, params(tenants=[{"id": tenant_id} for tenant_id in ids]),
                                    connection)
        assert result["changed"] is False and connection.commits == 0
        return connection.statements

    assert len(reads(3)) == len(reads(300)) == 6
    assert reads(300)[-1].count("UNION ALL") == 299


@needs_quoting
def test_the_module_applies_one_transaction_per_tenant(monkeypatch, capsys):
    connection = FakeConnection(registry=[("acme", "Acme", "tenant_acme", "active")],
                                schemas=[("tenant_acme", True, ["products"], True, True)],
                                applied=[("tenant_acme", version) for version in range(1, LATEST + 1)])
    arguments = params(tenants=[{"id": "acme", "name": "Acme"}, {"id": "bobs", "state": "suspended"}])
    result, unused = run_module(monkeypatch, capsys, arguments, connection)
    assert result["changed"] is True and connection.commits == 1
    assert result["tenants"]["acme"]["changed"] is False and result["tenants"]["bobs"]["changed"] is True
    writes = connection.statements[6:]
    assert writes[0] == "INSERT INTO public.tenants (id, name, schema_name, status) VALUES ('bobs', 'bobs', 'tenant_bobs', 'suspended')"
    assert 'GRANT USAGE ON SCHEMA "tenant_bobs" TO "app"' not in writes


@needs_quoting
@pytest.mark.parametrize("app_role", ["app", ""])
def test_the_registry_grants_are_given_in_its_transaction_only_when_missing(monkeypatch, capsys, app_role):
    connection = FakeConnection(registry_granted=False)
    result, unused = run_module(monkeypatch, capsys, params(tenants=[], app_role=app_role), connection)
    grants = ['GRANT SELECT ON TABLE "public"."tenants" TO "app"',
              'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."users" TO "app"']
    assert result["registry"]["grant_app_role"] is bool(app_role) and result["changed"] is bool(app_role)
    assert [text for text in connection.statements if text.startswith("GRANT")] == (grants if app_role else [])
    assert connection.commits == (1 if app_role else 0)
    held = FakeConnection()
    result, unused = run_module(monkeypatch, capsys, params(tenants=[]), held)
    assert result["changed"] is False and not [text for text in held.statements if text.startswith("GRANT")]


def test_the_registry_grants_are_read_from_the_acls_in_the_first_query():
    text = module.meta_query("app").as_string(FakeConnection())
    assert "aclexplode(c.relacl)" in text and "rolname = 'app'" in text
    assert text.endswith("(c.relname = 'users' AND a.privilege_type = ANY "
                         "(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']::text[])))) = 5")


# --- plan ----------------------------------------------------------------------------------------

def test_a_new_tenant_gets_everything():
    tenant_plan = module.plan_tenant(tenant(), None, None, set(), None, "app", False)
    assert kinds(tenant_plan) == (["register", "create_schema", "create_migrations_table"] + ["migrate"] * LATEST
                                  + ["grant"])
    assert tenant_plan.actions[0] == Action("register", "active") and tenant_plan.actions[-1] == Action("grant", True)
    assert tenant_plan.pending == list(range(1, LATEST + 1))


def test_a_tenant_as_wanted_needs_nothing():
    row = RegistryRow("acme", "tenant_acme", "active")
    assert module.plan_tenant(tenant(), row, schema(), set(range(1, LATEST + 1)), None, "app", False).actions == []
    # Without an app role the grants are not looked at.
    assert module.plan_tenant(tenant(), row, schema(usage=False, granted=False), set(range(1, LATEST + 1)), None,
                              None, False).actions == []


def test_a_new_migration_is_applied_then_granted(monkeypatch):
    second = tenant_migrations.Migration(LATEST + 1, "customers", ("CREATE TABLE customers (id bigint)",))
    monkeypatch.setattr(module, "TENANT_MIGRATIONS", tenant_migrations.TENANT_MIGRATIONS + (second,))
    row = RegistryRow("acme", "tenant_acme", "active")
    tenant_plan = module.plan_tenant(tenant(), row, schema(), set(range(1, LATEST + 1)), None, "app", False)
    assert tenant_plan.actions == [Action("migrate", second), Action("grant", True)]
    assert tenant_plan.pending == [LATEST + 1]


def test_suspending_keeps_the_data_and_revokes_usage():
    row = RegistryRow("Acme", "tenant_acme", "active")
    tenant_plan = module.plan_tenant(tenant(state="suspended", name="Acme"), row, schema(), set(range(1, LATEST + 1)),
                                     None, "app", False)
    assert tenant_plan.actions == [Action("update", {"status": "suspended"}), Action("revoke_usage", None)]
    suspended = RegistryRow("Acme", "tenant_acme", "suspended")
    assert module.plan_tenant(tenant(state="suspended", name="Acme"), suspended, schema(usage=False),
                              set(range(1, LATEST + 1)), None, "app", False).actions == []
    # Back to present: the status and the usage come back, and the name follows the inventory.
    assert module.plan_tenant(tenant(name="Acme Stores"), suspended, schema(usage=False), set(range(1, LATEST + 1)),
                              None, "app", False).actions == [
        Action("update", {"name": "Acme Stores", "status": "active"}), Action("grant", True)]


def test_a_tenant_with_rows_is_not_dropped_unless_asked():
    row = RegistryRow("acme", "tenant_acme", "active")
    rows = {"products": 3, "transactions": 0, "public.users": 2}
    with pytest.raises(PlanError, match=r"tenant 'acme' is to be absent but holds 5 rows \(products 3, public.users 2\)"):
        module.plan_tenant(tenant(state="absent"), row, schema(), {1}, rows, "app", False)
    tenant_plan = module.plan_tenant(tenant(state="absent"), row, schema(), {1}, rows, "app", True)
    assert tenant_plan.actions == [Action("drop_schema", 5), Action("unregister", None)]
    assert module.plan_tenant(tenant(state="absent"), row, schema(), {1}, {"products": 0}, "app", False).actions == [
        Action("drop_schema", 0), Action("unregister", None)]
    assert module.plan_tenant(tenant(state="absent"), None, None, set(), None, "app", False).actions == []


def test_every_refusal_is_reported_at_once_and_before_anything_runs():
    wanted = [tenant("acme", "absent"), tenant("bobs", "absent"), tenant("carl")]
    registry = {"acme": RegistryRow("acme", "tenant_acme", "active"), "bobs": RegistryRow("bobs", "shop_bobs", "active")}
    with pytest.raises(PlanError) as refused:
        module.plan(wanted, registry, {"tenant_acme": schema()}, {}, {"acme": {"products": 1}}, "app", False)
    assert "tenant 'acme' is to be absent but holds 1 row (products 1)" in str(refused.value)
    assert "tenant 'bobs' is registered with schema 'shop_bobs'" in str(refused.value)


def test_a_schema_this_module_did_not_make_is_not_adopted():
    with pytest.raises(PlanError, match="holds tables but no schema_migrations"):
        module.plan_tenant(tenant(), None, schema(has_migrations=False), set(), None, "app", False)
    # An empty schema of that name is taken over.
    tenant_plan = module.plan_tenant(tenant(), None, schema(tables=(), has_migrations=False), set(), None, None, False)
    assert kinds(tenant_plan)[:3] == ["register", "create_migrations_table", "migrate"]


def test_what_the_read_phase_looks_at():
    wanted = [tenant("acme"), tenant("bobs", "absent"), tenant("carl", "absent"), tenant("dave", "absent")]
    registry = {"acme": RegistryRow("acme", "old_acme", "active"), "carl": RegistryRow("carl", "tenant_carl", "active")}
    assert module.schemas_to_read(wanted, registry) == ["tenant_acme", "old_acme", "tenant_bobs", "tenant_carl",
                                                        "tenant_dave"]
    schemas = {"tenant_bobs": schema(tables=("products",))}
    assert module.tenants_to_drop(wanted, registry, schemas) == {"bobs": ("tenant_bobs", ["products"]),
                                                                 "carl": ("tenant_carl", [])}


def test_the_diff_shows_state_name_and_migrations():
    row = RegistryRow("Acme", "tenant_acme", "suspended")
    assert module.before_view(tenant(), row, schema(), [1]) == {"state": "suspended", "name": "Acme", "migrations": [1]}
    assert module.before_view(tenant(), None, schema(), [1])["state"] == "unregistered"
    tenant_plan = module.plan_tenant(tenant(name="Acme"), None, None, set(), None, None, False)
    assert module.after_view(tenant_plan) == {"state": "present", "name": "Acme",
                                              "migrations": list(range(1, LATEST + 1))}


def test_the_shipped_migrations_are_well_formed():
    assert tenant_migrations.problems(tenant_migrations.TENANT_MIGRATIONS) == []
    assert tenant_migrations.problems(tenant_migrations.REGISTRY_MIGRATIONS) == []
    broken = (tenant_migrations.Migration(1, "initial", ("SELECT 1",)), tenant_migrations.Migration(3, "initial", ("",)))
    assert tenant_migrations.problems(broken) == ["migration 'initial' has version 3, expected 2",
                                                  "migration 3 has an empty statement",
                                                  "migration name 'initial' is used twice"]
    # Tenant migrations name no schema but public: search_path makes them the tenant's.
    for migration in tenant_migrations.TENANT_MIGRATIONS:
        for text in migration.statements:
            assert "tenant_" not in text and "search_path" not in text


# --- SQL -----------------------------------------------------------------------------------------

@needs_quoting
def test_identifiers_are_quoted_and_values_are_literals():
    hostile = Tenant('x"y', "Bob's; DROP TABLE x", "present", 'tenant_x"y')
    register = module.action_statements(hostile, Action("register", "active"), "app")[0].as_string()
    assert register == ("INSERT INTO public.tenants (id, name, schema_name, status) "
                        "VALUES ('x\"y', 'Bob''s; DROP TABLE x', 'tenant_x\"y', 'active')")
    assert module.action_statements(hostile, Action("create_schema", None), "app")[0].as_string() == \
        'CREATE SCHEMA "tenant_x""y"'
    assert module.action_statements(hostile, Action("drop_schema", 0), None)[0].as_string() == \
        'DROP SCHEMA "tenant_x""y" CASCADE'


@needs_quoting
def test_a_migration_runs_in_the_tenants_search_path_and_is_recorded():
    migration = tenant_migrations.TENANT_MIGRATIONS[0]
    statements = [statement.as_string() for statement in
                  module.action_statements(tenant(), Action("migrate", migration), None)]
    assert statements[0] == 'SET LOCAL search_path TO "tenant_acme"'
    assert statements[1:-1] == list(migration.statements)
    assert statements[-1] == 'INSERT INTO "tenant_acme"."schema_migrations" (version, name) VALUES (1, \'initial\')'


@needs_quoting
def test_grants_and_revoke():
    grant = [statement.as_string() for statement in module.action_statements(tenant(), Action("grant", True), "app")]
    assert grant == [
        'GRANT USAGE ON SCHEMA "tenant_acme" TO "app"',
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "tenant_acme" TO "app"',
        'REVOKE ALL ON TABLE "tenant_acme"."schema_migrations" FROM "app"',
        'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "tenant_acme" TO "app"',
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "tenant_acme" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app"',
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "tenant_acme" GRANT USAGE, SELECT ON SEQUENCES TO "app"',
    ]
    assert len(module.action_statements(tenant(), Action("grant", False), "app")) == 5
    assert module.action_statements(tenant(), Action("revoke_usage", None), "app")[0].as_string() == \
        'REVOKE USAGE ON SCHEMA "tenant_acme" FROM "app"'


@needs_quoting
def test_the_read_queries_are_one_statement_each_whatever_the_tenants():
    schemas = [f"tenant_shop_{number}" for number in range(3)]
    migrations = module.migrations_query(schemas).as_string()
    assert migrations.count("UNION ALL") == 2 and migrations.count(";") == 0
    assert migrations.startswith("SELECT 'tenant_shop_0'::text, version FROM \"tenant_shop_0\".\"schema_migrations\"")
    state = module.schemas_query(schemas, "app").as_string()
    assert "ARRAY['tenant_shop_0', 'tenant_shop_1', 'tenant_shop_2']::text[]" in state and "rolname = 'app'" in state
    assert "rolname = NULL" in module.schemas_query([], None).as_string()
    counts = module.row_counts_query({"acme": ("tenant_acme", ["products", "transactions"])}, True).as_string()
    assert counts == ("SELECT 'acme'::text, 'products'::text, count(*) FROM \"tenant_acme\".\"products\"\n"
                      "UNION ALL SELECT 'acme'::text, 'transactions'::text, count(*) FROM \"tenant_acme\".\"transactions\"\n"
                      "UNION ALL SELECT tenant_id, 'public.users', count(*) FROM public.users "
                      "WHERE tenant_id = ANY (ARRAY['acme']::text[]) GROUP BY tenant_id")


@needs_quoting
def test_the_registry_is_created_then_recorded():
    statements = [statement.as_string() for statement in
                  module.registry_statements(False, tenant_migrations.REGISTRY_MIGRATIONS)]
    assert statements[0].startswith("CREATE TABLE public.tenant_registry_migrations")
    assert statements[1].startswith("CREATE TABLE public.tenants") and statements[2].startswith("CREATE TABLE public.users")
    assert statements[-1] == "INSERT INTO public.tenant_registry_migrations (version, name) VALUES (1, 'initial')"
    assert module.registry_statements(True, []) == []


def test_connection_parameters_leave_empty_options_to_libpq():
    options = dict(login_user="postgres", login_password="", login_host="", login_unix_socket="", port=5432,
                   ssl_mode="prefer", ca_cert=None, connect_timeout=10)
    parameters = postgresql.connection_parameters(options, "app")
    assert "host" not in parameters and "password" not in parameters and parameters["dbname"] == "app"
    options.update(login_unix_socket="/run/postgresql", login_password="secret", ca_cert="/etc/ca.pem")
    parameters = postgresql.connection_parameters(options, "app")
    assert parameters["host"] == "/run/postgresql" and parameters["sslrootcert"] == "/etc/ca.pem"
    assert postgresql.connection_parameters(dict(options, login_host="10.0.0.1"), "app")["host"] == "10.0.0.1"
