"""Unit tests for the vpn_plan filter: the VPN plan every role reads, from the inventory alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.network import wireguard_plan
from ansible_collections.selfhost.stack.plugins.filter.vpn import FilterModule, vpn_dropin, vpn_plan

HOSTVARS = {
    "primary": {"wireguard_address": "10.0.0.1"},
    "standby": {},
    "app1": {},
    "nas": {"minio_address": "192.168.1.20"},
}
GROUPS = {"all": list(HOSTVARS), "wireguard": ["primary", "standby", "app1"], "minio": ["primary", "nas"]}


def test_filter_is_registered():
    assert FilterModule().filters()["vpn_plan"] is vpn_plan


def test_every_host_computes_the_plan_the_wireguard_role_applies():
    applied = wireguard_plan(GROUPS["wireguard"], HOSTVARS, {"network": "10.0.0.0/24"})
    for host in HOSTVARS:
        plan = vpn_plan(host, HOSTVARS, GROUPS)
        assert plan["nodes"] == applied["nodes"]
        assert plan["hub"] == "primary"
    assert vpn_plan("standby", HOSTVARS, GROUPS)["nodes"]["standby"]["address"] == "10.0.0.2"


def test_the_unit_is_the_hosts_own_tunnel_and_empty_outside_the_vpn():
    assert vpn_plan("primary", HOSTVARS, GROUPS)["unit"] == "wg-quick@wg0.service"
    assert vpn_plan("nas", HOSTVARS, GROUPS)["unit"] == ""
    hostvars = dict(HOSTVARS, standby={"wireguard_interface": "wg1"})
    assert vpn_plan("standby", hostvars, GROUPS)["unit"] == "wg-quick@wg1.service"


def test_settings_and_group_come_from_the_inventory():
    hostvars = {host: dict(values, wireguard_group="tunnel", wireguard_network="10.9.0.0/24",
                           wireguard_address="") for host, values in HOSTVARS.items()}
    groups = dict(GROUPS, tunnel=["standby", "app1"])
    plan = vpn_plan("nas", hostvars, groups)
    assert plan["network"] == "10.9.0.0/24"
    assert {host: node["address"] for host, node in plan["nodes"].items()} == {"standby": "10.9.0.1", "app1": "10.9.0.2"}
    assert plan["unit"] == ""


class CountedHostvars(Mapping):
    """Like Ansible's hostvars, which computes all of a host's variables at each read: counts them."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.reads = Counter()

    def __getitem__(self, host):
        self.reads[host] += 1
        return self.hosts[host]

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)


def test_each_host_is_read_once_whatever_the_settings_read():
    hostvars = CountedHostvars(HOSTVARS)
    assert vpn_plan("nas", hostvars, GROUPS) == vpn_plan("nas", HOSTVARS, GROUPS)
    assert hostvars.reads == Counter({"nas": 1, "primary": 1, "standby": 1, "app1": 1})


def test_no_vpn_or_an_inconsistent_one_gives_an_empty_plan():
    assert vpn_plan("primary", HOSTVARS, {"all": list(HOSTVARS)}) == {}
    clash = dict(HOSTVARS, standby={"wireguard_address": "10.0.0.1"})
    assert vpn_plan("primary", clash, GROUPS) == {}


def test_refuses_what_is_not_an_inventory():
    with pytest.raises(AnsibleFilterError, match="vpn_plan expects"):
        vpn_plan("primary", None, GROUPS)


def test_vpn_dropin_starts_a_unit_after_its_tunnel():
    assert FilterModule().filters()["vpn_dropin"] is vpn_dropin
    assert vpn_dropin("postgresql@15-main.service", "wg-quick@wg0.service") == {
        "dest": "/etc/systemd/system/postgresql@15-main.service.d/selfhost-after-vpn.conf",
        "content": "# Managed by selfhost.stack: listens on an address of wg-quick@wg0.service.\n"
                   "[Unit]\nWants=wg-quick@wg0.service\nAfter=wg-quick@wg0.service\n"}


def test_vpn_dropin_is_removed_without_a_tunnel():
    assert vpn_dropin("redis-server.service", "") == {
        "dest": "/etc/systemd/system/redis-server.service.d/selfhost-after-vpn.conf", "state": "absent"}


@pytest.mark.parametrize("unit, vpn_unit, option", [
    ("redis-server", "wg-quick@wg0.service", "unit"), ("", "wg-quick@wg0.service", "unit"),
    ("redis-server.service", "wg0; reboot", "vpn_unit"), ("../x.service", "", "unit"),
])
def test_vpn_dropin_refuses_what_is_not_a_unit_name(unit, vpn_unit, option):
    with pytest.raises(AnsibleFilterError, match=f"vpn_dropin: {option} "):
        vpn_dropin(unit, vpn_unit)
