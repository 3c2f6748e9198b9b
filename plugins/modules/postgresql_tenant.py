#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps the tenant registry and one schema per tenant, with the collection's migrations."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_tenant
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep the tenants of a multi-tenant application, one PostgreSQL schema each
description:
  - Keeps, in one application database, a registry of tenants (tables C(public.tenants) and
    C(public.users)) and one schema per tenant (O(schema_prefix) followed by the tenant's id)
    holding the application's tables, at the latest version of the migrations shipped with
    the collection. A tenant's schema records the migrations it has in its own
    C(schema_migrations) table; the registry records its version in
    C(public.tenant_registry_migrations). A later release of the collection appends
    migrations, and the next run applies them to every tenant.
  - Tenants that are not listed are left as they are.
  - Every input is checked before the module connects; an id, role or database that is not a
    plain lower-case identifier is refused, naming the tenant entry, and nothing is run.
  - Two runs against the same database wait for each other (an advisory lock held by the
    module's session), so connect to PostgreSQL itself, not through a pooler in transaction mode.
  - Reads the whole state in a constant number of queries, however many tenants there are,
    then writes what differs, one transaction per tenant. When a tenant fails, the tenants
    before it are done, the ones after it are not tried, and the error names the tenant.
  - Migrations run as O(login_user), with C(search_path) set to the tenant's schema. The
    application's role never gets C(CREATE) on a tenant's schema, so it cannot place objects
    there that the migrations would pick up.
  - The database itself and the application's role must exist; the role
    selfhost.stack.postgresql creates them.
options:
  tenants:
    description: The tenants to keep.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description:
          - The tenant's id, also the end of its schema's name. A lower-case letter, then
            lower-case letters, digits or underscores (V(^[a-z][a-z0-9_]*$)), making with
            O(schema_prefix) a name of at most 63 bytes. Ids are unique.
        type: str
        required: true
      name:
        description: The tenant's display name, kept in the registry; the id when not given.
        type: str
      state:
        description:
          - V(present) registers the tenant as active, makes its schema, applies the pending
            migrations and grants O(app_role) the use of the schema.
          - V(suspended) does the same but registers the tenant as suspended and revokes
            O(app_role)'s C(USAGE) on the schema; the data stays.
          - V(absent) drops the schema and removes the tenant (and its users) from the
            registry; refused when the tenant holds rows, unless O(drop_data) is true.
        type: str
        choices: [present, suspended, absent]
        default: present
  database:
    description:
      - The application database holding the registry and every tenant. It must exist; this
        module does not create it.
      - Same form as a tenant's id.
    type: str
    required: true
  app_role:
    description:
      - The application's role. For a present tenant it gets C(USAGE) on the schema,
        C(SELECT), C(INSERT), C(UPDATE), C(DELETE) on its tables (not on C(schema_migrations)),
        C(USAGE) and C(SELECT) on its sequences, and the same on future tables and sequences
        (default privileges of O(login_user)). For a suspended tenant it loses C(USAGE) on the
        schema.
      - On the registry, through which the application signs its users in, it gets C(SELECT) on
        C(public.tenants) and C(SELECT), C(INSERT), C(UPDATE), C(DELETE) on C(public.users).
      - Same form as a tenant's id. PostgreSQL allows other role names, but this module only
        takes names that never need quoting.
      - Nothing is granted or revoked when not given or empty.
    type: str
  schema_prefix:
    description: What a tenant's schema name starts with; same form as a tenant's id, not starting with C(pg_).
    type: str
    default: tenant_
  drop_data:
    description: Let a tenant set V(absent) be dropped although its tables or its users hold rows.
    type: bool
    default: false
  login_user:
    description: The role the module connects as; it needs to own or create the schemas (a superuser, typically).
    type: str
    default: postgres
extends_documentation_fragment:
  - selfhost.stack.postgresql
attributes:
  check_mode:
    description: Only reads; reports for each tenant what would change and the migrations it would apply.
    support: full
  diff_mode:
    description: Shows each listed tenant's state, name and migrations before and after.
    support: full
notes:
  - Dropping a tenant counts the rows of every table in its schema, which reads those tables.
"""

EXAMPLES = r"""
- name: Keep the tenants of the POS application
  selfhost.stack.postgresql_tenant:
    database: app
    app_role: app
    tenants:
      - {id: acme, name: Acme Stores}
      - {id: bobs_bikes, name: "Bob's Bikes", state: suspended}
      - {id: closed_shop, state: absent}
  become: true
  become_user: postgres

- name: Remove a tenant and its data
  selfhost.stack.postgresql_tenant:
    database: app
    tenants: [{id: closed_shop, state: absent}]
    drop_data: true
  become: true
  become_user: postgres
"""

RETURN = r"""
tenants:
  description: Each listed tenant, by id.
  returned: always
  type: dict
  contains:
    state:
      description: The state asked for.
      type: str
      sample: present
    name:
      description: The tenant's name.
      type: str
      sample: Acme Stores
    schema:
      description: The tenant's schema.
      type: str
      sample: tenant_acme
    migrations:
      description: The migration versions the schema has after the run (in check mode, now).
      type: list
      elements: int
      sample: [1]
    pending_migrations:
      description: The versions the schema lacked; applied by the run, or in check mode to be applied.
      type: list
      elements: int
      sample: [1]
    actions:
      description: What the run did, or in check mode would do, for the tenant.
      type: list
      elements: str
      sample: ["register as active", "create schema tenant_acme", "migrate to 1 (initial)", "grant app"]
    changed:
      description: Whether anything changed for the tenant.
      type: bool
  sample:
    acme:
      state: present
      name: Acme Stores
      schema: tenant_acme
      migrations: [1]
      pending_migrations: []
      actions: []
      changed: false
registry:
  description: The registry's own migrations.
  returned: always
  type: dict
  contains:
    migrations:
      description: The registry's versions after the run (in check mode, now).
      type: list
      elements: int
    pending_migrations:
      description: The registry's versions applied by the run, or in check mode to be applied.
      type: list
      elements: int
    grant_app_role:
      description: Whether O(app_role) is granted its privileges on the registry by the run, or in check mode would be.
      type: bool
queries:
  description:
    - The statements run, in order, the reads included; in check mode only reads. Values are
      inlined as literals; no statement carries a password.
  returned: always
  type: list
  elements: str
  sample: ["SELECT pg_advisory_lock(8315171474104087412)", "CREATE SCHEMA \"tenant_acme\""]
migrations_available:
  description: The latest tenant migration version the collection ships.
  returned: always
  type: int
  sample: 1
"""

from collections import namedtuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import postgresql
from ansible_collections.selfhost.stack.plugins.module_utils.tenant_migrations import (
    REGISTRY_MIGRATIONS,
    TENANT_MIGRATIONS,
    latest,
)
# The input is checked before connecting, by the rules site.yml's preflight applies too.
from ansible_collections.selfhost.stack.plugins.module_utils.tenants import STATES, validate

# The key of the advisory lock that serialises runs on one database: "selfhost" in ASCII.
LOCK_KEY = 0x73656C66686F7374
MIGRATIONS_TABLE = "schema_migrations"
STATUS = {"present": "active", "suspended": "suspended"}
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"
# What the application's role may do in the registry: read the tenants, keep their users.
REGISTRY_GRANTS = (("tenants", ("SELECT",)), ("users", ("SELECT", "INSERT", "UPDATE", "DELETE")))

RegistryRow = namedtuple("RegistryRow", "name schema status")
# tables: the schema's tables that hold the tenant's data (schema_migrations left out);
# usage: the app role holds USAGE on the schema; granted: it holds the rest of its grants.
SchemaState = namedtuple("SchemaState", "has_migrations tables usage granted")
Action = namedtuple("Action", "kind detail")
TenantPlan = namedtuple("TenantPlan", "tenant actions applied pending")


class PlanError(Exception):
    """The state found makes the wanted state unsafe or impossible to reach; nothing was run."""


# ---------------------------------------------------------------------------------------------
# Plan: pure functions from the state found to the actions that reach the wanted state.

def schemas_to_read(wanted, registry):
    """The schemas whose state the plan needs: each listed tenant's, and the one the registry names."""
    schemas = []
    for tenant in wanted:
        row = registry.get(tenant.id)
        for schema in (tenant.schema, row.schema if row else None):
            if schema and schema not in schemas:
                schemas.append(schema)
    return schemas


def tenants_to_drop(wanted, registry, schemas):
    """The absent tenants that exist (a schema, a registry row or both), as {id: (schema, [tables])}:
    their rows, and their users, must be counted first."""
    return {tenant.id: (tenant.schema, list(schemas[tenant.schema].tables) if tenant.schema in schemas else [])
            for tenant in wanted
            if tenant.state == "absent" and (tenant.schema in schemas or tenant.id in registry)}


def pending_migrations(applied, migrations=None):
    """The migrations (the tenants' when not given) not in applied, in order."""
    return [migration for migration in (TENANT_MIGRATIONS if migrations is None else migrations)
            if migration.version not in applied]


def plan_tenant(tenant, row, schema_state, applied, rows, app_role, drop_data):
    """The TenantPlan of one tenant.

    row: its RegistryRow or None; schema_state: its SchemaState or None when the schema does
    not exist; applied: the versions in its schema_migrations; rows: {table: row count} when it
    is to be dropped. Raises PlanError when the tenant cannot be brought to its state safely.
    """
    if row is not None and row.schema != tenant.schema:
        raise PlanError(f"tenant {tenant.id!r} is registered with schema {row.schema!r}, but schema_prefix "
                        f"makes it {tenant.schema!r}; this module does not move tenants between schemas")
    actions = []
    if tenant.state == "absent":
        if schema_state is not None or row is not None:
            total = sum((rows or {}).values())
            if total and not drop_data:
                counted = ", ".join(f"{table} {count}" for table, count in sorted(rows.items()) if count)
                raise PlanError(f"tenant {tenant.id!r} is to be absent but holds {total} row{'s' * (total != 1)} "
                                f"({counted}); "
                                "set drop_data to true to drop them")
            if schema_state is not None:
                actions.append(Action("drop_schema", total))
            if row is not None:
                actions.append(Action("unregister", None))
        return TenantPlan(tenant, actions, sorted(applied), [])

    status = STATUS[tenant.state]
    if row is None:
        actions.append(Action("register", status))
    elif (row.name, row.status) != (tenant.name, status):
        actions.append(Action("update", {key: value for key, value in (("name", tenant.name), ("status", status))
                                         if getattr(row, key) != value}))
    if schema_state is None:
        actions += [Action("create_schema", None), Action("create_migrations_table", None)]
        applied = set()
    elif not schema_state.has_migrations:
        if schema_state.tables:
            raise PlanError(f"schema {tenant.schema!r} of tenant {tenant.id!r} holds tables but no "
                            f"{MIGRATIONS_TABLE} table, so this module did not make it; move it away or drop it")
        actions.append(Action("create_migrations_table", None))
        applied = set()
    pending = pending_migrations(applied)
    actions += [Action("migrate", migration) for migration in pending]
    if app_role:
        usage = tenant.state == "present"
        complete = schema_state is not None and schema_state.granted and not pending
        if not complete or (usage and not schema_state.usage):
            actions.append(Action("grant", usage))
        if not usage and schema_state is not None and schema_state.usage:
            actions.append(Action("revoke_usage", None))
    return TenantPlan(tenant, actions, sorted(applied), [migration.version for migration in pending])


def plan(wanted, registry, schemas, applied, row_counts, app_role, drop_data):
    """Every listed tenant's TenantPlan, in order; raises PlanError naming every tenant refused."""
    plans, refusals = [], []
    for tenant in wanted:
        try:
            plans.append(plan_tenant(tenant, registry.get(tenant.id), schemas.get(tenant.schema),
                                     set(applied.get(tenant.schema, ())), row_counts.get(tenant.id),
                                     app_role, drop_data))
        except PlanError as error:
            refusals.append(str(error))
    if refusals:
        raise PlanError("; ".join(refusals))
    return plans


def describe(action, tenant, app_role):
    """One action in words, for the module's result."""
    kind, detail = action
    if kind == "register":
        return f"register as {detail}"
    if kind == "update":
        return "set " + ", ".join(f"{key} to {value!r}" for key, value in detail.items())
    if kind == "create_schema":
        return f"create schema {tenant.schema}"
    if kind == "create_migrations_table":
        return f"create table {MIGRATIONS_TABLE}"
    if kind == "migrate":
        return f"migrate to {detail.version} ({detail.name})"
    if kind == "grant":
        return f"grant {app_role}" + ("" if detail else " (without usage)")
    if kind == "revoke_usage":
        return f"revoke usage from {app_role}"
    if kind == "drop_schema":
        return f"drop schema {tenant.schema} ({detail} rows)"
    return "unregister"


def state_view(state, name, migrations):
    return {"state": state, "name": name, "migrations": sorted(migrations)}


def before_view(tenant, row, schema_state, applied):
    """The tenant as found, for the diff."""
    if row is not None:
        state = "present" if row.status == "active" else row.status
    else:
        state = "absent" if schema_state is None else "unregistered"
    return state_view(state, row.name if row else None, applied if schema_state is not None else ())


def after_view(tenant_plan):
    tenant = tenant_plan.tenant
    if tenant.state == "absent":
        return state_view("absent", None, ())
    return state_view(tenant.state, tenant.name, list(tenant_plan.applied) + tenant_plan.pending)


# ---------------------------------------------------------------------------------------------
# SQL: every identifier is composed with psycopg.sql, every value is a sql.Literal.

def lock_query():
    sql = postgresql.sql
    return sql.SQL("SELECT pg_advisory_lock({})").format(sql.Literal(LOCK_KEY))


def meta_query(app_role):
    """Whether the registry and its migrations table exist, whether app_role exists, and whether
    it holds every privilege of REGISTRY_GRANTS, read from the tables' ACLs (as schemas_query does)."""
    sql = postgresql.sql
    wanted = sql.SQL(" OR ").join(
        sql.SQL("(c.relname = {} AND a.privilege_type = ANY ({}))").format(
            sql.Literal(table), postgresql.literal_array(list(privileges)))
        for table, privileges in REGISTRY_GRANTS)
    return sql.SQL(
        "SELECT to_regclass('public.tenants') IS NOT NULL, "
        "to_regclass('public.tenant_registry_migrations') IS NOT NULL, "
        "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role}), "
        "(SELECT count(DISTINCT c.relname || ' ' || a.privilege_type) FROM pg_class c "
        "CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relname IN ({tables}) "
        "AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = {role}) AND ({wanted})) = {count}"
    ).format(role=sql.Literal(app_role), tables=sql.SQL(", ").join(sql.Literal(table) for table, _privileges in REGISTRY_GRANTS),
             wanted=wanted, count=sql.Literal(sum(len(privileges) for _table, privileges in REGISTRY_GRANTS)))


def registry_versions_query():
    return postgresql.sql.SQL("SELECT version FROM public.tenant_registry_migrations ORDER BY version")


def registry_rows_query():
    return postgresql.sql.SQL("SELECT id, name, schema_name, status FROM public.tenants ORDER BY id")


def schemas_query(schemas, app_role):
    """One row per existing schema of schemas: name, has_migrations, tables, usage, granted.

    pg_class is read once, joined to the schemas (it has no index on the schema alone, so a
    subquery per schema would make the query grow with the square of the tenants). Grants are
    read from the ACLs themselves, not with has_*_privilege, so a privilege the app role holds
    through PUBLIC or a membership does not hide one this module must grant or revoke.
    """
    sql = postgresql.sql
    return sql.SQL("""WITH roles AS (
    SELECT (SELECT oid FROM pg_roles WHERE rolname = {app_role}) AS app,
           (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owner
), schemas AS (
    SELECT n.oid, n.nspname::text AS name,
           EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = r.app AND a.privilege_type = 'USAGE') AS usage
    FROM pg_namespace n CROSS JOIN roles r
    WHERE n.nspname = ANY ({schemas})
), relations AS (
    SELECT c.relnamespace, c.relname::text AS name,
           c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> {migrations} AS holds_data,
           c.relkind IN ('r', 'p') AND c.relname = {migrations} AS is_migrations,
           CASE WHEN c.relname = {migrations} THEN g.privileges = 0
                WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN g.table_privileges = 4
                WHEN c.relkind = 'S' THEN g.sequence_privileges = 2
                ELSE true END AS granted
    FROM pg_class c JOIN schemas s ON c.relnamespace = s.oid CROSS JOIN roles r
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT a.privilege_type) AS privileges,
               count(DISTINCT a.privilege_type) FILTER (
                   WHERE a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')) AS table_privileges,
               count(DISTINCT a.privilege_type) FILTER (WHERE a.privilege_type IN ('USAGE', 'SELECT')) AS sequence_privileges
        FROM aclexplode(c.relacl) a WHERE a.grantee = r.app
    ) g
), defaults AS (
    SELECT d.defaclnamespace, count(DISTINCT d.defaclobjtype::text || a.privilege_type) AS privileges
    FROM pg_default_acl d JOIN schemas s ON d.defaclnamespace = s.oid CROSS JOIN roles r
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
    WHERE d.defaclrole = r.owner AND a.grantee = r.app
      AND ((d.defaclobjtype = 'r' AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
           OR (d.defaclobjtype = 'S' AND a.privilege_type IN ('USAGE', 'SELECT')))
    GROUP BY d.defaclnamespace
)
SELECT s.name,
       coalesce(bool_or(rel.is_migrations), false),
       coalesce(array_agg(rel.name ORDER BY rel.name) FILTER (WHERE rel.holds_data), '{{}}'),
       s.usage,
       coalesce(bool_and(rel.granted), true) AND coalesce(min(def.privileges), 0) = 6
FROM schemas s
LEFT JOIN relations rel ON rel.relnamespace = s.oid
LEFT JOIN defaults def ON def.defaclnamespace = s.oid
GROUP BY s.oid, s.name, s.usage""").format(app_role=sql.Literal(app_role), migrations=sql.Literal(MIGRATIONS_TABLE),
                                           schemas=postgresql.literal_array(schemas))


def migrations_query(schemas):
    """Every schema's applied versions in one query, a UNION ALL over their schema_migrations tables:
    (schema, version) rows."""
    sql = postgresql.sql
    return sql.SQL("\nUNION ALL ").join(
        sql.SQL("SELECT {}::text, version FROM {}").format(
            sql.Literal(schema), sql.Identifier(schema, MIGRATIONS_TABLE))
        for schema in schemas)


def row_counts_query(drops, with_users):
    """The rows of every table of the tenants to drop (drops: {id: (schema, [tables])}), and
    their users when the registry exists: (id, table, count) rows, in one query."""
    sql = postgresql.sql
    parts = [sql.SQL("SELECT {}::text, {}::text, count(*) FROM {}").format(
        sql.Literal(tenant_id), sql.Literal(table), sql.Identifier(schema, table))
        for tenant_id, (schema, tables) in drops.items() for table in tables]
    if with_users:
        parts.append(sql.SQL("SELECT tenant_id, 'public.users', count(*) FROM public.users "
                             "WHERE tenant_id = ANY ({}) GROUP BY tenant_id").format(postgresql.literal_array(list(drops))))
    return sql.SQL("\nUNION ALL ").join(parts)


def registry_grant_statements(app_role):
    """The statements that give app_role its privileges on the registry."""
    sql = postgresql.sql
    return [sql.SQL("GRANT {} ON TABLE {} TO {}").format(
        sql.SQL(", ").join(sql.SQL(privilege) for privilege in privileges), sql.Identifier("public", table),
        sql.Identifier(app_role)) for table, privileges in REGISTRY_GRANTS]


def registry_statements(has_migrations_table, pending):
    """The statements that bring the registry to the latest version."""
    sql = postgresql.sql
    statements = [] if has_migrations_table else [sql.SQL(
        "CREATE TABLE public.tenant_registry_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())")]
    for migration in pending:
        statements += [sql.SQL(text) for text in migration.statements]
        statements.append(sql.SQL("INSERT INTO public.tenant_registry_migrations (version, name) VALUES ({}, {})").format(
            sql.Literal(migration.version), sql.Literal(migration.name)))
    return statements


def action_statements(tenant, action, app_role):
    """The statements of one action on one tenant."""
    sql = postgresql.sql
    kind, detail = action
    schema = sql.Identifier(tenant.schema)
    role = sql.Identifier(app_role) if app_role else None
    if kind == "register":
        return [sql.SQL("INSERT INTO public.tenants (id, name, schema_name, status) VALUES ({}, {}, {}, {})").format(
            sql.Literal(tenant.id), sql.Literal(tenant.name), sql.Literal(tenant.schema), sql.Literal(detail))]
    if kind == "update":
        return [sql.SQL("UPDATE public.tenants SET {}, updated_at = now() WHERE id = {}").format(
            sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(key), sql.Literal(value))
                               for key, value in detail.items()),
            sql.Literal(tenant.id))]
    if kind == "create_schema":
        return [sql.SQL("CREATE SCHEMA {}").format(schema)]
    if kind == "create_migrations_table":
        return [sql.SQL("CREATE TABLE {} (version integer PRIMARY KEY, name text NOT NULL, "
                        "applied_at timestamptz NOT NULL DEFAULT now())").format(
            sql.Identifier(tenant.schema, MIGRATIONS_TABLE))]
    if kind == "migrate":
        # The migration's text names no schema: search_path makes it this tenant's.
        return ([sql.SQL("SET LOCAL search_path TO {}").format(schema)]
                + [sql.SQL(text) for text in detail.statements]
                + [sql.SQL("INSERT INTO {} (version, name) VALUES ({}, {})").format(
                    sql.Identifier(tenant.schema, MIGRATIONS_TABLE), sql.Literal(detail.version),
                    sql.Literal(detail.name))])
    if kind == "grant":
        usage = [sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role)] if detail else []
        return usage + [
            sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(sql.SQL(TABLE_PRIVILEGES), schema, role),
            sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(tenant.schema, MIGRATIONS_TABLE), role),
            sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sql.SQL(SEQUENCE_PRIVILEGES), schema, role),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {}").format(
                schema, sql.SQL(TABLE_PRIVILEGES), role),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON SEQUENCES TO {}").format(
                schema, sql.SQL(SEQUENCE_PRIVILEGES), role),
        ]
    if kind == "revoke_usage":
        return [sql.SQL("REVOKE USAGE ON SCHEMA {} FROM {}").format(schema, role)]
    if kind == "drop_schema":
        return [sql.SQL("DROP SCHEMA {} CASCADE").format(schema)]
    if kind == "unregister":
        return [sql.SQL("DELETE FROM public.tenants WHERE id = {}").format(sql.Literal(tenant.id))]
    raise ValueError(f"unknown action {kind}")


