"""Unit tests for the MinIO inventory checks."""

from __future__ import annotations

import pytest

from ansible_collections.selfhost.stack.plugins.filter.minio import FilterModule, minio_content_errors

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
GOOD = dict(
    buckets=[{"name": "app-files", "versioning": "enabled"}, {"name": "app.records", "object_lock": True}],
    policies=[{"name": "app-files", "policy": POLICY}, {"name": "as-text", "policy": '{"Statement": [{}]}'}],
    users=[{"access_key": "app", "secret_key": "a-secret-key", "policies": ["app-files", "readonly"]}],
)


def errors(**changes):
    return minio_content_errors(*(changes.get(key, GOOD[key]) for key in ("buckets", "policies", "users")))


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"minio_content_errors": minio_content_errors}


def test_a_good_inventory_has_no_errors():
    assert errors() == []


@pytest.mark.parametrize("name", ["Invoices", "ab", "a" * 64, "app_files", "-app", "app-", "a..b", "a.-b",
                                  "192.168.1.1", "xn--app", "sthree-app", "app-s3alias", "app--ol-s3"])
def test_bucket_names_s3_rejects_are_refused_by_name(name):
    found = errors(buckets=[{"name": name}])
    assert len(found) == 1 and found[0].startswith("minio_buckets:") and repr(name) in found[0]


@pytest.mark.parametrize("policy, reason", [
    ('{"Statement": [', "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ({"Version": "2012-10-17"}, "Statement"),
    ({"Statement": ["s3:*"]}, "Statement[0]"),
])
def test_a_policy_that_is_not_a_json_object_with_statements_is_refused(policy, reason):
    found = errors(policies=[{"name": "broken", "policy": policy}], users=[])
    assert len(found) == 1 and "minio_policies: 'broken'" in found[0] and reason in found[0]


def test_a_user_naming_an_undefined_policy_is_refused():
    found = errors(users=[{"access_key": "app", "secret_key": "a-secret-key", "policies": ["nowhere"]}])
    assert found == ["minio_users: 'app' names policies ['nowhere'] that minio_policies does not define"]


def test_key_lengths_are_checked_and_a_secret_is_never_repeated():
    found = errors(users=[{"access_key": "ab", "secret_key": "short", "policies": []}])
    assert len(found) == 2
    assert "access_key 'ab'" in found[0]
    assert "secret_key must be 8 to 40" in found[1] and "short" not in " ".join(found)


def test_duplicates_unknown_keys_and_bad_settings_are_refused():
    found = errors(buckets=[{"name": "app-files", "versioning": "on"}, {"name": "app-files", "lock": True}])
    assert "minio_buckets: 'app-files' versioning must be enabled or suspended" in found
    assert "minio_buckets: 'app-files' is given twice" in found
    assert any("unknown keys ['lock']" in error for error in found)


def test_entries_that_are_not_mappings_are_refused():
    assert errors(buckets="app-files") == ["minio_buckets must be a list"]
    assert errors(users=["app"]) == ["minio_users[0] must be a mapping"]
