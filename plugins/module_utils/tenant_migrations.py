# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The versioned schema of the multi-tenant application, shipped with the collection.

Two lists, each an ordered tuple of Migration(version, name, statements):

- REGISTRY_MIGRATIONS build the registry in schema public: the tenants and their users. Their
  statements name schema public themselves. Applied versions are recorded in
  public.tenant_registry_migrations.
- TENANT_MIGRATIONS build one tenant's schema. Their statements name no schema: the module runs
  them after SET LOCAL search_path TO <the tenant's schema>, so the same text serves every
  tenant and no tenant's name is ever spliced into it. What they reference outside the tenant's
  schema they name in full (public.users). Applied versions are recorded in the tenant schema's
  own schema_migrations table.

A release changes the schema by appending a migration with the next version; every tenant
then gets it on the next run. A migration that was released is never edited: a tenant that
already has it would not get the edit.
"""

from __future__ import annotations

from collections import namedtuple

Migration = namedtuple("Migration", "version name statements")

REGISTRY_MIGRATIONS = (
    Migration(1, "initial", (
        """CREATE TABLE public.tenants (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$' AND octet_length(id) <= 63),
    name text NOT NULL,
    schema_name text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)""",
        """CREATE TABLE public.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    email text NOT NULL,
    password_hash text,
    role text NOT NULL DEFAULT 'staff',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
)""",
    )),
)

TENANT_MIGRATIONS = (
    Migration(1, "initial", (
        # Prices and totals in cents (integers): no rounding in sums.
        """CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price_cents bigint NOT NULL CHECK (price_cents >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)""",
        """CREATE TABLE transactions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint REFERENCES public.users (id) ON DELETE SET NULL,
    total_cents bigint NOT NULL,
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'voided', 'refunded')),
    created_at timestamptz NOT NULL DEFAULT now()
)""",
        "CREATE INDEX transactions_created_at_idx ON transactions (created_at)",
        # Deleting a user sets user_id to NULL here: without this index that scans the table.
        "CREATE INDEX transactions_user_id_idx ON transactions (user_id)",
        """CREATE TABLE inventory_movements (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity <> 0),
    reason text NOT NULL CHECK (reason IN ('sale', 'purchase', 'adjustment', 'return')),
    transaction_id bigint REFERENCES transactions (id),
    created_at timestamptz NOT NULL DEFAULT now()
)""",
        "CREATE INDEX inventory_movements_product_id_created_at_idx ON inventory_movements (product_id, created_at)",
        "CREATE INDEX inventory_movements_transaction_id_idx ON inventory_movements (transaction_id)",
    )),
)


def latest(migrations):
    """The highest version of migrations, 0 for none."""
    return max((migration.version for migration in migrations), default=0)


def problems(migrations):
    """What is wrong with a list of migrations: versions must be 1, 2, 3... in order, names unique."""
    found = []
    for position, migration in enumerate(migrations, start=1):
        if migration.version != position:
            found.append(f"migration {migration.name!r} has version {migration.version}, expected {position}")
        if not migration.statements or not all(isinstance(text, str) and text.strip() for text in migration.statements):
            found.append(f"migration {migration.version} has an empty statement")
    names = [migration.name for migration in migrations]
    found += [f"migration name {name!r} is used twice" for name in sorted(set(names)) if names.count(name) > 1]
    return found