# ---------------------------------------------------------------------------------------------
# Running.

class Session:
    """A connection that records every statement it runs, as text."""

    def __init__(self, connection):
        self.connection = connection
        self.queries = []

    def execute(self, statement):
        self.queries.append(statement.as_string(self.connection))
        return self.connection.execute(statement)

    def rows(self, statement):
        return self.execute(statement).fetchall()


def read_state(session, wanted, app_role):
    """Everything the plan needs, in a constant number of queries. Runs in one transaction."""
    session.execute(lock_query())
    has_registry, has_registry_migrations, has_app_role, registry_granted = session.rows(meta_query(app_role))[0]
    registry_versions = ([version for (version,) in session.rows(registry_versions_query())]
                         if has_registry_migrations else [])
    registry = ({tenant_id: RegistryRow(name, schema, status)
                 for tenant_id, name, schema, status in session.rows(registry_rows_query())}
                if has_registry else {})
    schemas = {}
    names = schemas_to_read(wanted, registry)
    if names:
        schemas = {name: SchemaState(has_migrations, tuple(tables), usage, granted)
                   for name, has_migrations, tables, usage, granted in session.rows(schemas_query(names, app_role))}
    with_table = [name for name in names if name in schemas and schemas[name].has_migrations]
    applied = {}
    if with_table:
        for schema, version in session.rows(migrations_query(with_table)):
            applied.setdefault(schema, []).append(version)
    drops = tenants_to_drop(wanted, registry, schemas)
    row_counts = {}
    if drops and (has_registry or any(drop[1] for drop in drops.values())):
        for tenant_id, table, count in session.rows(row_counts_query(drops, has_registry)):
            row_counts.setdefault(tenant_id, {})[table] = count
    return dict(has_registry=has_registry, has_registry_migrations=has_registry_migrations,
                has_app_role=has_app_role, registry_granted=registry_granted, registry_versions=registry_versions, registry=registry,
                schemas=schemas, applied=applied, row_counts=row_counts)


