# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the PostgreSQL role's tenants, with the rules of the module postgresql_tenant."""

from __future__ import annotations

from ansible_collections.selfhost.stack.plugins.module_utils.tenants import validate

# The inventory's names for the module's options, so that each message names the variable.
VARIABLES = {"tenants": "postgresql_tenants", "database": "postgresql_tenants_database",
             "app_role": "postgresql_tenants_app_role", "schema_prefix": "schema_prefix"}


def postgresql_tenant_errors(tenants, database, app_role="", schema_prefix="tenant_"):
    """Sentences naming the variable and the entry, one per problem the module postgresql_tenant
    would refuse; an empty list when there is none."""
    params = {"tenants": tenants, "database": database, "app_role": app_role or "", "schema_prefix": schema_prefix}
    return validate(params, VARIABLES)[1]


class FilterModule:
    """selfhost.stack tenant filters."""

    def filters(self):
        return {"postgresql_tenant_errors": postgresql_tenant_errors}
