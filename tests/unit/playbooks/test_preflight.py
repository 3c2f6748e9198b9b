"""site.yml refuses a bad inventory before it changes anything, and names the variable.

These tests run playbooks/preflight.yml, the play site.yml imports first, and never site.yml
itself: their hosts are this machine (local connection), which a passing preflight must not lead
to change. Each asserts where the run stopped, not only what it printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]

# What a PostgreSQL host needs to pass its own checks.
DATABASE = {"postgresql_address": "10.0.0.1", "postgresql_replication_password": "a-long-replication-secret"}
REPOSITORY = {"repository": True, "backup_cipher_passphrase": "a-long-backup-passphrase-of-40-characters"}


INVENTORY_CHECK = "selfhost.stack.preflight : Check the controller's ansible-core and that the inventory is consistent"
HOST_CHECK = "selfhost.stack.preflight : Check that the host runs a supported distribution under systemd"


def refused(role):
    """The task of `role` that checks all of its input at once (action refuse)."""
    return f"selfhost.stack.{role} : Refuse bad input, naming every variable that is wrong"


def local_distribution():
    """The controller's distribution as ansible_facts names it, so preflight accepts it."""
    release = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    return {release["ID"].strip('"').capitalize(): [release["VERSION_ID"].strip('"').split(".")[0]]}


def run_preflight(ansible_playbook, tmp_path, hosts, extra_vars=None):
    """Runs the preflight against hosts on this machine (local connection) and returns the result."""
    inventory = {
        "all": {
            "hosts": {name: dict(values, ansible_connection="local") for name, values in hosts.items()},
            "children": {
                "postgresql": {"hosts": {n: None for n, v in hosts.items() if "postgresql_role" in v}},
                "wireguard": {"hosts": {n: None for n, v in hosts.items() if v.get("vpn")}},
                "minio": {"hosts": {n: None for n, v in hosts.items() if "minio_address" in v}},
                "backup_repository": {"hosts": {n: None for n, v in hosts.items() if v.get("repository")}},
            },
        }
    }
    (tmp_path / "hosts.json").write_text(json.dumps(inventory))
    return ansible_playbook("playbooks/preflight.yml", tmp_path / "hosts.json", extra_vars or {})


def failed_tasks(stdout):
    """The tasks that failed, as 'role : task name', in the order the output shows them."""
    failed, task = [], None
    for line in stdout.splitlines():
        started = re.match(r"TASK \[(.*)\] \**$", line)
        if started:
            task = started.group(1)
        elif line.startswith("fatal: ") and task not in failed:
            failed.append(task)
    return failed


def test_site_runs_the_preflight_first():
    plays = yaml.safe_load((REPO / "playbooks/site.yml").read_text())
    assert plays[0].get("ansible.builtin.import_playbook") == "preflight.yml"
    preflight = yaml.safe_load((REPO / "playbooks/preflight.yml").read_text())
    assert [play["any_errors_fatal"] for play in preflight] == [True]


@pytest.mark.parametrize(
    "hosts, message",
    [
        (
            {"db1": {"postgresql_role": "primary"}, "db2": {"postgresql_role": "primary"}},
            "postgresql_role: group 'postgresql' needs exactly 1 host with postgresql_role=primary, found 2",
        ),
        (
            {"db1": {"postgresql_role": "leader"}},
            "postgresql_role: 'db1' is in group 'postgresql' and needs postgresql_role set to one of",
        ),
        (
            {"db1": {"ansible_host": "127.0.0.1"}, "db2": {"ansible_host": "127.0.0.1"}},
            "ansible_host: 'db2' and 'db1' both point at 127.0.0.1",
        ),
    ],
    ids=["two-primaries", "unknown-part", "duplicate-address"],
)
def test_bad_inventory_stops_the_run_at_the_inventory_check(ansible_playbook, tmp_path, hosts, message):
    result = run_preflight(ansible_playbook, tmp_path, hosts)
    assert result.returncode != 0
    assert message in result.stdout
    assert failed_tasks(result.stdout) == [INVENTORY_CHECK], \
        result.stdout[-2000:]
    # Nothing after the inventory check ran, on any host: not even fact gathering.
    assert "Gather the minimal facts" not in result.stdout


