"""site.yml refuses a bad inventory before it changes anything, and names the variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def local_distribution():
    """The controller's distribution as ansible_facts names it, so preflight accepts it."""
    release = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    return {release["ID"].strip('"').capitalize(): [release["VERSION_ID"].strip('"').split(".")[0]]}


# What a PostgreSQL host needs to pass its own checks.
DATABASE = {"postgresql_address": "10.0.0.1", "postgresql_replication_password": "a-long-replication-secret"}


def run_site(ansible_playbook, tmp_path, hosts, extra_vars=None):
    """Runs site.yml against hosts on this machine (local connection) and returns the result."""
    inventory = {
        "all": {
            "hosts": {name: dict(values, ansible_connection="local") for name, values in hosts.items()},
            "children": {
                "postgresql": {"hosts": {n: None for n, v in hosts.items() if "postgresql_role" in v}},
                "wireguard": {"hosts": {n: None for n, v in hosts.items() if v.get("vpn")}},
            },
        }
    }
    (tmp_path / "hosts.json").write_text(json.dumps(inventory))
    return ansible_playbook("playbooks/site.yml", tmp_path / "hosts.json", extra_vars or {})


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
def test_bad_inventory_stops_the_run_before_any_change(ansible_playbook, tmp_path, hosts, message):
    result = run_site(ansible_playbook, tmp_path, hosts)
    assert result.returncode != 0
    assert message in result.stdout
    # Nothing after the inventory check ran, on any host: not even fact gathering.
    assert "Gather the minimal facts" not in result.stdout
    assert "Report the deployment" not in result.stdout


@pytest.mark.parametrize(
    "hosts, message",
    [
        ({"hub": {"vpn": True, "wireguard_address": "10.0.9.1"}, "app": {"vpn": True}},
         "wireguard_address: hub has 10.0.9.1, which is not a host address of wireguard_network 10.0.0.0/24"),
        ({"hub": {"vpn": True, "wireguard_hub": "hubb"}}, "wireguard_hub: unknown peer name 'hubb'"),
        ({"db1": {**DATABASE, "postgresql_role": "primary"},
          "db2": {**DATABASE, "postgresql_role": "standby", "postgresql_replication_password": "short"}},
         "postgresql_replication_password: a group with standbys needs it"),
    ],
    ids=["address-outside", "unknown-hub", "replication-password"],
)
def test_bad_service_inventory_stops_the_run_in_preflight(ansible_playbook, tmp_path, hosts, message):
    result = run_site(ansible_playbook, tmp_path, hosts, {"preflight_supported_distributions": local_distribution()})
    assert result.returncode != 0
    assert message in result.stdout
    assert "PLAY [Base system]" not in result.stdout


def test_unsupported_distribution_is_refused(ansible_playbook, tmp_path):
    result = run_site(ansible_playbook, tmp_path, {"box": {}}, {"preflight_supported_distributions": {"Plan9": ["4"]}})
    assert result.returncode != 0
    assert "which is not in preflight_supported_distributions" in result.stdout
    assert "Report the deployment" not in result.stdout


def test_consistent_inventory_passes_on_to_the_host_checks(ansible_playbook, tmp_path):
    """The positive path to the report is the smoke scenario's converge; here, only the gate."""
    hosts = {"db1": {**DATABASE, "postgresql_role": "primary"},
             "db2": {**DATABASE, "postgresql_role": "standby", "postgresql_address": "10.0.0.2"}}
    result = run_site(ansible_playbook, tmp_path, hosts, {"preflight_supported_distributions": local_distribution()})
    assert "The inventory is inconsistent" not in result.stdout
    assert "TASK [selfhost.stack.preflight : Check that the distribution is supported]" in result.stdout
    assert "which is not in preflight_supported_distributions" not in result.stdout
