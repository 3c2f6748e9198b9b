# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules a list of tenants follows, in one place for the module postgresql_tenant (before it
connects) and the filter postgresql_tenant_errors (in site.yml's preflight, before any host is
changed), so that both refuse exactly the same input."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

from ansible_collections.selfhost.stack.plugins.module_utils.postgresql_identifiers import (
    IDENTIFIER_MAX_BYTES,
    identifier_problem,
)

# Schema names a tenant must never get, whatever the prefix: dropping one would be a disaster.
RESERVED_SCHEMAS = ("public", "information_schema")
STATES = ("present", "suspended", "absent")
TENANT_KEYS = ("id", "name", "state")
# The module's option names; the filter passes the inventory's variable names instead.
OPTION_NAMES = {"tenants": "tenants", "database": "database", "app_role": "app_role", "schema_prefix": "schema_prefix"}

Tenant = namedtuple("Tenant", "id name state schema")


def schema_problem(schema):
    """Why a schema name may not be a tenant's, or None."""
    if len(schema.encode("utf-8")) > IDENTIFIER_MAX_BYTES:
        return (f"the schema name {schema!r} (schema_prefix + id) must be at most "
                f"{IDENTIFIER_MAX_BYTES} bytes long")
    if schema in RESERVED_SCHEMAS or schema.startswith("pg_"):
        return f"the schema name {schema!r} (schema_prefix + id) is reserved"
    return None


def _entry_problem(spec):
    """What is wrong with the form of one entry (the module's argument spec checks this too)."""
    if not isinstance(spec, Mapping):
        return "must be a mapping with id, name and state"
    unknown = sorted(set(spec) - set(TENANT_KEYS))
    if unknown:
        return f"has unknown keys {unknown} (expected {list(TENANT_KEYS)})"
    if spec.get("state") not in (None,) + STATES:
        return f"state {spec['state']!r} is not one of {', '.join(STATES)}"
    if spec.get("name") is not None and not isinstance(spec["name"], str):
        return "name must be a string"
    return None


def validate(params, names=None):
    """The wanted tenants, and the list of what is wrong with the input.

    params holds tenants, database, app_role and schema_prefix; names maps each of those to the
    name the messages give it (OPTION_NAMES by default)."""
    names = dict(OPTION_NAMES, **(names or {}))
    errors = [problem for problem in (
        identifier_problem(params["database"], names["database"]),
        params["app_role"] and identifier_problem(params["app_role"], names["app_role"]),
        identifier_problem(params["schema_prefix"], names["schema_prefix"]),
    ) if problem]
    prefix = params["schema_prefix"]
    if not errors and prefix.startswith("pg_"):
        errors.append(f"{names['schema_prefix']} {prefix!r} starts with pg_, which PostgreSQL reserves")
    if not isinstance(params["tenants"], list):
        return [], errors + [f"{names['tenants']} must be a list of tenants"]
    tenants, first_index = [], {}
    for index, spec in enumerate(params["tenants"]):
        entry = f"{names['tenants']}[{index}]"
        problem = _entry_problem(spec) or identifier_problem(spec.get("id"), "id")
        if problem:
            errors.append(f"{entry}: {problem}")
            continue
        tenant_id = spec["id"]
        if tenant_id in first_index:
            errors.append(f"{entry}: id {tenant_id!r} is already given by {names['tenants']}[{first_index[tenant_id]}]")
            continue
        first_index[tenant_id] = index
        problem = schema_problem(prefix + tenant_id)
        if problem:
            errors.append(f"{entry} (id {tenant_id!r}): {problem}")
        name = tenant_id if spec.get("name") is None else spec["name"]
        if not name.strip():
            errors.append(f"{entry} (id {tenant_id!r}): name is empty")
        tenants.append(Tenant(tenant_id, name, spec.get("state") or "present", prefix + tenant_id))
    return tenants, errors