class Failure(Exception):
    """Ends the run with this message; what the result says so far is returned with it."""


def tenant_results(plans, state, app_role, check_mode):
    """The result's tenants and diff, before anything is written."""
    tenants, diff = {}, dict(before={}, after={})
    for tenant_plan in plans:
        tenant = tenant_plan.tenant
        diff["before"][tenant.id] = before_view(tenant, state["registry"].get(tenant.id),
                                                state["schemas"].get(tenant.schema), tenant_plan.applied)
        diff["after"][tenant.id] = after_view(tenant_plan)
        tenants[tenant.id] = dict(
            state=tenant.state, name=tenant.name, schema=tenant.schema,
            migrations=diff["before"][tenant.id]["migrations"], pending_migrations=tenant_plan.pending,
            actions=[describe(action, tenant, app_role) for action in tenant_plan.actions],
            changed=check_mode and bool(tenant_plan.actions))
    return tenants, diff


def run(module, session, wanted, result):
    """Reads, plans and (unless in check mode) applies; fills result as it goes."""
    app_role, connection = module.params["app_role"] or None, session.connection
    try:
        state = read_state(session, wanted, app_role)
    except postgresql.psycopg.Error as error:
        raise Failure(f"reading the tenants' state failed: {str(error).strip()}") from error
    connection.rollback()  # ends the read transaction; the advisory lock belongs to the session
    if app_role and not state["has_app_role"]:
        message = f"app_role {app_role!r} does not exist in the cluster; create it first"
        if not module.check_mode:
            raise Failure(message + "; nothing was run")
        module.warn(message + " (check mode: its grants are reported as pending)")
    try:
        plans = plan(wanted, state["registry"], state["schemas"], state["applied"], state["row_counts"],
                     app_role, module.params["drop_data"])
    except PlanError as error:
        raise Failure(f"{error}; nothing was run") from error
    known = {migration.version for migration in TENANT_MIGRATIONS}
    for tenant_plan in plans:
        future = sorted(set(tenant_plan.applied) - known)
        if future:
            module.warn(f"tenant {tenant_plan.tenant.id!r} has migrations {future} that this collection does not "
                        "know: a newer release of selfhost.stack made them")

    registry_pending = pending_migrations(set(state["registry_versions"]), REGISTRY_MIGRATIONS)
    grant_registry = bool(app_role) and not state["registry_granted"]
    result["registry"] = dict(migrations=state["registry_versions"],
                              pending_migrations=[migration.version for migration in registry_pending],
                              grant_app_role=grant_registry)
    result["tenants"], result["diff"] = tenant_results(plans, state, app_role, module.check_mode)
    if module.check_mode:
        result["changed"] = bool(registry_pending) or grant_registry or any(tenant_plan.actions for tenant_plan in plans)
        return

    if registry_pending or grant_registry:
        try:
            for statement in (registry_statements(state["has_registry_migrations"], registry_pending)
                              + (registry_grant_statements(app_role) if grant_registry else [])):
                session.execute(statement)
            connection.commit()
        except postgresql.psycopg.Error as error:
            connection.rollback()
            raise Failure(f"keeping the registry failed, no tenant was changed: {str(error).strip()} "
                          f"(statement: {session.queries[-1]})") from error
        result["changed"] = True
        result["registry"]["migrations"] = sorted(state["registry_versions"]
                                                  + result["registry"]["pending_migrations"])
    done = []
    for tenant_plan in plans:
        tenant = tenant_plan.tenant
        if tenant_plan.actions:
            try:
                for action in tenant_plan.actions:
                    for statement in action_statements(tenant, action, app_role):
                        session.execute(statement)
                connection.commit()
            except postgresql.psycopg.Error as error:
                connection.rollback()
                raise Failure(f"tenant {tenant.id!r} failed and its changes were rolled back: {str(error).strip()} "
                              f"(statement: {session.queries[-1]}); done before it: {', '.join(done) or 'none'}; "
                              "the tenants after it were not tried") from error
            done.append(tenant.id)
            result["changed"] = True
            result["tenants"][tenant.id]["changed"] = True
        result["tenants"][tenant.id]["migrations"] = result["diff"]["after"][tenant.id]["migrations"]


def main():
    argument_spec = dict(
        tenants=dict(type="list", elements="dict", required=True, options=dict(
            id=dict(type="str", required=True),
            name=dict(type="str"),
            state=dict(type="str", choices=list(STATES), default="present"),
        )),
        database=dict(type="str", required=True),
        app_role=dict(type="str"),
        schema_prefix=dict(type="str", default="tenant_"),
        drop_data=dict(type="bool", default=False),
    )
    argument_spec.update(postgresql.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    wanted, errors = validate(module.params)
    if errors:
        module.fail_json(msg="invalid input, nothing was run: " + "; ".join(errors))
    postgresql.ensure_psycopg(module)

    session = Session(postgresql.connect(module, module.params["database"]))
    result = dict(changed=False, tenants={}, registry={}, queries=session.queries,
                  migrations_available=latest(TENANT_MIGRATIONS))
    try:
        run(module, session, wanted, result)
    except Failure as failure:
        module.fail_json(msg=str(failure), **result)
    finally:
        session.connection.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
