"""What the base role must show on each host, proved by behaviour."""

import json
import os
import re
import subprocess

import testinfra


KEY = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "id_ed25519")
LYNIS_FLOOR = 70


def sshd_settings(host):
    return dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines() if " " in line)


def address(host):
    return host.interface("eth0").addresses[0]


def ssh(host, *options):
    """Logs in from the controller, as a user would, on the configured port."""
    return subprocess.run(
        ["ssh", "-p", "2222", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", *options,
         f"operator@{address(host)}", "sudo", "-n", "id", "-un"],
        capture_output=True, text=True, timeout=30, check=False,
    )


def test_sshd_effective_settings(host):
    settings = sshd_settings(host)
    assert settings["port"] == "2222"
    assert settings["permitrootlogin"] == "no"
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["authenticationmethods"] == "publickey"
    assert settings["maxauthtries"] == "3"
    assert settings["clientaliveinterval"] == "300"
    assert settings["allowusers"] == "operator"
    for kind in ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms"):
        assert not re.search(r"nistp|sha1|cbc|group-exchange|group14", settings[kind]), settings[kind]


def test_a_later_drop_in_cannot_turn_passwords_back_on(host):
    with host.sudo():
        host.run("printf 'PasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/50-cloud-init.conf")
        try:
            assert sshd_settings(host)["passwordauthentication"] == "no"
        finally:
            host.run("rm -f /etc/ssh/sshd_config.d/50-cloud-init.conf")


def test_key_login_on_the_configured_port_gets_root_through_sudo(host):
    result = ssh(host, "-i", KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "root"


def test_password_login_is_refused(host):
    result = ssh(host, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive")
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_root_and_the_old_port_are_closed(host):
    assert host.socket("tcp://0.0.0.0:2222").is_listening
    assert not host.socket("tcp://0.0.0.0:22").is_listening


def test_absent_user_is_gone_and_operator_has_no_password(host):
    assert not host.user("former").exists
    operator = host.user("operator")
    assert "sudo" in operator.groups
    with host.sudo():
        assert host.check_output("passwd -S operator").split()[1] == "L"


def test_fail2ban_jail_watches_the_ssh_port(host):
    with host.sudo():
        status = host.run("fail2ban-client status sshd")
        assert status.rc == 0, status.stderr
        # The jail as fail2ban loaded it: its ban action guards the configured port.
        assert "['port', '2222']" in host.check_output("fail2ban-client -d")


def test_time_sync_runs_and_time_zone_is_set(host):
    assert host.service("chrony").is_running
    assert host.service("chrony").is_enabled
    assert host.run("chronyc -n tracking").rc == 0
    assert host.check_output("timedatectl show -p Timezone --value") == "Europe/Berlin"


def test_locale_is_generated_and_set(host):
    assert "en_US.utf8" in host.check_output("locale -a")
    assert host.file("/etc/default/locale").contains("^LANG=en_US.UTF-8$")


def test_unattended_upgrades_dry_run(host):
    with host.sudo():
        result = host.run("unattended-upgrade --dry-run --debug")
    assert result.rc == 0, result.stderr
    assert "Allowed origins are:" in result.stdout + result.stderr


def test_kernel_settings_are_written_and_forwarding_is_left_alone(host):
    # A container's /proc/sys is read-only, so the values are checked as the kernel would load
    # them at boot; the converge output lists the keys the container refused.
    dropin = host.file("/etc/sysctl.d/60-selfhost-base.conf").content_string
    settings = dict(line.split(" = ") for line in dropin.splitlines() if " = " in line)
    assert settings["net.ipv4.conf.all.accept_redirects"] == "0"
    assert settings["net.ipv4.tcp_syncookies"] == "1"
    assert settings["kernel.kptr_restrict"] == "2"
    assert not [key for key in settings if "forward" in key]


def test_database_host_settings_only_on_database_hosts(host):
    dropin = host.file("/etc/sysctl.d/60-selfhost-base.conf").content_string
    is_db = host.backend.get_hostname() == "base-bookworm"
    assert ("vm.swappiness = 1" in dropin) == is_db
    assert host.file("/etc/systemd/system/disable-transparent-hugepages.service").exists == is_db
    if is_db:
        assert host.service("disable-transparent-hugepages").is_enabled


def test_ssh_audit_reports_no_failure(host):
    # Not the exit code: Debian 12's ssh-audit (2.5) exits non-zero for algorithms newer than
    # itself, such as sntrup761x25519-sha512, which it lists as warnings.
    report = host.run("ssh-audit --no-colors -p 2222 127.0.0.1").stdout
    assert "(gen) banner: SSH-2.0-OpenSSH" in report and "# key exchange algorithms" in report
    failures = [line for line in report.splitlines() if "[fail]" in line]
    assert failures == [], report


def test_lynis_hardening_index_rises_above_the_floor(host):
    with host.sudo():
        before = int(host.check_output("cat /var/tmp/lynis-before"))
        report = host.check_output("lynis audit system --quick --no-colors")
    after = int(re.search(r"Hardening index : (\d+)", report).group(1))
    print(f"lynis hardening index on {host.backend.get_hostname()}: before {before}, after {after}")
    assert after > before
    assert after >= LYNIS_FLOOR


def test_moving_the_port_over_ssh_keeps_the_run_connected():
    """The documented port move, over SSH as a user runs it; last, since it moves the port.

    Run 1 comes in on 2222 and moves sshd to 2200: the run completes, and sshd listens on both.
    Run 2 comes in on 2200: sshd then listens on 2200 only.
    """
    target = testinfra.get_host("docker://base-bookworm")

    def converge(port):
        over_ssh = {
            "ansible_connection": "ssh", "ansible_host": address(target), "ansible_port": port,
            "ansible_user": "operator", "ansible_become": True, "ansible_ssh_private_key_file": KEY,
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "base_ssh_port": 2200,
        }
        return subprocess.run(
            ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", "base-bookworm",
             "-e", json.dumps(over_ssh), os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")],
            cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], capture_output=True, text=True, timeout=600, check=False,
        )

    def listening_ports():
        return sorted(value for key, value in (line.split(" ", 1) for line in target.check_output("sshd -T").splitlines())
                      if key == "port")

    first = converge(2222)
    assert first.returncode == 0, first.stdout[-3000:]
    assert listening_ports() == ["2200", "2222"]
    second = converge(2200)
    assert second.returncode == 0, second.stdout[-3000:]
    assert listening_ports() == ["2200"]
