"""Two MinIO sites with site replication, proved by behaviour: what the role creates on site A
(a bucket, a user and its policy) exists on site B, an object written on A is read on B within
10 s, the user can do what its policy allows and nothing more, only HTTPS is served, and bad input
changes nothing. The tests talk to the sites from the controller with the minio client, over
HTTPS verified against the scenario's CA, as an application would."""

import io
import json
import os
import time

import pytest
import urllib3
from minio import Minio, MinioAdmin
from minio.credentials import StaticProvider
from minio.error import S3Error
from scenario import changed_counts, eventually, on, playbook, words

SITES = ["minio-a", "minio-b"]
ROOT = ("scenario-root", "scenario-root-secret")
APP = ("app", "scenario-app-secret")
CA = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", "ca.crt")
HTTPS = urllib3.PoolManager(ca_certs=CA, cert_reqs="CERT_REQUIRED", retries=False, timeout=10)


def endpoint(name):
    return f"{on(name).interface('eth0').addresses[0]}:9000"


def s3(name, credentials=ROOT):
    return Minio(endpoint(name), *credentials, secure=True, http_client=HTTPS)


def admin(name):
    return MinioAdmin(endpoint=endpoint(name), credentials=StaticProvider(*ROOT), secure=True, http_client=HTTPS)


@pytest.mark.parametrize("name", SITES)
def test_each_site_runs_minio_on_its_private_address_only(name):
    host = on(name)
    assert host.service("minio").is_running
    assert host.service("minio").is_enabled
    listening = {str(socket) for socket in host.socket.get_listening_sockets()}
    assert f"tcp://{endpoint(name)}" in listening
    assert "tcp://0.0.0.0:9000" not in listening and "tcp://:::9000" not in listening
    # The console is for SSH tunnels only.
    assert "tcp://127.0.0.1:9001" in listening
    environment = host.file("/etc/minio/minio.env")
    assert (environment.user, environment.group, environment.mode) == ("root", "minio-user", 0o640)


@pytest.mark.parametrize("name", SITES)
def test_each_site_serves_https_only(name):
    plain = urllib3.PoolManager(retries=False, timeout=10).request("GET", f"http://{endpoint(name)}/minio/health/live")
    assert plain.status == 400
    assert HTTPS.request("GET", f"https://{endpoint(name)}/minio/health/live").status == 200


def test_the_sites_replicate_to_each_other():
    for name in SITES:
        info = json.loads(admin(name).get_site_replication_info())
        assert info["enabled"] is True
        assert sorted(site["name"] for site in info["sites"]) == SITES


@pytest.mark.parametrize("name", SITES)
def test_buckets_made_on_site_a_exist_on_both_sites(name):
    client = s3(name)
    assert eventually(lambda: client.bucket_exists("app-audit"), seconds=10, interval=0.5)
    assert client.get_bucket_versioning("app-files").status == "Enabled"
    assert client.get_object_lock_config("app-audit") is not None


@pytest.mark.parametrize("name", SITES)
def test_the_user_made_on_site_a_exists_on_both_sites_with_its_policy(name):
    user = json.loads(admin(name).user_info(APP[0]))
    assert user["status"] == "enabled"
    assert user["policyName"] == "app-readwrite"
    # Its secret works there, and its policy allows its bucket and nothing else.
    client = s3(name, APP)
    client.put_object("app-files", f"probe-{name}", io.BytesIO(b"ok"), 2)
    with pytest.raises(S3Error, match="Access Denied"):
        client.put_object("app-audit", f"probe-{name}", io.BytesIO(b"no"), 2)
    assert [bucket.name for bucket in client.list_buckets()] == ["app-files"]


def test_an_object_written_on_site_a_is_read_on_site_b_within_10s():
    body = f"replicated at {time.time_ns()}".encode()
    s3("minio-a", APP).put_object("app-files", "replication-probe", io.BytesIO(body), len(body))
    written = time.monotonic()

    def replicated():
        try:
            return s3("minio-b", APP).get_object("app-files", "replication-probe").read() == body
        except S3Error:
            return False

    assert eventually(replicated, seconds=10, interval=0.1)
    print(f"object replication delay minio-a -> minio-b: {time.monotonic() - written:.3f}s")


@pytest.mark.parametrize("override, message", [
    ({"minio_buckets": [{"name": "Invoices_2024"}]}, "'Invoices_2024'"),
    ({"minio_policies": [{"name": "broken", "policy": "{\"Statement\": ["}]}, "'broken'"),
    ({"minio_address": "10.99.0.1"}, "replicate to itself"),
    ({"minio_artifact_sha256": "0" * 64}, "not minio_artifact_sha256"),
], ids=["bucket-name", "policy-json", "site-peer-is-itself", "artifact-checksum"])
def test_bad_input_fails_before_any_change(override, message):
    result = playbook("converge.yml", "-e", json.dumps(override))
    assert result.returncode != 0
    assert message in words(result), words(result)[-2000:]
    assert set(changed_counts(result.stdout).values()) == {0}
    assert "scenario-root-secret" not in result.stdout + result.stderr


def test_check_mode_reports_nothing_to_change():
    result = playbook("converge.yml", "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(changed_counts(result.stdout).values()) == {0}


def test_a_second_run_changes_nothing_and_shows_no_secret():
    result = playbook("converge.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(changed_counts(result.stdout).values()) == {0}
    for secret in (ROOT[1], APP[1]):
        assert secret not in result.stdout + result.stderr