@pytest.mark.parametrize(
    "hosts, message, task",
    [
        ({"hub": {"vpn": True, "wireguard_address": "10.0.9.1"}, "app": {"vpn": True}},
         "wireguard_address: hub has 10.0.9.1, which is not a host address of wireguard_network 10.0.0.0/24",
         refused("wireguard")),
        ({"hub": {"vpn": True, "wireguard_hub": "hubb"}}, "wireguard_hub: unknown peer name 'hubb'",
         refused("wireguard")),
        ({"db1": {**DATABASE, "postgresql_role": "primary"},
          "db2": {**DATABASE, "postgresql_role": "standby", "postgresql_replication_password": "short"}},
         "postgresql_replication_password: a group with standbys needs it",
         refused("postgresql")),
        ({"db1": {**DATABASE, "postgresql_role": "primary", "postgresql_tenants": [{"id": "acme"}, {"id": "Globex"}]}},
         "postgresql_tenants[1]: id 'Globex' must be a lower-case letter",
         refused("postgresql")),
        ({"box": {"firewall_rules": [{"port": 70000, "comment": "out of range"}]}},
         "firewall_rules[0].port: 70000: expected a port number 1-65535",
         refused("firewall")),
        ({"box": {"firewall_rules": [{"port": 443}, {"port": 443, "proto": "tcpx"}]}},
         "firewall_rules[1].proto: 'tcpx' is not one of tcp, udp, any",
         refused("firewall")),
        ({"box": {"base_ssh_port": 70000}}, "base_ssh_port must be 1-65535 (got 70000)",
         refused("base")),
        ({"db1": {**DATABASE, "postgresql_role": "primary"}, "nas1": {"repository": True},
          "nas2": {"repository": True}},
         "backup_repository_group: group 'backup_repository' holds nas1, nas2; it takes one host",
         refused("backup")),
        ({"db1": {**DATABASE, "postgresql_role": "primary"}, "nas": {**REPOSITORY, "backup_address": "10.0.0.20"}},
         "backup_address: db1 has no private address for pgBackRest's TLS server",
         refused("backup")),
        ({"db1": {**DATABASE, **REPOSITORY, "postgresql_role": "primary", "backup_address": "10.0.0.1"}},
         "backup_repository_group: db1 is a database host too",
         refused("backup")),
        ({"db1": {**DATABASE, "postgresql_role": "primary", "backup_address": "10.0.0.1"},
          "nas": {**REPOSITORY, "backup_address": "10.0.0.20", "backup_cipher_passphrase": "too-short"}},
         "backup_cipher_passphrase: the repository is encrypted (aes-256-cbc) with it",
         refused("backup")),
        ({"db1": {**DATABASE, "postgresql_role": "primary", "backup_address": "10.0.0.1"},
          "nas": {**REPOSITORY, "backup_address": "10.0.0.20", "backup_diff_schedule": "every night at 1"}},
         "backup_full_schedule (Sun *-*-* 01:00:00) or backup_diff_schedule (every night at 1) is not a systemd "
         "calendar event",
         refused("backup")),
        ({"db1": {**DATABASE, "postgresql_role": "primary", "backup_address": "10.0.0.1"},
          "nas": {**REPOSITORY, "backup_address": "10.0.0.20", "backup_failure_command": "mail ops\nrm -rf /"}},
         "backup_failure_command is one line of shell",
         refused("backup")),
        ({"db1": {**DATABASE, "postgresql_role": "primary", "backup_address": "10.0.0.1"},
          "nas": {**REPOSITORY, "backup_address": "10.0.0.20", "backup_s3_bucket": "offsite",
                  "backup_s3_endpoint": "https://s3.example.net", "backup_s3_key": "nas"}},
         "backup_s3_bucket is set (offsite), so the backups get a second repository on S3",
         refused("backup")),
    ],
    ids=["address-outside", "unknown-hub", "replication-password", "bad-tenant", "port-out-of-range", "unknown-protocol",
         "ssh-port", "two-repositories", "backup-address", "repository-on-database", "backup-passphrase",
         "backup-schedule", "failure-command", "s3-repository"],
)
def test_bad_service_inventory_stops_the_run_in_its_check(ansible_playbook, tmp_path, hosts, message, task):
    result = run_preflight(ansible_playbook, tmp_path, hosts,
                           {"preflight_supported_distributions": local_distribution()})
    assert result.returncode != 0
    assert message in result.stdout
    assert failed_tasks(result.stdout) == [task], result.stdout[-2000:]


