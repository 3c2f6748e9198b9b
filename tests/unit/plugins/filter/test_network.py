"""Unit tests for the address filters and the WireGuard plan."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.network import (
    FilterModule, host_networks, ip_allocate, networks_overlapping, service_addresses, wireguard_peer_keys,
    wireguard_plan,
)

KEY = "y+U2xqk6X/SocqKPx8lTSpqBzVpyCTgxZs9ekNHxNBE="
MEMBERS = ["primary", "standby", "app1", "app2"]
HOSTVARS = {
    "primary": {"ansible_host": "203.0.113.10"},
    "standby": {"ansible_host": "203.0.113.11"},
    "app1": {"ansible_host": "203.0.113.20", "wireguard_address": "10.0.0.10"},
    "app2": {"ansible_host": "203.0.113.21", "wireguard_address": "10.0.0.11"},
}
SETTINGS = {"network": "10.0.0.0/24", "port": 51820, "topology": "hub_and_spoke", "hub": "primary",
            "interface": "wg0", "external_peers": []}


def plan(members=None, hostvars=None, **settings):
    return wireguard_plan(MEMBERS if members is None else members, HOSTVARS if hostvars is None else hostvars,
                          {**SETTINGS, **settings})


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "ip_allocate", "networks_overlapping", "host_networks", "wireguard_plan", "wireguard_peer_keys",
        "service_addresses"}


def test_allocation_fixed_wins_and_the_rest_take_the_lowest_free_addresses():
    assert ip_allocate(["a", "b", "c"], "10.0.0.0/24", {"a": "10.0.0.2"}) == {
        "a": "10.0.0.2", "b": "10.0.0.1", "c": "10.0.0.3"}


@pytest.mark.parametrize("network, fixed, message", [
    ("10.0.0.1/24", {}, "is not an IPv4 network"),
    ("10.0.0.0/24", {"a": "10.0.1.1"}, "not a host address of 10.0.0.0/24"),
    ("10.0.0.0/24", {"a": "10.0.0.255"}, "not a host address"),
    ("10.0.0.0/24", {"a": "10.0.0.5", "b": "10.0.0.5"}, "both have 10.0.0.5"),
    ("10.0.0.0/30", {}, "no free address left for c"),
])
def test_allocation_refuses_what_cannot_be(network, fixed, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ip_allocate(["a", "b", "c"], network, fixed)


def test_overlap_either_way():
    assert networks_overlapping("10.0.0.0/24", ["10.0.0.128/25", "10.0.0.0/8", "172.17.0.0/16"]) == [
        "10.0.0.128/25", "10.0.0.0/8"]
    assert networks_overlapping("10.0.0.0/24", ["10.0.1.0/24"]) == []


def test_host_networks_from_facts_skip_loopback_and_excluded_interfaces():
    facts = {
        "interfaces": ["lo", "eth0", "docker0", "wg0", "br-1a2b"],
        "lo": {"ipv4": {"address": "127.0.0.1", "network": "127.0.0.0", "netmask": "255.0.0.0"}},
        "eth0": {"ipv4": {"address": "203.0.113.10", "network": "203.0.113.0", "netmask": "255.255.255.0"},
                 "ipv4_secondaries": [{"address": "192.168.5.2", "network": "192.168.5.0", "netmask": "255.255.255.0"}]},
        "docker0": {"ipv4": {"address": "172.17.0.1", "network": "172.17.0.0", "netmask": "255.255.0.0"}},
        "wg0": {"ipv4": {"address": "10.0.0.1", "network": "10.0.0.0", "netmask": "255.255.255.0"}},
        "br_1a2b": {"ipv4": {"address": "10.0.0.129", "network": "10.0.0.128", "netmask": "255.255.255.128"}},
    }
    assert host_networks(facts, ["wg0"]) == ["203.0.113.0/24", "192.168.5.0/24", "172.17.0.0/16", "10.0.0.128/25"]


def test_reference_hub_and_spoke_plan():
    result = plan()
    assert result["errors"] == []
    assert {name: node["address"] for name, node in result["nodes"].items()} == {
        "primary": "10.0.0.1", "standby": "10.0.0.2", "app1": "10.0.0.10", "app2": "10.0.0.11"}
    assert [peer["name"] for peer in result["peers"]["primary"]] == ["standby", "app1", "app2"]
    assert result["peers"]["primary"][1]["allowed_ips"] == ["10.0.0.10/32"]
    # A spoke reaches the whole VPN through the hub, at the hub's public address.
    assert result["peers"]["app1"] == [{"name": "primary", "allowed_ips": ["10.0.0.0/24"],
                                        "endpoint": "203.0.113.10:51820", "keepalive": 0, "public_key": ""}]
    assert result["sources"]["vpn"] == {"cidr": "10.0.0.0/24", "interface": "wg0"}
    assert result["sources"]["app2"] == {"cidr": "10.0.0.11/32", "interface": "wg0"}


def test_mesh_peers_everyone_with_everyone():
    result = plan(topology="mesh")
    assert result["hub"] == ""
    for host in MEMBERS:
        assert sorted(peer["name"] for peer in result["peers"][host]) == sorted(set(MEMBERS) - {host})
        assert all(peer["allowed_ips"][0].endswith("/32") for peer in result["peers"][host])


def test_the_hub_defaults_to_the_first_member():
    assert plan(hub="")["hub"] == "primary"


def test_a_host_behind_nat_keeps_alive_and_is_not_dialed():
    hostvars = {**HOSTVARS, "app2": {**HOSTVARS["app2"], "wireguard_persistent_keepalive": "25"}}
    result = plan(hostvars=hostvars)
    assert result["peers"]["app2"][0]["keepalive"] == 25
    to_app2 = next(peer for peer in result["peers"]["primary"] if peer["name"] == "app2")
    assert to_app2["endpoint"] == "" and to_app2["keepalive"] == 0


def test_endpoint_and_port_per_host():
    hostvars = {**HOSTVARS, "primary": {"wireguard_endpoint": "vpn.example.org", "wireguard_port": 51000},
                "standby": {"ansible_host": "2001:db8::11"}}
    result = plan(hostvars=hostvars)
    assert result["nodes"]["primary"]["endpoint"] == "vpn.example.org:51000"
    assert result["nodes"]["standby"]["endpoint"] == "[2001:db8::11]:51820"


def test_external_peers_attach_to_the_hub_or_to_the_hosts_they_name():
    laptop = {"name": "laptop", "public_key": KEY, "address": "10.0.0.200"}
    office = {"name": "office", "public_key": KEY, "address": "10.0.0.201", "hosts": ["app1"],
              "endpoint": "198.51.100.7:51820"}
    result = plan(external_peers=[laptop, office])
    assert result["errors"] == []
    assert [peer["name"] for peer in result["peers"]["primary"]][-1] == "laptop"
    assert [peer["name"] for peer in result["peers"]["app1"]] == ["primary", "office"]
    assert result["peers"]["app1"][1]["public_key"] == KEY
    assert result["sources"]["laptop"]["cidr"] == "10.0.0.200/32"
    mesh = plan(topology="mesh", external_peers=[laptop])
    assert all(peers[-1]["name"] == "laptop" for peers in mesh["peers"].values())


@pytest.mark.parametrize("changes, message", [
    ({"network": "10.0.0.0/33"}, "wireguard_network: '10.0.0.0/33' is not an IPv4 network"),
    ({"network": "10.0.0.1/24"}, "host bits zero"),
    ({"network": "fd00::/64"}, "is not an IPv4 network"),
    ({"hub": "primry"}, "wireguard_hub: unknown peer name 'primry'"),
    ({"topology": "star"}, "wireguard_topology: 'star' is not one of"),
    ({"port": 70000}, "wireguard_port: primary has 70000; expected a port number 1-65535"),
    ({"external_peers": [{"name": "laptop", "public_key": KEY, "address": "10.0.0.10"}]},
     "wireguard_external_peers[0].address: laptop and app1 both have 10.0.0.10"),
    ({"external_peers": [{"name": "laptop", "public_key": KEY, "address": "10.0.0.200", "hosts": ["app9"]}]},
     "wireguard_external_peers[0].hosts: unknown peer name 'app9'"),
    ({"external_peers": [{"name": "laptop", "public_key": "not-a-key", "address": "10.0.0.200"}]},
     "wireguard_external_peers[0].public_key: expected a WireGuard public key"),
    ({"external_peers": [{"name": "app1", "public_key": KEY, "address": "10.0.0.200"}]},
     "wireguard_external_peers[0].name: 'app1' must be set and differ"),
    ({"external_peers": [{"name": "laptop", "public_key": KEY}]},
     "wireguard_external_peers[0].address: a peer outside Ansible needs a fixed address"),
])
def test_bad_settings_are_refused_naming_the_variable(changes, message):
    errors = plan(**changes)["errors"]
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize("address, message", [
    ("10.0.1.10", "app1 has 10.0.1.10, which is not a host address of wireguard_network 10.0.0.0/24"),
    ("10.0.0.0", "not a host address"),
    ("10.0.0.11", "wireguard_address: app2 and app1 both have 10.0.0.11"),
    ("10.0.0.10/24", "which is not an IPv4 address (write it without a prefix length)"),
])
def test_bad_host_addresses_are_refused(address, message):
    hostvars = {**HOSTVARS, "app1": {"wireguard_address": address}}
    errors = plan(hostvars=hostvars)["errors"]
    assert any(message in error for error in errors), errors


def test_bad_keepalive_is_refused():
    hostvars = {**HOSTVARS, "app1": {"wireguard_persistent_keepalive": -1}}
    assert "wireguard_persistent_keepalive: app1 has -1" in plan(hostvars=hostvars)["errors"][0]


def test_a_full_network_is_refused():
    errors = plan(network="10.0.0.0/30", hostvars={})["errors"]
    assert errors == ["wireguard_network: 10.0.0.0/30 has no free address left for app1"]


def test_peer_keys_come_from_this_run_then_from_the_cache():
    peers = [{"name": "primary", "public_key": ""}, {"name": "standby", "public_key": ""},
             {"name": "laptop", "public_key": KEY}, {"name": "app2", "public_key": ""}]
    keyed = wireguard_peer_keys(peers, {"primary": {"wireguard_key": {"public_key": "fresh"}}, "standby": {}},
                                {"primary": "stale", "standby": "cached"})
    assert [peer["public_key"] for peer in keyed] == ["fresh", "cached", KEY, ""]


def test_a_peer_whose_key_is_known_nowhere_is_named_when_the_host_is_given():
    peers = [{"name": "primary", "public_key": ""}, {"name": "app2", "public_key": ""}]
    with pytest.raises(AnsibleFilterError, match="^standby does not know the public key of app2: run the play"):
        wireguard_peer_keys(peers, {"primary": {"wireguard_key": {"public_key": "fresh"}}}, {}, "standby")


def test_service_addresses_prefer_the_hosts_own_address_to_the_vpn():
    hostvars = {"a": {"minio_address": "192.168.1.5"}, "b": {}, "c": {"minio_address": ""}}
    vpn = {"nodes": {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}}}
    assert service_addresses(["a", "b", "c"], hostvars, "minio_address", vpn) == {"a": "192.168.1.5", "b": "10.0.0.2"}


def test_service_addresses_leave_out_hosts_without_any_address():
    assert service_addresses(["a"], {"a": {}}, "redis_address") == {}
