"""The wireguard and firewall roles refuse bad input before any change, naming the variable.

Each role runs in check mode against this machine: validation comes first, so a failure here
happens before any task that could change something (and check mode guards the rest).
"""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

KEY = "y+U2xqk6X/SocqKPx8lTSpqBzVpyCTgxZs9ekNHxNBE="


def local_network():
    """A network this machine is on, for the overlap check."""
    line = subprocess.run(["ip", "-4", "-o", "address", "show", "scope", "global"], capture_output=True, text=True,
                          check=True).stdout.split()
    return str(ipaddress.ip_interface(line[3]).network)


HOSTS = {"box": {"ansible_connection": "local", "ansible_host": "203.0.113.10"}, "other": {"ansible_host": "203.0.113.11"}}


@pytest.mark.parametrize("changes, message", [
    ({"wireguard_network": "10.0.0.0/33"}, "wireguard_network: '10.0.0.0/33' is not an IPv4 network"),
    ({"wireguard_network": "10.0.0.1/24"}, "with its host bits zero"),
    ({"wireguard_hub": "primry"}, "wireguard_hub: unknown peer name 'primry'"),
    ({"wireguard_port": 70000}, "wireguard_port: box has 70000; expected a port number 1-65535"),
    ({"wireguard_address": "10.0.0.1"}, "wireguard_address: other and box both have 10.0.0.1"),
    ({"wireguard_external_peers": [{"name": "laptop", "public_key": KEY, "address": "10.0.0.9", "hosts": ["nas"]}]},
     "wireguard_external_peers[0].hosts: unknown peer name 'nas'"),
    ({"wireguard_topology": "star"}, "wireguard_topology"),
    (None, "wireguard_network: {network} overlaps {network}"),
], ids=["cidr", "host-bits", "unknown-hub", "port-range", "duplicate-address", "unknown-peer", "topology", "overlap"])
def test_wireguard_refuses_bad_input_before_any_change(role_check, changes, message):
    # Extra variables hold for both hosts: with wireguard_address, both ask for 10.0.0.1.
    variables = {"wireguard_network": local_network()} if changes is None else changes
    result = role_check("wireguard", {"wireguard": HOSTS}, variables)
    assert result.returncode != 0
    assert message.format(network=local_network()) in result.stdout, result.stdout[-2000:]
    assert "Install WireGuard" not in result.stdout


@pytest.mark.parametrize("rules, message", [
    ([{"port": 70000}], "firewall_rules[0].port: 70000: expected a port number 1-65535"),
    ([{"port": 80}, {"port": 80, "from": "laptop2"}], "firewall_rules[1].from: unknown peer name 'laptop2'"),
    ([{"port": 80, "proto": "icmp"}], "firewall_rules[0].proto: 'icmp' is not one of tcp, udp, any"),
], ids=["port-range", "unknown-peer", "proto"])
def test_firewall_refuses_bad_rules_before_any_change(role_check, rules, message):
    result = role_check("firewall", {"wireguard": HOSTS}, {"firewall_rules": rules})
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-2000:]
    assert "Install UFW" not in result.stdout
