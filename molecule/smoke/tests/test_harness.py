"""What every lab host must show: the image's contract with the roles and the lab."""

import re

import testinfra

PLATFORMS = ("smoke-bookworm", "smoke-trixie")


def test_systemd_is_pid_1_and_booted_cleanly(host):
    assert host.process.get(pid=1).comm == "systemd"
    state = host.run("systemctl is-system-running")
    assert state.stdout.strip() == "running", host.run("systemctl --failed --no-legend").stdout


def test_release_matches_the_image(host):
    expected = {"smoke-bookworm": "12", "smoke-trixie": "13"}[host.backend.get_hostname()]
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] == expected


def test_sshd_runs_and_listens(host):
    assert host.service("ssh").is_running
    assert host.socket("tcp://0.0.0.0:22").is_listening


def test_admin_user_has_passwordless_sudo(host):
    admin = host.user("admin")
    assert admin.uid == 1000
    assert "sudo" in admin.groups
    assert host.run("runuser -u admin -- sudo -n true").rc == 0


def test_python_for_ansible(host):
    assert host.run("python3 -c 'import apt'").rc == 0


def test_apt_sources_include_security_updates(host):
    sources = host.file("/etc/apt/sources.list.d/debian.sources").content_string
    assert re.search(r"^Suites: \w+-security$", sources, re.MULTILINE)


def test_each_host_has_its_own_identity():
    """Machine id and SSH host key are made at first boot, so no two lab hosts share them."""
    hosts = [testinfra.get_host(f"docker://{name}") for name in PLATFORMS]
    machine_ids = {h.file("/etc/machine-id").content_string.strip() for h in hosts}
    host_keys = {h.file("/etc/ssh/ssh_host_ed25519_key.pub").content_string.split()[1] for h in hosts}
    assert len(machine_ids) == len(PLATFORMS) and all(re.fullmatch(r"[0-9a-f]{32}", m) for m in machine_ids)
    assert len(host_keys) == len(PLATFORMS)
