"""The private network, proved across hosts: tunnels, what the firewall lets through, and what
comes back after a restart. Tests run in file order; the restart is last."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from scenario import changed_counts, eventually, on, playbook

HUB, STANDBY, APP = "network-hub", "network-standby", "network-app"
VPN = {HUB: "10.0.0.1", STANDBY: "10.0.0.2", APP: "10.0.0.10"}
PROBE_PORT, WEB_PORT, MINIO_PORT = 7000, 8080, 9000


def shared_address(name):
    """The host's address on the network the containers share (not the VPN)."""
    return on(name).interface("eth0").addresses[0]


def connects(source, address, port):
    """'open' when a TCP connection from source succeeds, 'dropped' when it times out (a firewall
    drops it), 'refused' when the other side answers that nothing listens."""
    result = on(source).run(f"timeout 3 bash -c 'exec 3<>/dev/tcp/{address}/{port}'")
    if result.rc == 0:
        return "open"
    return "dropped" if result.rc == 124 else "refused"


def converge(*options, inventory=None):
    return playbook("converge.yml", *options, inventory=inventory)


def inventory_without(tmp_path, host, group):
    """A copy of the scenario's inventory (group_vars and host_vars beside it) in which `host` is
    no longer in `group`; the copy's path."""
    original = Path(os.environ["MOLECULE_INVENTORY_FILE"])
    shutil.copytree(original.parent, tmp_path / "inventory")
    copy = tmp_path / "inventory" / original.name
    inventory = yaml.safe_load(copy.read_text())

    def remove(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == group and isinstance(value, dict) and host in (value.get("hosts") or {}):
                    del value["hosts"][host]
                    return True
                if remove(value):
                    return True
        return False

    assert remove(inventory), f"{host} is in no group {group} of {original}"
    copy.write_text(yaml.safe_dump(inventory))
    return copy


def peers(name):
    with on(name).sudo():
        return set(on(name).check_output("wg show wg0 peers").split())


def public_key(name):
    with on(name).sudo():
        return on(name).check_output("wg show wg0 public-key")


def ufw_rules(name):
    with on(name).sudo():
        return on(name).check_output("ufw show added")


@pytest.mark.parametrize("source, target", [(a, b) for a in VPN for b in VPN if a != b])
def test_every_pair_talks_over_the_vpn(source, target):
    # Spoke to spoke goes through the hub, which forwards only on wg0.
    assert eventually(lambda: on(source).run(f"ping -c1 -W2 {VPN[target]}").rc == 0), f"{source} -> {target}"


def test_peers_follow_the_hub_and_spoke_plan():
    assert peers(HUB) == {public_key(STANDBY), public_key(APP)}
    assert peers(STANDBY) == {public_key(HUB)} and peers(APP) == {public_key(HUB)}
    # The app host is behind NAT: it keeps the mapping open, and the hub does not dial it.
    with on(APP).sudo():
        assert on(APP).check_output("wg show wg0 persistent-keepalive").split()[1] == "25"
    sections = on(HUB).file("/etc/wireguard/wg0.conf").content_string.split("\n# ")
    app_section = next(section for section in sections if section.startswith(APP))
    assert "Endpoint" not in app_section and "AllowedIPs = 10.0.0.10/32" in app_section


@pytest.mark.parametrize("name", list(VPN))
def test_private_key_stays_on_the_host_in_a_0600_file(name):
    host = on(name)
    with host.sudo():
        key = host.file("/etc/wireguard/wg0.key")
        assert (key.mode, key.user) == (0o600, "root")
        assert host.check_output("wg pubkey < /etc/wireguard/wg0.key") == public_key(name)
        assert "PrivateKey" not in host.file("/etc/wireguard/wg0.conf").content_string


@pytest.mark.parametrize("name", list(VPN))
def test_userspace_wireguard_only_where_the_kernel_has_none(name):
    # The containers share the machine's kernel; where it has no WireGuard (as here), the role
    # chose wireguard-go by itself.
    kernel_has_wireguard = on(name).file("/sys/module/wireguard").exists
    assert bool(on(name).process.filter(comm="wireguard-go")) != kernel_has_wireguard


@pytest.mark.parametrize("name", list(VPN))
def test_firewall_is_active_and_denies_by_default(name):
    with on(name).sudo():
        status = on(name).check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Logging: on (low)" in status
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in status
    assert "51820/udp" in status


def test_a_vpn_only_service_is_reached_through_the_tunnel_and_not_the_shared_network():
    # The probe listens on every address: only the firewall decides.
    assert on(HUB).socket(f"tcp://0.0.0.0:{PROBE_PORT}").is_listening
    assert connects(APP, VPN[HUB], PROBE_PORT) == "open"
    assert connects(STANDBY, VPN[HUB], PROBE_PORT) == "open"
    assert connects(APP, shared_address(HUB), PROBE_PORT) == "dropped"
    assert connects(STANDBY, shared_address(HUB), PROBE_PORT) == "dropped"


def test_a_port_published_by_a_container_obeys_the_firewall():
    # UFW's own rules do not mention 8080: the only way in is the DOCKER-USER opening for the hub.
    assert str(WEB_PORT) not in ufw_rules(APP)
    assert connects(HUB, VPN[APP], WEB_PORT) == "open"
    assert connects(STANDBY, VPN[APP], WEB_PORT) == "dropped"
    assert connects(HUB, shared_address(APP), WEB_PORT) == "dropped"
    assert connects(STANDBY, shared_address(APP), WEB_PORT) == "dropped"


def test_a_limited_run_changes_nothing_and_keeps_every_peer():
    before = peers(APP)
    result = converge("--limit", APP)
    assert result.returncode == 0, result.stdout[-3000:]
    assert changed_counts(result.stdout) == {APP: 0}
    assert peers(APP) == before == {public_key(HUB)}


def test_a_rule_removed_from_the_inventory_is_removed_from_the_host():
    extra = {"firewall_rules": [
        {"port": WEB_PORT, "proto": "tcp", "from": HUB, "docker": True, "comment": "probe-web: the hub only"},
        {"port": 9999, "proto": "tcp", "from": "vpn", "comment": "temporary"},
    ]}
    added = converge("--limit", APP, "-e", json.dumps(extra))
    assert added.returncode == 0, added.stdout[-3000:]
    assert "comment 'temporary'" in ufw_rules(APP) and connects(HUB, VPN[APP], 9999) == "refused"
    removed = converge("--limit", APP)
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert "temporary" not in ufw_rules(APP) and connects(HUB, VPN[APP], 9999) == "dropped"


def test_a_host_taken_out_of_a_service_group_loses_its_openings_and_gets_them_back(tmp_path):
    # The standby is a MinIO site: the app host (a client) gets through, to a port where nothing
    # listens; the hub, neither a site nor an app host, is dropped.
    assert connects(APP, VPN[STANDBY], MINIO_PORT) == "refused"
    assert connects(HUB, VPN[STANDBY], MINIO_PORT) == "dropped"
    left = converge("--limit", STANDBY, inventory=inventory_without(tmp_path, STANDBY, "minio"))
    assert left.returncode == 0, left.stdout[-3000:]
    assert "comment 'minio'" not in ufw_rules(STANDBY)
    assert connects(APP, VPN[STANDBY], MINIO_PORT) == "dropped"
    # Nothing about it is kept on the host: back in the group, the opening is back.
    assert not on(STANDBY).file("/etc/selfhost/firewall.d").exists
    back = converge("--limit", STANDBY)
    assert back.returncode == 0, back.stdout[-3000:]
    assert "comment 'minio'" in ufw_rules(STANDBY)
    assert connects(APP, VPN[STANDBY], MINIO_PORT) == "refused"


def test_tunnels_and_firewall_come_back_after_every_host_restarts():
    subprocess.run(["docker", "restart", *VPN], check=True, capture_output=True, timeout=120)
    for name in VPN:
        # A peer's name may not resolve while its container is still down: wg-quick retries.
        assert eventually(lambda: on(name).run("systemctl is-system-running --wait").stdout.strip() == "running"), \
            on(name).run("systemctl --failed --no-legend").stdout
    for source, target in [(APP, HUB), (HUB, STANDBY), (STANDBY, APP)]:
        assert eventually(lambda: on(source).run(f"ping -c1 -W2 {VPN[target]}").rc == 0), f"{source} -> {target}"
    assert eventually(lambda: connects(HUB, VPN[APP], WEB_PORT) == "open")
    assert connects(STANDBY, VPN[APP], WEB_PORT) == "dropped"
    assert connects(APP, shared_address(HUB), PROBE_PORT) == "dropped"
