"""Unit tests for the firewall_openings filter: a host's openings from the inventory alone."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.firewall import firewall_plan
from ansible_collections.selfhost.stack.plugins.filter.openings import FilterModule, firewall_openings
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import setting

# The reference topology: the primary is the VPN's hub, the standby and an app server spokes,
# and the NAS outside the VPN with a fixed private address.
HOSTVARS = {
    "primary": {"wireguard_address": "10.0.0.1"},
    "standby": {"wireguard_address": "10.0.0.2"},
    "app1": {"wireguard_address": "10.0.0.10"},
    "nas": {"minio_address": "192.168.1.20", "postgresql_address": "192.168.1.20"},
}
GROUPS = {
    "all": list(HOSTVARS), "wireguard": ["primary", "standby", "app1"], "app": ["app1"],
    "postgresql": ["primary", "standby"], "redis": ["primary", "standby"], "redis_sentinel": ["primary", "standby", "app1"],
    "minio": ["primary", "nas"],
}


def inventory(groups=None, **hostvars):
    merged = {host: dict(values, **hostvars.get(host, {})) for host, values in HOSTVARS.items()}
    return merged, dict(GROUPS, **(groups or {}))


def ports(openings, name):
    """{port: sorted sources} of one declaration."""
    found = {}
    for rule in openings[name]["rules"]:
        found.setdefault(rule["port"], []).append(rule.get("from", "any"))
    return {port: sorted(sources) for port, sources in found.items()}


def test_filter_is_registered():
    assert FilterModule().filters() == {"firewall_openings": firewall_openings}


def test_a_host_in_many_groups_opens_each_service_to_its_peers_only():
    openings = firewall_openings("primary", *inventory())
    assert sorted(openings) == ["minio", "postgresql", "redis", "ssh", "wireguard"]
    assert openings["ssh"]["rules"] == [{"port": 22, "rule": "limit", "comment": "ssh"}]
    assert openings["wireguard"]["rules"][0] == {"port": 51820, "proto": "udp", "comment": "wireguard"}
    # The hub forwards spoke to spoke.
    assert openings["wireguard"]["rules"][1]["route"] is True
    assert openings["wireguard"]["sources"]["vpn"] == {"cidr": "10.0.0.0/24", "interface": "wg0"}
    # PostgreSQL and PgBouncer: the other host of the group and the app host; the NAS is no client.
    assert ports(openings, "postgresql") == {"5432,6432": ["10.0.0.10/32", "10.0.0.2/32"]}
    peers = ["10.0.0.10/32", "10.0.0.2/32"]
    assert ports(openings, "redis") == {"6379": peers, "26379": peers}
    # MinIO: the other site (outside the VPN, at its own address) and the app host.
    assert ports(openings, "minio") == {"9000": ["10.0.0.10/32", "192.168.1.20/32"]}


def test_a_host_outside_every_service_group_opens_ssh_and_the_vpn_only():
    openings = firewall_openings("app1", *inventory(groups={"redis_sentinel": ["primary", "standby"]}))
    assert sorted(openings) == ["ssh", "wireguard"]
    assert len(openings["wireguard"]["rules"]) == 1


def test_a_sentinel_only_host_opens_the_sentinel_port_only():
    assert ports(firewall_openings("app1", *inventory()), "redis") == {"26379": ["10.0.0.1/32", "10.0.0.2/32"]}


def test_a_host_that_leaves_a_group_loses_the_opening_and_its_peers_lose_it_as_a_source():
    before = firewall_openings("standby", *inventory())
    assert "postgresql" in before
    after = firewall_openings("standby", *inventory(groups={"postgresql": ["primary"]}))
    assert "postgresql" not in after and sorted(after) == ["redis", "ssh", "wireguard"]
    primary = firewall_openings("primary", *inventory(groups={"postgresql": ["primary"]}))
    assert ports(primary, "postgresql") == {"5432,6432": ["10.0.0.10/32"]}


def test_an_all_in_one_host_opens_every_service_with_the_inventorys_ports():
    hostvars = {"box": {"postgresql_address": "10.1.0.5", "postgresql_pgbouncer": False, "postgresql_port": 5433,
                        "redis_address": "10.1.0.5", "minio_address": "10.1.0.5", "base_ssh_port": 2222,
                        "postgresql_client_addresses": ["10.1.0.0/24"], "minio_client_addresses": ["10.1.0.9/32"]}}
    groups = {"all": ["box"], "postgresql": ["box"], "redis": ["box"], "redis_sentinel": ["box"], "minio": ["box"]}
    openings = firewall_openings("box", hostvars, groups)
    assert openings["ssh"]["rules"][0]["port"] == 2222
    assert ports(openings, "postgresql") == {"5433": ["10.1.0.0/24"]}
    # Alone, Redis has no peer: no rule, so nothing but loopback reaches it.
    assert openings["redis"]["rules"] == []
    assert ports(openings, "minio") == {"9000": ["10.1.0.9/32"]}


def test_group_names_come_from_the_group_variables():
    hostvars, groups = inventory()
    hostvars = {host: dict(values, postgresql_group="databases") for host, values in hostvars.items()}
    groups = dict(groups, databases=["standby"])
    assert "postgresql" not in firewall_openings("primary", hostvars, groups)
    assert ports(firewall_openings("standby", hostvars, groups), "postgresql") == {"5432,6432": ["10.0.0.10/32"]}


def test_a_users_rule_joins_the_openings_and_may_name_a_vpn_peer():
    hostvars, groups = inventory()
    extra = [{"port": 8080, "from": "app1", "comment": "admin ui"}]
    plan = firewall_plan(firewall_openings("primary", hostvars, groups), extra, 22)
    assert plan["errors"] == []
    admin = [rule for rule in plan["ufw"] if rule["comment"] == "admin ui"]
    assert admin == [{"rule": "allow", "route": False, "proto": "tcp", "from_ip": "10.0.0.10", "to_port": "8080",
                      "interface_in": "wg0", "interface_out": "", "comment": "admin ui"}]


def test_an_inconsistent_vpn_gives_no_vpn_openings():
    hostvars, groups = inventory(standby={"wireguard_address": "10.0.0.1"})
    openings = firewall_openings("primary", hostvars, groups)
    assert "wireguard" not in openings
    # Peers known only by their VPN address are left out, never guessed.
    assert ports(openings, "minio") == {"9000": ["192.168.1.20/32"]}


def test_settings_fall_back_to_the_roles_defaults():
    assert setting({"db": {}}, "db", "postgresql_port") == 5432
    assert setting({"db": {"postgresql_port": 5433}}, "db", "postgresql_port") == 5433
    with pytest.raises(AnsibleFilterError, match="postgresql_prot is not a variable"):
        setting({}, "db", "postgresql_prot")


def test_pgbackrest_opens_the_repository_to_the_database_hosts_and_them_to_the_repository():
    hostvars, groups = inventory(groups={"backup_repository": ["nas"]}, nas={"backup_address": "192.168.1.20"})
    assert ports(firewall_openings("nas", hostvars, groups), "pgbackrest") == {"8432": ["10.0.0.1/32", "10.0.0.2/32"]}
    for database in ("primary", "standby"):
        assert ports(firewall_openings(database, hostvars, groups), "pgbackrest") == {"8432": ["192.168.1.20/32"]}
    # Neither an app host nor a host once the repository group is empty.
    assert "pgbackrest" not in firewall_openings("app1", hostvars, groups)
    assert "pgbackrest" not in firewall_openings("primary", *inventory())


def test_minio_opens_to_a_repository_host_that_keeps_an_s3_repository():
    # Without one, the repository host is no client of MinIO.
    hostvars, groups = inventory(groups={"backup_repository": ["standby"]})
    assert ports(firewall_openings("primary", hostvars, groups), "minio") == {"9000": ["10.0.0.10/32", "192.168.1.20/32"]}
    hostvars, groups = inventory(groups={"backup_repository": ["standby"]}, standby={"backup_s3_bucket": "offsite"})
    assert ports(firewall_openings("primary", hostvars, groups), "minio") == {
        "9000": ["10.0.0.10/32", "10.0.0.2/32", "192.168.1.20/32"]}


def test_pgbackrest_on_an_all_in_one_host_opens_nothing_and_follows_the_port_setting():
    hostvars, groups = inventory(groups={"backup_repository": ["primary"]}, primary={"backup_tls_port": 8433})
    assert "pgbackrest" in firewall_openings("standby", hostvars, groups)
    assert ports(firewall_openings("primary", hostvars, groups), "pgbackrest") == {"8433": ["10.0.0.2/32"]}
    lone, lone_groups = inventory(groups={"backup_repository": ["primary"], "postgresql": ["primary"]})
    assert "pgbackrest" not in firewall_openings("primary", lone, lone_groups)
