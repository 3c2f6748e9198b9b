"""The MinIO modules against real MinIO servers started on loopback (see conftest.py)."""

from __future__ import annotations

import datetime
import io
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.selfhost.stack.plugins.modules import (
    minio_bucket,
    minio_content,
    minio_policy,
    minio_site_replication,
    minio_user,
)

minio = pytest.importorskip("minio")
from minio.credentials import StaticProvider  # noqa: E402  pylint: disable=wrong-import-position
from minio.error import S3Error  # noqa: E402  pylint: disable=wrong-import-position

REPO = Path(__file__).resolve().parents[4]
APP_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": ["arn:aws:s3:::app/*"]},
    {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::app"]}]}


def s3(server, access_key=None, secret_key=None):
    netloc = server.endpoint.split("://", 1)[1]
    return minio.Minio(netloc, access_key=access_key or "selfhost-root", secret_key=secret_key or server.root_password,
                       secure=False)


def admin(server):
    return minio.MinioAdmin(endpoint=server.endpoint.split("://", 1)[1],
                            credentials=StaticProvider("selfhost-root", server.root_password), secure=False)


def can_sign_in(server, access_key, secret_key):
    """Whether the keys are a user's that may sign requests (AccessDenied: signed in, not allowed)."""
    try:
        s3(server, access_key, secret_key).list_buckets()
    except S3Error as error:
        return error.code == "AccessDenied"
    return True


def eventually(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


# --- buckets ---------------------------------------------------------------------------------------

def test_bucket_with_versioning_and_object_lock(run_module, minio_server):
    arguments = minio_server.connection(name="ledger", versioning="enabled", object_lock=True)
    result = run_module(minio_bucket, arguments, check=True)
    assert result["changed"] and result["actions"] == ["make bucket ledger with object lock"]
    assert not s3(minio_server).bucket_exists("ledger")

    result = run_module(minio_bucket, arguments)
    assert result["changed"] and result["actions"] == ["make bucket ledger with object lock"]
    assert result["bucket"] == dict(name="ledger", state="present", versioning="enabled", object_lock=True)
    assert result["diff"]["before"]["state"] == "absent"
    assert s3(minio_server).get_bucket_versioning("ledger").status == "Enabled"

    again = run_module(minio_bucket, arguments)
    assert not again["changed"] and again["actions"] == [] and again["bucket"] == result["bucket"]

    suspend = run_module(minio_bucket, dict(arguments, versioning="suspended", object_lock=None))
    assert suspend["failed"] and "has object lock, whose versioning cannot be suspended" in suspend["msg"]


def test_object_lock_cannot_be_added_to_an_existing_bucket(run_module, minio_server):
    arguments = minio_server.connection(name="plain")
    assert run_module(minio_bucket, arguments)["actions"] == ["make bucket plain"]
    result = run_module(minio_bucket, dict(arguments, object_lock=True, versioning="enabled"))
    assert result["failed"] and result["actions"] == []
    assert "exists without object lock, which can only be set when a bucket is made" in result["msg"]
    assert s3(minio_server).get_bucket_versioning("plain").status is None  # nothing changed

    result = run_module(minio_bucket, dict(arguments, versioning="suspended"))
    assert result["changed"] and result["actions"] == ["suspend versioning of bucket plain"]
    assert result["diff"]["before"]["versioning"] == "unversioned" and result["bucket"]["versioning"] == "suspended"
    assert not run_module(minio_bucket, dict(arguments, versioning="suspended"))["changed"]


def test_absent_removes_an_empty_bucket_and_data_only_with_force(run_module, minio_server):
    arguments = minio_server.connection(name="scratch", versioning="enabled")
    run_module(minio_bucket, arguments)
    client = s3(minio_server)
    for content in (b"one", b"two"):  # two versions of one object
        client.put_object("scratch", "notes.txt", __import__("io").BytesIO(content), len(content))

    absent = minio_server.connection(name="scratch", state="absent")
    refused = run_module(minio_bucket, absent)
    assert refused["failed"] and "bucket scratch is not empty; nothing was removed; set force: true" in refused["msg"]
    assert client.bucket_exists("scratch")

    check = run_module(minio_bucket, dict(absent, force=True), check=True)
    assert check["changed"] and check["objects_deleted"] == 2 and client.bucket_exists("scratch")

    removed = run_module(minio_bucket, dict(absent, force=True))
    assert removed["changed"] and removed["objects_deleted"] == 2
    assert removed["actions"] == ["delete the 2 object versions of bucket scratch", "remove bucket scratch"]
    assert not client.bucket_exists("scratch")
    assert not run_module(minio_bucket, absent)["changed"]

    run_module(minio_bucket, minio_server.connection(name="empty"))
    assert run_module(minio_bucket, minio_server.connection(name="empty", state="absent"))["actions"] == [
        "remove bucket empty"]


def test_a_server_that_does_not_answer_fails_clearly(run_module, minio_server):
    result = run_module(minio_bucket, minio_server.connection(name="any", endpoint="http://127.0.0.1:9", timeout=2))
    assert result["failed"] and result["msg"].startswith("check whether bucket any exists on http://127.0.0.1:9 failed")
    wrong = run_module(minio_bucket, minio_server.connection(name="any", login_secret_key="not-the-secret"))
    assert wrong["failed"] and "SignatureDoesNotMatch" in wrong["msg"] and "not-the-secret" not in wrong["msg"]


def certificate_authority(directory):
    """A CA (ca.pem) and a certificate it signs for 127.0.0.1 (public.crt, private.key) in directory."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject, key, issuer, issuer_key, is_ca, extensions=()):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def name(common_name):
        return x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, common_name)])

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate(name("selfhost test CA"), ca_key, name("selfhost test CA"), ca_key, True)
    server = certificate(name("127.0.0.1"), server_key, ca.subject, ca_key, False,
                         [x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])])
    directory.mkdir()
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "public.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "private.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "ca.pem"


def test_https_with_the_ca_given(run_module, minio_servers, tmp_path):
    ca_file = certificate_authority(tmp_path / "certs")
    server = minio_servers(1, certs=tmp_path / "certs")[0]
    made = run_module(minio_bucket, server.connection(name="over-tls", ca_file=str(ca_file)))
    assert made["changed"] and made["actions"] == ["make bucket over-tls"]
    unknown_ca = run_module(minio_bucket, server.connection(name="over-tls", timeout=5))
    assert unknown_ca["failed"] and "CERTIFICATE_VERIFY_FAILED" in unknown_ca["msg"]
    unverified = run_module(minio_bucket, server.connection(name="over-tls", validate_certs=False))
    assert not unverified["changed"]


# --- policies ----------------------------------------------------------------------------------------

def test_policy_is_added_then_unchanged_in_any_spelling(run_module, minio_server):
    arguments = minio_server.connection(name="app-test", policy=APP_POLICY)
    check = run_module(minio_policy, arguments, check=True)
    assert check["changed"] and check["actions"] == ["add policy app-test"]
    assert "app-test" not in json.loads(admin(minio_server).policy_list())

    added = run_module(minio_policy, arguments)
    assert added["changed"] and added["diff"]["before"] == "" and '"s3:GetObject"' in added["diff"]["after"]
    assert "app-test" in json.loads(admin(minio_server).policy_list())

    # One string for a one-element list, statements reordered, given as JSON text: the same policy.
    respelled = dict(APP_POLICY, Statement=[dict(APP_POLICY["Statement"][1], Action="s3:ListBucket", Sid=""),
                                            APP_POLICY["Statement"][0]])
    for policy in (APP_POLICY, respelled, json.dumps(respelled)):
        again = run_module(minio_policy, dict(arguments, policy=policy))
        assert not again["changed"] and again["actions"] == []

    narrower = dict(APP_POLICY, Statement=APP_POLICY["Statement"][:1])
    replaced = run_module(minio_policy, dict(arguments, policy=narrower))
    assert replaced["changed"] and replaced["actions"] == ["replace policy app-test"]
    assert "s3:ListBucket" in replaced["diff"]["before"] and "s3:ListBucket" not in replaced["diff"]["after"]

    absent = minio_server.connection(name="app-test", state="absent")
    assert run_module(minio_policy, absent)["actions"] == ["remove policy app-test"]
    assert not run_module(minio_policy, absent)["changed"]


# --- users ---------------------------------------------------------------------------------------------

def test_user_with_policies_then_unchanged_and_a_new_secret_is_set(run_module, minio_server):
    run_module(minio_policy, minio_server.connection(name="app-rw", policy=APP_POLICY))
    arguments = minio_server.connection(access_key="app-user", secret_key="first-secret-1", policies=["app-rw", "readonly"])

    check = run_module(minio_user, arguments, check=True)
    assert check["changed"] and check["actions"] == ["add user app-user", "attach policies app-rw, readonly to user app-user"]
    assert not can_sign_in(minio_server, "app-user", "first-secret-1")

    made = run_module(minio_user, arguments)
    assert made["changed"] and made["user"] == dict(access_key="app-user", state="present", enabled=True,
                                                    policies=["app-rw", "readonly"], secret="set")
    assert can_sign_in(minio_server, "app-user", "first-secret-1")
    assert "first-secret-1" not in json.dumps(made)

    again = run_module(minio_user, arguments)
    assert not again["changed"] and again["user"]["secret"] == "current"

    rotated = run_module(minio_user, dict(arguments, secret_key="second-secret-2"), check=True)
    assert rotated["changed"] and rotated["actions"] == ["set the secret key of user app-user"]
    assert can_sign_in(minio_server, "app-user", "first-secret-1")
    rotated = run_module(minio_user, dict(arguments, secret_key="second-secret-2"))
    assert rotated["changed"] and rotated["user"]["secret"] == "set"
    assert can_sign_in(minio_server, "app-user", "second-secret-2")
    assert not can_sign_in(minio_server, "app-user", "first-secret-1")
    assert "second-secret-2" not in json.dumps(rotated)
    on_create = run_module(minio_user, dict(arguments, secret_key="third-secret-3", update_secret="on_create"))
    assert not on_create["changed"] and on_create["user"]["secret"] == "unchecked"

    arguments["secret_key"] = "second-secret-2"
    moved = run_module(minio_user, dict(arguments, policies=["app-rw", "writeonly"]))
    assert moved["actions"] == ["attach policies writeonly to user app-user",
                                "detach policies readonly from user app-user"]
    assert moved["diff"]["before"]["policies"] == ["app-rw", "readonly"]
    assert json.loads(admin(minio_server).user_info("app-user"))["policyName"].split(",") == ["app-rw", "writeonly"]
    kept = run_module(minio_user, dict(arguments, policies=None))
    assert not kept["changed"] and kept["user"]["policies"] == ["app-rw", "writeonly"]

    missing = run_module(minio_user, dict(arguments, policies=["app-rw", "no-such-policy"]))
    assert missing["failed"] and "policies no-such-policy do not exist" in missing["msg"] and missing["actions"] == []


def test_disabled_user_and_removal(run_module, minio_server):
    arguments = minio_server.connection(access_key="contractor", secret_key="contractor-secret", policies=["readonly"])
    run_module(minio_user, arguments)
    disabled = run_module(minio_user, dict(arguments, enabled=False))
    assert disabled["actions"] == ["disable user contractor"] and not disabled["user"]["enabled"]
    assert json.loads(admin(minio_server).user_info("contractor"))["status"] == "disabled"

    again = run_module(minio_user, dict(arguments, enabled=False))
    assert not again["changed"] and again["user"]["secret"] == "unchecked"
    assert "MinIO authenticates no request of a disabled user" in json.dumps(again.get("warnings"))

    # MinIO changes only an enabled user's policies: enabled for the change, disabled again.
    moved = run_module(minio_user, dict(arguments, enabled=False, policies=["writeonly"]))
    assert moved["actions"] == [
        "enable user contractor to change its policies (MinIO changes only an enabled user's)",
        "attach policies writeonly to user contractor", "detach policies readonly from user contractor",
        "disable user contractor"]
    info = json.loads(admin(minio_server).user_info("contractor"))
    assert info["status"] == "disabled" and info["policyName"] == "writeonly"

    enabled = run_module(minio_user, dict(arguments, policies=["writeonly"]))
    assert enabled["actions"] == ["enable user contractor"] and enabled["user"]["secret"] == "current"

    absent = dict(minio_server.connection(access_key="contractor", state="absent"))
    assert run_module(minio_user, absent, check=True)["actions"] == ["remove user contractor"]
    assert run_module(minio_user, absent)["actions"] == ["remove user contractor"]
    assert not run_module(minio_user, absent)["changed"]


# --- site replication ------------------------------------------------------------------------------------

def sites(*servers):
    return [dict(name=f"site-{chr(ord('a') + index)}", endpoint=server.endpoint, access_key="selfhost-root",
                 secret_key=server.root_password) for index, server in enumerate(servers)]


def test_site_replication_between_real_servers(run_module, minio_servers):
    site_a, site_b, site_c = minio_servers(3)
    secrets_of = [server.root_password for server in (site_a, site_b, site_c)]

    # A peer that is site A itself under another name and endpoint spelling: found by deployment id.
    ghost = dict(sites(site_a)[0], name="ghost", endpoint=site_a.endpoint.replace("127.0.0.1", "localhost"))
    refused = run_module(minio_site_replication, site_a.connection(site="site-a", sites=sites(site_a) + [ghost]))
    assert refused["failed"] and "'site-a' and 'ghost' are one deployment" in refused["msg"]
    assert "(the local site)" in refused["msg"]
    assert json.loads(admin(site_a).get_site_replication_info()) == {"enabled": False}

    arguments = site_a.connection(site="site-a", sites=sites(site_a, site_b))
    check = run_module(minio_site_replication, arguments, check=True)
    assert check["changed"] and check["added"] == ["site-a", "site-b"]
    assert check["actions"] == ["set up site replication between site-a, site-b"]
    assert json.loads(admin(site_a).get_site_replication_info()) == {"enabled": False}

    made = run_module(minio_site_replication, arguments)
    assert made["changed"] and [site["name"] for site in made["sites"]] == ["site-a", "site-b"]
    assert all(site["deployment_id"] for site in made["sites"])
    assert made["diff"]["before"] == {"enabled": False, "sites": {}}
    assert not any(secret in json.dumps(made) for secret in secrets_of)

    again = run_module(minio_site_replication, arguments)
    assert not again["changed"] and again["actions"] == [] and again["sites"] == made["sites"]
    # From site B, listed in another order: the same replication.
    from_b = run_module(minio_site_replication, site_b.connection(site="site-b", sites=sites(site_a, site_b)[::-1]))
    assert not from_b["changed"]

    # A bucket and a user made on site A appear on site B, the user with its secret.
    run_module(minio_bucket, site_a.connection(name="replicated"))
    run_module(minio_user, site_a.connection(access_key="replicated-user", secret_key="replicated-secret"))
    assert eventually(lambda: s3(site_b).bucket_exists("replicated"))
    assert eventually(lambda: can_sign_in(site_b, "replicated-user", "replicated-secret"))

    # A third, empty site is added; the configured ones stay.
    grown = run_module(minio_site_replication, site_a.connection(site="site-a", sites=sites(site_a, site_b, site_c)))
    assert grown["changed"] and grown["added"] == ["site-c"]
    assert grown["actions"] == ["add sites site-c to site replication between site-a, site-b, site-c"]
    assert eventually(lambda: s3(site_c).bucket_exists("replicated"))

    # Leaving a site out never removes it.
    shrunk = run_module(minio_site_replication, arguments)
    assert shrunk["failed"] and "site replication has sites that sites does not list: site-c" in shrunk["msg"]
    assert "never removes a site" in shrunk["msg"] and "mc admin replicate rm" in shrunk["msg"]
    assert len(json.loads(admin(site_a).get_site_replication_info())["sites"]) == 3
    assert not any(secret in json.dumps(shrunk) for secret in secrets_of)


# --- through ansible itself ---------------------------------------------------------------------------------

def test_the_module_runs_through_ansible(minio_server):
    """AnsiballZ packs the module with its module_utils (named like the minio package) and runs it."""
    arguments = json.dumps(minio_server.connection(name="from-ansible", versioning="enabled"))
    command = [str(Path(sys.executable).parent / "ansible"), "localhost", "-m", "selfhost.stack.minio_bucket",
               "-a", arguments, "-e", f"ansible_python_interpreter={sys.executable}", "--diff"]
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    outputs = [subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
               for unused in range(2)]
    results = [json.loads(output.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"] for output in outputs]
    assert results[0]["changed"] and results[0]["bucket"]["versioning"] == "enabled", outputs[0].stdout[-2000:]
    assert not results[1]["changed"]
    assert minio_server.root_password not in outputs[0].stdout + outputs[1].stdout


def test_content_makes_policies_users_and_buckets_in_one_run_then_changes_nothing(run_module, minio_server):
    content = minio_server.connection(
        policies=[{"name": "shop-rw", "policy": APP_POLICY}],
        users=[{"access_key": "shop-app", "secret_key": "shop-secret-1", "policies": ["shop-rw"]},
               {"access_key": "shop-audit", "secret_key": "audit-secret-1", "enabled": False}],
        buckets=[{"name": "shop-files", "versioning": "enabled"}, {"name": "shop-ledger", "object_lock": True}])
    # Check mode: the user may name the policy the same run adds; nothing is made.
    check = run_module(minio_content, content, check=True)
    assert check["changed"] and not check.get("failed"), check
    assert check["actions"] == ["add policy shop-rw", "add user shop-app", "attach policies shop-rw to user shop-app",
                                "add user shop-audit", "disable user shop-audit", "make bucket shop-files",
                                "enable versioning of bucket shop-files", "make bucket shop-ledger with object lock"]
    assert not s3(minio_server).bucket_exists("shop-files")
    assert "shop-rw" not in json.loads(admin(minio_server).policy_list())

    made = run_module(minio_content, content)
    assert made["actions"] == check["actions"]
    assert can_sign_in(minio_server, "shop-app", "shop-secret-1")
    assert not can_sign_in(minio_server, "shop-audit", "audit-secret-1")
    assert s3(minio_server).get_bucket_versioning("shop-files").status == "Enabled"
    assert [user["secret"] for user in made["users"]] == ["set", "set"]
    assert "shop-secret-1" not in json.dumps(made) and "audit-secret-1" not in json.dumps(made)

    again = run_module(minio_content, content)
    assert not again["changed"] and again["actions"] == [] and again["diff"] == [], again
    assert [bucket["versioning"] for bucket in again["buckets"]] == ["enabled", "enabled"]


def test_content_removes_users_buckets_then_the_policies_they_had(run_module, minio_server):
    run_module(minio_content, minio_server.connection(
        policies=[{"name": "gone-rw", "policy": APP_POLICY}],
        users=[{"access_key": "gone-app", "secret_key": "gone-secret-1", "policies": ["gone-rw"]}],
        buckets=[{"name": "gone-files"}]))
    s3(minio_server).put_object("gone-files", "a.txt", io.BytesIO(b"a"), 1)
    removal = minio_server.connection(
        policies=[{"name": "gone-rw", "state": "absent"}],
        users=[{"access_key": "gone-app", "state": "absent"}],
        buckets=[{"name": "gone-files", "state": "absent"}])
    refused = run_module(minio_content, removal)
    # The user goes first; the non-empty bucket stops the run before the policy is removed.
    assert refused["failed"] and "bucket gone-files is not empty" in refused["msg"]
    assert refused["actions"] == ["remove user gone-app"]
    removed = run_module(minio_content, dict(removal, buckets=[{"name": "gone-files", "state": "absent", "force": True}]))
    assert removed["actions"] == ["delete the 1 object versions of bucket gone-files", "remove bucket gone-files",
                                  "remove policy gone-rw"]
    assert removed["buckets"][0]["objects_deleted"] == 1
    assert "gone-rw" not in json.loads(admin(minio_server).policy_list())


def test_content_fails_on_a_policy_that_neither_exists_nor_comes(run_module, minio_server):
    result = run_module(minio_content, minio_server.connection(
        users=[{"access_key": "lost-app", "secret_key": "lost-secret-1", "policies": ["no-such-rw"]}]))
    assert result["failed"] and "policies no-such-rw do not exist" in result["msg"] and result["actions"] == []
