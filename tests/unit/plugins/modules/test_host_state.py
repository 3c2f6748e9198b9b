"""Unit tests for the host_state module: installed packages and running units in one read."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.selfhost.stack.plugins.modules import host_state

# The last line: a status without a name.
DPKG_OUTPUT = "ii chrony\nhi openssh-server\nrc redis-server\nun postgresql-15\nii  \n"

SYSTEMCTL_OUTPUT = """Id=chrony.service
ActiveState=active
UnitFileState=enabled

Id=redis-server.service
ActiveState=inactive
UnitFileState=enabled

Id=dbus.service
ActiveState=active
UnitFileState=static

Id=pgbackrest-backup@full.timer
ActiveState=active
UnitFileState=enabled

Id=postgresql@15-main.service
ActiveState=failed
UnitFileState=enabled

Id=ssh.socket
ActiveState=inactive
UnitFileState=disabled
"""

# An enabled unit systemd has not loaded (inactive; show does not list it), and a template.
UNIT_FILES_OUTPUT = """chrony.service enabled enabled
disable-transparent-hugepages.service enabled enabled
pgbackrest-backup@.timer enabled enabled
"""


@pytest.fixture
def commands(tmp_path, monkeypatch):
    """dpkg-query and systemctl on PATH that print the outputs above, or fail when asked to; each
    records its arguments. The host is booted with systemd unless told otherwise."""
    def install(failing=(), systemd=True):
        monkeypatch.setattr(host_state, "SYSTEMD_BOOTED", str(tmp_path if systemd else tmp_path / "absent"))
        (tmp_path / "list-unit-files.out").write_text(UNIT_FILES_OUTPUT)
        for name, output in (("dpkg-query", DPKG_OUTPUT), ("systemctl", SYSTEMCTL_OUTPUT)):
            (tmp_path / f"{name}.out").write_text(output)
            script = tmp_path / name
            status = 1 if name in failing else 0
            # systemctl list-unit-files prints its own output; show (and dpkg-query) theirs.
            script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {tmp_path}/{name}.args\n'
                              f'[ "$1" = list-unit-files ] && cat {tmp_path}/list-unit-files.out || cat {tmp_path}/{name}.out\n'
                              f'echo "{name} broke" >&2\nexit {status}\n')
            script.chmod(0o755)
        (tmp_path / "locale").write_text("#!/bin/sh\nprintf 'POSIX\\nen_US.utf8\\nC\\n'\n")
        (tmp_path / "locale").chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
        return tmp_path
    return install


def test_installed_packages_and_units_both_active_and_enabled(run_module, commands):
    directory = commands()
    result = run_module(host_state, {})
    assert result["changed"] is False
    assert result["packages"] == ["chrony", "openssh-server"]
    assert result["running"] == ["chrony.service", "pgbackrest-backup@full.timer"]
    assert result["active"] == ["chrony.service", "dbus.service", "pgbackrest-backup@full.timer"]
    assert result["enabled"] == ["chrony.service", "disable-transparent-hugepages.service", "pgbackrest-backup@full.timer",
                                 "postgresql@15-main.service", "redis-server.service"]
    assert (directory / "systemctl.args").read_text().split("\n")[:2] == ["show", "--property=Id,ActiveState,UnitFileState"]


def test_check_mode_reads_the_same(run_module, commands):
    commands()
    result = run_module(host_state, {}, check=True)
    assert result["running"] == ["chrony.service", "pgbackrest-backup@full.timer"]


@pytest.mark.parametrize("failing", ["dpkg-query", "systemctl"])
def test_a_failed_command_fails_the_module_naming_it(run_module, commands, failing):
    commands(failing=(failing,))
    result = run_module(host_state, {})
    assert result["failed"] is True
    assert result["msg"] == f"{failing} failed: {failing} broke"


def test_a_host_without_systemd_runs_no_unit_and_systemctl_is_not_asked(run_module, commands):
    directory = commands(failing=("systemctl",), systemd=False)
    result = run_module(host_state, {})
    assert result["packages"] == ["chrony", "openssh-server"]
    assert (result["running"], result["active"], result["enabled"]) == ([], [], [])
    assert not (directory / "systemctl.args").exists()


def test_a_read_of_paths_only_runs_no_command(run_module, commands, tmp_path):
    directory = commands(failing=("dpkg-query", "systemctl"))
    (tmp_path / "PG_VERSION").write_text("15\n")
    result = run_module(host_state, {"installed": False, "globs": [str(tmp_path / "PG_VERSION"), str(tmp_path / "standby.signal")]})
    assert result["globs"] == {str(tmp_path / "PG_VERSION"): [str(tmp_path / "PG_VERSION")], str(tmp_path / "standby.signal"): []}
    assert [result[name] for name in ("packages", "running", "active", "enabled", "timezone", "locales")] == [[], [], [], [], "", []]
    assert not (directory / "dpkg-query.args").exists() and not (directory / "systemctl.args").exists()


def test_read_only_commands_come_back_by_name(run_module, commands):
    commands()
    result = run_module(host_state, {"installed": False, "commands": {
        "greeting": ["sh", "-c", "echo hello"], "missing": ["sh", "-c", "exit 3"]}}, check=True)
    assert result["commands"] == {"greeting": {"rc": 0, "stdout": "hello\n"}, "missing": {"rc": 3, "stdout": ""}}


def test_a_command_that_is_no_argument_list_fails(run_module, commands):
    commands()
    result = run_module(host_state, {"installed": False, "commands": {"ssh": "ssh -Q kex"}})
    assert result["failed"] is True and result["msg"].startswith("commands.ssh: a list of arguments")


def test_the_generated_locales_come_back_sorted(run_module, commands):
    commands()
    assert run_module(host_state, {})["locales"] == ["C", "POSIX", "en_US.utf8"]


@pytest.mark.parametrize("target, zone", [
    ("/usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin"),
    ("../usr/share/zoneinfo/Etc/UTC", "Etc/UTC"),
    ("/etc/some-copy", ""),
])
def test_the_time_zone_is_where_localtime_links_to(tmp_path, target, zone):
    link = tmp_path / "localtime"
    link.symlink_to(target)
    assert host_state.timezone(str(link)) == zone


def test_a_localtime_that_is_no_link_has_no_time_zone(tmp_path):
    (tmp_path / "localtime").write_text("TZif")
    assert host_state.timezone(str(tmp_path / "localtime")) == ""


def test_checksums_and_globs_of_installed_files(run_module, commands, tmp_path):
    commands()
    binary = tmp_path / "minio"
    binary.write_bytes(b"server\n")
    (tmp_path / "site-packages" / "minio-7.2.20.dist-info").mkdir(parents=True)
    result = run_module(host_state, {"checksums": [str(binary), str(tmp_path / "absent")],
                                     "globs": [f"{tmp_path}/site*/minio-*.dist-info", f"{tmp_path}/none-*"]})
    assert result["checksums"] == {
        # sha256sum of "server\n"
        str(binary): "4ad28e4a6461bd64b920f72f86c0d16edc544c4a1f26060518ebb900025d496a",
        str(tmp_path / "absent"): ""}
    assert result["globs"] == {f"{tmp_path}/site*/minio-*.dist-info": [f"{tmp_path}/site-packages/minio-7.2.20.dist-info"],
                               f"{tmp_path}/none-*": []}


def test_the_accounts_asked_for_that_exist(run_module, commands, monkeypatch, tmp_path):
    commands()
    shadow = tmp_path / "shadow"
    shadow.write_text("root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\n")
    monkeypatch.setattr(host_state, "SHADOW", str(shadow))
    entry = pwd.getpwuid(os.getuid())
    result = run_module(host_state, {"users": [entry.pw_name, "no-such-user-here", entry.pw_name]})
    account = result["users"][entry.pw_name]
    assert list(result["users"]) == [entry.pw_name]
    assert (account["home"], account["shell"]) == (entry.pw_dir, entry.pw_shell)
    assert account["group"] == grp.getgrgid(entry.pw_gid).gr_name
    assert account["groups"] == sorted(group.gr_name for group in grp.getgrall() if entry.pw_name in group.gr_mem)
    assert account["locked"] is (entry.pw_name == "admin")


def test_a_shadow_file_that_cannot_be_read_leaves_locked_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(host_state, "SHADOW", str(tmp_path / "shadow"))
    assert host_state.locked_passwords() is None
    (tmp_path / "shadow").write_text("admin:!*:1::::::\nops:$y$j9T$abc:1::::::\n")
    assert host_state.locked_passwords() == {"admin": True, "ops": False}