def test_unsupported_distribution_is_refused(ansible_playbook, tmp_path):
    result = run_preflight(ansible_playbook, tmp_path, {"box": {}},
                           {"preflight_supported_distributions": {"Plan9": ["4"]}})
    assert result.returncode != 0
    assert "box runs " in result.stdout and "which is not in preflight_supported_distributions" in result.stdout
    assert failed_tasks(result.stdout) == [HOST_CHECK]


def test_consistent_inventory_passes_every_check(ansible_playbook, tmp_path):
    """The positive path: every inventory and service check passes, and nothing is changed."""
    hosts = {"db1": {**DATABASE, "postgresql_role": "primary", "backup_address": "10.0.0.1"},
             "db2": {**DATABASE, "postgresql_role": "standby", "postgresql_address": "10.0.0.2", "backup_address": "10.0.0.2"},
             "nas": {**REPOSITORY, "backup_address": "10.0.0.20"}}
    result = run_preflight(ansible_playbook, tmp_path, hosts,
                           {"preflight_supported_distributions": local_distribution()})
    # The last check asks for systemd, which a machine running the tests in a container may lack.
    expected = [] if Path("/run/systemd/system").is_dir() else [HOST_CHECK]
    assert failed_tasks(result.stdout) == expected, result.stdout[-3000:]
    assert f"TASK [{HOST_CHECK}]" in result.stdout
    recap = result.stdout.split("PLAY RECAP")[-1]
    assert sorted(re.findall(r"(db[12]|nas) +: ok=\d+ +changed=0 ", recap)) == ["db1", "db2", "nas"], recap
    # The backups' checks ran too: one release on the database hosts and the repository host.
    assert f"TASK [{refused('backup')}]" in result.stdout


def test_primary_that_is_really_a_standby_is_refused(ansible_playbook, tmp_path):
    """After a failover the inventory's primary may hold a standby's data: the preflight looks."""
    for major in range(13, 19):
        cluster = tmp_path / "data" / str(major) / "main"
        cluster.mkdir(parents=True)
        (cluster / "standby.signal").touch()
    hosts = {"db1": {**DATABASE, "postgresql_role": "primary", "postgresql_data_root": str(tmp_path / "data")}}
    result = run_preflight(ansible_playbook, tmp_path, hosts, {"preflight_supported_distributions": local_distribution()})
    assert result.returncode != 0
    assert "postgresql_role: db1 is the primary in the inventory but its cluster is a standby" in result.stdout
    assert failed_tasks(result.stdout) == [refused("postgresql")], result.stdout[-2000:]


def test_wrong_artifact_checksum_is_refused(ansible_playbook, tmp_path):
    artifact = tmp_path / "minio"
    artifact.write_bytes(b"not the server that was checked\n")
    hosts = {"s3": {"minio_address": "10.0.0.5", "minio_root_user": "admin", "minio_root_password": "a-long-root-secret",
                    "minio_artifact_file": str(artifact), "minio_artifact_sha256": "0" * 64}}
    result = run_preflight(ansible_playbook, tmp_path, hosts, {"preflight_supported_distributions": local_distribution()})
    assert result.returncode != 0
    assert f"minio_artifact_file: {artifact} on the controller has sha256 " in result.stdout
    assert "not minio_artifact_sha256 " + "0" * 64 in result.stdout
    assert failed_tasks(result.stdout) == [refused("minio")], result.stdout[-2000:]
