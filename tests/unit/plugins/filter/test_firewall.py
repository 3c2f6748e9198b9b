"""Unit tests for the firewall_plan filter."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.firewall import FilterModule, firewall_plan

WIREGUARD = {
    "rules": [
        {"port": 51820, "proto": "udp", "comment": "wireguard"},
        {"route": True, "proto": "any", "from": "vpn", "interface_out": "wg0", "comment": "hub forwarding"},
    ],
    "sources": {"vpn": {"cidr": "10.0.0.0/24", "interface": "wg0"},
                "primary": {"cidr": "10.0.0.1/32", "interface": "wg0"}},
}
SSH = {"rules": [{"port": 2222, "rule": "limit", "comment": "ssh"}], "sources": {}}
POSTGRESQL = {"rules": [{"port": 5432, "from": "vpn", "comment": "postgresql"}]}


def ufw(port, **changes):
    return {"rule": "allow", "route": False, "proto": "tcp", "from_ip": "any", "to_port": str(port),
            "interface_in": "", "interface_out": "", "comment": "inventory", **changes}


def test_filter_is_registered():
    assert FilterModule().filters() == {"firewall_plan": firewall_plan}


def test_declarations_and_inventory_rules_become_ufw_rules():
    plan = firewall_plan({"wireguard": WIREGUARD, "ssh": SSH, "postgresql": POSTGRESQL},
                         [{"port": 443, "comment": "https"}, {"port": 9100, "from": "primary"}])
    assert plan["errors"] == []
    assert plan["ufw"] == [
        ufw(5432, from_ip="10.0.0.0/24", interface_in="wg0", comment="postgresql"),
        ufw(2222, rule="limit", comment="ssh"),
        ufw(51820, proto="udp", comment="wireguard"),
        ufw("", route=True, proto="any", from_ip="10.0.0.0/24", interface_in="wg0", interface_out="wg0",
            comment="hub forwarding"),
        ufw(443, comment="https"),
        ufw(9100, from_ip="10.0.0.1", interface_in="wg0"),
    ]
    assert plan["docker"] == []


def test_ports_published_by_containers_go_to_docker_user():
    plan = firewall_plan({"wireguard": WIREGUARD}, [
        {"port": 8080, "from": "primary", "docker": True, "comment": "web"},
        {"port": "9000:9001", "proto": "udp", "from": "198.51.100.0/24", "docker": True},
    ])
    assert plan["docker"] == [
        {"proto": "tcp", "port": "8080", "source": "10.0.0.1", "interface": "wg0", "comment": "web"},
        {"proto": "udp", "port": "9000:9001", "source": "198.51.100.0/24", "interface": None,
         "comment": "inventory"},
    ]
    assert all(rule["to_port"] != "8080" for rule in plan["ufw"])


def test_the_ssh_port_of_this_run_stays_open():
    assert firewall_plan({}, [], 22)["ufw"] == [ufw(22, rule="limit", comment="ssh: the port Ansible connects to")]
    # Already open to everyone: no second rule.
    assert firewall_plan({"ssh": SSH}, [], 2222)["ufw"] == [ufw(2222, rule="limit", comment="ssh")]
    # Open only from the VPN does not count: this run may come from outside.
    assert len(firewall_plan({}, [{"port": 22, "from": "10.0.0.0/24"}], 22)["ufw"]) == 2


def test_the_same_rule_twice_is_one_rule():
    assert len(firewall_plan({"a": POSTGRESQL, "b": POSTGRESQL, "wireguard": WIREGUARD}, [])["ufw"]) == 3


@pytest.mark.parametrize("rule, message", [
    ({"port": 70000}, "firewall_rules[0].port: 70000: expected a port number 1-65535"),
    ({"port": 0}, "expected a port number 1-65535"),
    ({"port": True}, "expected a port number 1-65535"),
    ({"port": "9000:8000"}, "a range a:b needs 1 <= a < b <= 65535"),
    ({"port": "http"}, "expected a port 1-65535, a range such as 8000:8010 or a list such as 80,443"),
    ({}, "firewall_rules[0].port: None"),
    ({"port": "80,443", "proto": "any"}, "firewall_rules[0].proto: a port range or list needs proto tcp or udp"),
    ({"port": 80, "proto": "icmp"}, "firewall_rules[0].proto: 'icmp' is not one of tcp, udp, any"),
    ({"port": 80, "rule": "permit"}, "firewall_rules[0].rule: 'permit' is not one of allow, limit, deny, reject"),
    ({"port": 80, "from": "laptop2"}, "firewall_rules[0].from: unknown peer name 'laptop2'"),
    ({"port": 80, "interface": "eth0; reboot"}, "firewall_rules[0].interface: 'eth0; reboot' is not an interface"),
    ({"port": "80,443", "docker": True}, "expected a port 1-65535, a range such as 8000:8010"),
    ({"port": 80, "docker": True, "rule": "limit"}, "firewall_rules[0].docker: a port published by a container"),
    ({"port": 80, "docker": True, "from": "2001:db8::/32"}, "firewall_rules[0].docker: Docker's rules here are IPv4"),
    ("80/tcp", "firewall_rules[0]: expected a mapping"),
])
def test_bad_rules_are_refused_naming_the_variable(rule, message):
    errors = firewall_plan({"wireguard": WIREGUARD}, [rule])["errors"]
    assert any(message in error for error in errors), errors


def test_a_bad_declared_rule_names_its_role():
    errors = firewall_plan({"redis": {"rules": [{"port": 99999}]}}, [])["errors"]
    assert errors == ["rule 0 declared by redis.port: 99999: expected a port number 1-65535"]


def test_unknown_names_list_the_known_sources():
    errors = firewall_plan({"wireguard": WIREGUARD}, [{"port": 80, "from": "laptop"}])["errors"]
    assert errors == ["firewall_rules[0].from: unknown peer name 'laptop'; expected any, an address or network, "
                      "or a declared source (primary, vpn)"]


def test_bad_arguments_raise():
    with pytest.raises(AnsibleFilterError):
        firewall_plan([], [])
