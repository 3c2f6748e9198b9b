"""Unit tests for the postgresql_tenant_errors filter: the module's rules, named as the inventory names them."""

from __future__ import annotations

import pytest

from ansible_collections.selfhost.stack.plugins.filter.tenants import FilterModule, postgresql_tenant_errors


def test_filter_is_registered():
    assert FilterModule().filters() == {"postgresql_tenant_errors": postgresql_tenant_errors}


def test_good_tenants_pass():
    tenants = [{"id": "acme", "name": "Acme"}, {"id": "globex", "state": "suspended"}, {"id": "initech", "state": "absent"}]
    assert postgresql_tenant_errors(tenants, "app", "app") == []
    assert postgresql_tenant_errors([], "app") == []


@pytest.mark.parametrize("tenants, error", [
    ([{"id": "Acme"}], "postgresql_tenants[0]: id 'Acme' must be a lower-case letter"),
    ([{"id": "acme; DROP SCHEMA public"}], "postgresql_tenants[0]: id 'acme; DROP SCHEMA public' must be"),
    ([{"name": "Acme"}], "postgresql_tenants[0]: id None must be"),
    ([{"id": "acme"}, {"id": "acme"}], "postgresql_tenants[1]: id 'acme' is already given by postgresql_tenants[0]"),
    ([{"id": "a" * 57}], "postgresql_tenants[0] (id '" + "a" * 57 + "'): the schema name"),
    ([{"id": "acme", "state": "gone"}], "postgresql_tenants[0]: state 'gone' is not one of present, suspended, absent"),
    ([{"id": "acme", "plan": "gold"}], "postgresql_tenants[0]: has unknown keys ['plan']"),
    ([{"id": "acme", "name": " "}], "postgresql_tenants[0] (id 'acme'): name is empty"),
    (["acme"], "postgresql_tenants[0]: must be a mapping with id, name and state"),
    ({"id": "acme"}, "postgresql_tenants must be a list of tenants"),
])
def test_each_bad_tenant_is_named(tenants, error):
    errors = postgresql_tenant_errors(tenants, "app", "app")
    assert len(errors) == 1 and errors[0].startswith(error), errors


def test_database_and_role_are_named_by_their_variables():
    errors = postgresql_tenant_errors([{"id": "acme"}], "App", "app-user")
    assert [error.split(" ")[0] for error in errors] == ["postgresql_tenants_database", "postgresql_tenants_app_role"]
