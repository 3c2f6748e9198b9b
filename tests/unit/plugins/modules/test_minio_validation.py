"""The MinIO modules' input checks: pure, and every refusal comes before any connection."""

from __future__ import annotations

import re

import pytest

from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules
from ansible_collections.selfhost.stack.plugins.modules import (
    minio_bucket,
    minio_content,
    minio_policy,
    minio_site_replication,
    minio_user,
)

CONNECTION = dict(endpoint="https://10.0.0.1:9000", login_access_key="root", login_secret_key="root-secret-key")
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::a/*"]}]}


@pytest.fixture
def no_connection(monkeypatch):
    """Fails the test when a module makes a connection; returns the list of those it tried."""
    tried = []

    def refuse(*args, **kwargs):
        tried.append(args)
        raise AssertionError("the module connected although its input is invalid")

    monkeypatch.setattr(minio_utils, "Connection", refuse)
    return tried


# --- bucket names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["abc", "backups", "my.bucket-1", "a" * 63, "0day", "10.0.0.1x"])
def test_valid_bucket_names(name):
    assert minio_rules.bucket_name_problem(name) is None


@pytest.mark.parametrize("name, reason", [
    ("ab", "3 to 63"), ("a" * 64, "3 to 63"), ("Backups", "lower-case"), ("-backups", "starting and ending"),
    ("backups-", "starting and ending"), ("back_ups", "lower-case"), ("back..ups", "dot next to"),
    ("back.-ups", "dot next to"), ("back-.ups", "dot next to"), ("192.168.1.10", "IP address"),
    ("xn--backups", "xn--"), ("sthree-backups", "sthree-"), ("backups-s3alias", "-s3alias"),
    ("backups--ol-s3", "--ol-s3"), ("back ups", "lower-case"), ("backups\n", "lower-case"), ("", "3 to 63"),
])
def test_invalid_bucket_names_say_why(name, reason):
    problem = minio_rules.bucket_name_problem(name)
    assert problem is not None and reason in problem and repr(name) in problem


# --- endpoints -------------------------------------------------------------------------------------

def test_endpoints_parse_to_host_port_and_tls():
    assert minio_rules.parse_endpoint("https://10.0.0.1:9000") == ("10.0.0.1:9000", True)
    assert minio_rules.parse_endpoint("http://minio.lan/") == ("minio.lan", False)
    assert minio_rules.parse_endpoint("http://[fd00::1]:9000") == ("[fd00::1]:9000", False)
    assert minio_rules.normalise_endpoint("HTTPS://Minio.LAN") == "https://minio.lan:443"
    assert minio_rules.normalise_endpoint("http://[FD00::1]:9000/") == "http://[fd00::1]:9000"


@pytest.mark.parametrize("endpoint", ["10.0.0.1:9000", "ftp://10.0.0.1", "https://10.0.0.1:9000/minio", "https://",
                                      "https://user:pw@10.0.0.1", "https://10.0.0.1:99999", "https://h?x=1", ""])
def test_bad_endpoints_are_refused(endpoint):
    assert minio_rules.endpoint_problem(endpoint, "endpoint").startswith("endpoint ")


# --- policies ---------------------------------------------------------------------------------------

def test_a_policy_is_a_json_object_with_statements_given_as_dict_or_string():
    assert minio_rules.parse_policy(POLICY) == POLICY
    assert minio_rules.parse_policy('{"Statement": [{"Effect": "Allow"}]}') == {"Statement": [{"Effect": "Allow"}]}
    for bad, reason in [("{", "not valid JSON"), ("[1]", "JSON object"), ({"Version": "2012-10-17"}, "Statement"),
                        ({"Statement": {"Effect": "Allow"}}, "Statement list"), ({"Statement": []}, "at least one"),
                        ({"Statement": ["x"]}, "Statement[0]"), (3, "JSON object")]:
        with pytest.raises(ValueError, match=re.escape(reason)):
            minio_rules.parse_policy(bad)


def test_policies_that_mean_the_same_have_one_canonical_form():
    resources = ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*", "arn:aws:s3:::a/*"]
    other_spelling = {"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": resources, "Condition": {}}]}
    assert minio_rules.canonical_policy(POLICY) == minio_rules.canonical_policy(other_spelling)
    two = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                                                  POLICY["Statement"][0]]}
    swapped = dict(two, Statement=list(reversed(two["Statement"])))
    assert minio_rules.canonical_policy(two) == minio_rules.canonical_policy(swapped)
    conditioned = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}}}]}
    assert minio_rules.canonical_policy(conditioned)["Statement"][0]["Condition"] == {
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/24"]}}
    assert minio_rules.canonical_policy(POLICY) != minio_rules.canonical_policy(
        dict(POLICY, Statement=[dict(POLICY["Statement"][0], Effect="Deny")]))


# --- the modules refuse bad input before connecting --------------------------------------------------------

def test_bucket_input_fails_before_any_connection(run_module, no_connection):
    result = run_module(minio_bucket, dict(CONNECTION, name="Bad..Name", object_lock=True, versioning="suspended"))
    assert no_connection == [] and result["failed"]
    assert result["msg"].startswith("invalid input, nothing was changed: bucket name 'Bad..Name' must be")
    assert "versioning: suspended is impossible with object_lock: true" in result["msg"]
    result = run_module(minio_bucket, dict(CONNECTION, name="backups", endpoint="10.0.0.1:9000"))
    assert no_connection == [] and "endpoint '10.0.0.1:9000' must start with https:// or http://" in result["msg"]


def test_policy_input_fails_before_any_connection(run_module, no_connection):
    result = run_module(minio_policy, dict(CONNECTION, name="app,admin", policy="{not json"))
    assert no_connection == [] and result["failed"]
    assert "name 'app,admin' must be a non-empty policy name without commas" in result["msg"]
    assert "policy is not valid JSON" in result["msg"]
    result = run_module(minio_policy, dict(CONNECTION, name="app", policy={"Version": "2012-10-17"}))
    assert no_connection == [] and "policy must have a Statement list" in result["msg"]
    result = run_module(minio_policy, dict(CONNECTION, name="app"))
    assert no_connection == [] and "policy is required with state: present" in result["msg"]


def test_user_input_fails_before_any_connection_and_never_shows_the_secret(run_module, no_connection):
    result = run_module(minio_user, dict(CONNECTION, access_key="ab", secret_key="short", policies=["a,b"]))
    assert no_connection == [] and result["failed"]
    assert "access_key 'ab' must be 3 to 20 characters long" in result["msg"]
    assert "secret_key must be 8 to 40 characters long" in result["msg"] and "short" not in result["msg"]
    assert "policies[0] 'a,b'" in result["msg"]
    result = run_module(minio_user, dict(CONNECTION, access_key="root", secret_key="long-enough-secret"))
    assert no_connection == [] and "access_key must not be login_access_key" in result["msg"]
    result = run_module(minio_user, dict(CONNECTION, access_key="app"))
    assert no_connection == [] and "secret_key is required with state: present" in result["msg"]


def site(name, endpoint):
    return dict(name=name, endpoint=endpoint, access_key="root", secret_key=f"secret-of-{name}")


@pytest.mark.parametrize("sites, local, message", [
    ([site("a", "https://10.0.0.1:9000")], "a", "sites must list at least two sites"),
    ([site("a", "https://10.0.0.1:9000"), site("a", "https://10.0.0.2:9000")], "a",
     "sites[1]: name 'a' is already given by sites[0]"),
    ([site("a", "https://10.0.0.1:9000"), site("b", "https://10.0.0.1:9000/")], "a",
     "sites[1]: endpoint 'https://10.0.0.1:9000/' is already sites[0]'s"),
    ([site("a", "https://10.0.0.1:9000"), site("b", "https://10.0.0.2:9000")], "c",
     "site 'c' must be the name of one of sites"),
    # The module connects to 10.0.0.1: a peer there is the local site under another name.
    ([site("a", "https://a.lan:9000"), site("b", "https://10.0.0.1:9000")], "a",
     "sites[1] ('b') has the endpoint the module connects to, which is the local site 'a'"),
    ([site("a", "https://10.0.0.1:9000"), site("b", "10.0.0.2:9000")], "a", "sites[1]: endpoint '10.0.0.2:9000'"),
])
def test_site_replication_input_fails_before_any_connection(run_module, no_connection, sites, local, message):
    result = run_module(minio_site_replication, dict(CONNECTION, site=local, sites=sites))
    assert no_connection == [] and result["failed"]
    assert message in result["msg"]
    assert "secret-of-" not in str(result)


def test_without_the_minio_package_the_modules_say_what_to_install(run_module, monkeypatch):
    monkeypatch.setattr(minio_utils, "HAS_MINIO", False)
    result = run_module(minio_bucket, dict(CONNECTION, name="backups"))
    assert result["failed"] and "minio" in result["msg"] and "pip install --no-deps minio" in result["msg"]


def test_content_input_fails_before_any_connection_naming_each_item(run_module, no_connection):
    result = run_module(minio_content, dict(
        CONNECTION,
        policies=[{"name": "app,admin", "policy": POLICY}, {"name": "app", "policy": POLICY},
                  {"name": "app", "policy": POLICY}],
        users=[{"access_key": "ab", "secret_key": "tiny1"}, {"access_key": "root", "secret_key": "long-enough-1"}],
        buckets=[{"name": "Bad..Name"}, {"name": "locked", "object_lock": True, "versioning": "suspended"}]))
    assert no_connection == [] and result["failed"]
    for problem in ["policies[0].name 'app,admin' must be a non-empty policy name",
                    "users[0].access_key 'ab' must be 3 to 20 characters long",
                    "users[0].secret_key must be 8 to 40 characters long",
                    "users[1].access_key must not be login_access_key",
                    "buckets[0].name: bucket name 'Bad..Name' must be",
                    "buckets[1].versioning: suspended is impossible with buckets[1].object_lock: true",
                    "policies: app given more than once"]:
        assert problem in result["msg"], result["msg"]
    assert "tiny1" not in result["msg"]
