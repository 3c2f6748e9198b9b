"""Unit tests for the wireguard_key module, with wg replaced by a stand-in."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils import _internal as ansible_internal
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.selfhost.stack.plugins.modules import wireguard_key

PRIVATE = "4EBkkhz5lFq5XQ2ZqxPgvG5+sB0GDtb7p9OiL0p/uU8="
PUBLIC = "y+U2xqk6X/SocqKPx8lTSpqBzVpyCTgxZs9ekNHxNBE="


IP_OUTPUT = ("5: wg0    inet 10.0.0.1/24 scope global wg0\\       valid_lft forever preferred_lft forever\n"
             "5: wg0    inet 10.0.9.1/32 scope global wg0\\       valid_lft forever preferred_lft forever\n")


def run_module(monkeypatch, capsys, arguments, calls, ip=(0, IP_OUTPUT)):
    # Once a test in this process has loaded controller code, a module's warnings would go to the
    # controller's display instead of its result (as in the run_module fixture).
    monkeypatch.setattr(ansible_internal, "is_controller", False)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: f"/usr/bin/{name}")

    def run_command(self, argv, data=None, **kwargs):
        if argv[0] == "/usr/bin/ip":
            calls.append(tuple(argv[1:]))
            return ip[0], ip[1], ""
        calls.append((argv[1], data))
        return 0, (PRIVATE if argv[1] == "genkey" else PUBLIC) + "\n", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    try:
        with patch_module_args(arguments), pytest.raises(SystemExit):
            wireguard_key.main()
    finally:
        # A module's warnings are kept process-wide until a process ends; a module's does, here.
        getattr(ansible_warnings, "_global_warnings", {}).clear()
    return json.loads(capsys.readouterr().out)


def test_is_key():
    assert wireguard_key.is_key(PRIVATE + "\n")
    assert not wireguard_key.is_key("not a key")
    assert not wireguard_key.is_key("AAAA")


def test_a_new_key_is_written_0600_and_only_the_public_key_returned(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    calls = []
    result = run_module(monkeypatch, capsys, {"path": str(path)}, calls)
    assert result["changed"] is True and result["public_key"] == PUBLIC
    assert PRIVATE not in json.dumps(result)
    assert path.read_text() == PRIVATE + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert calls == [("genkey", None), ("pubkey", PRIVATE)]


def test_an_existing_key_is_kept(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    path.write_text(PRIVATE + "\n")
    path.chmod(0o600)
    calls = []
    result = run_module(monkeypatch, capsys, {"path": str(path)}, calls)
    assert result["public_key"] == PUBLIC and calls == [("pubkey", PRIVATE)]
    # Owned by the test's user: changed only when that is not root.
    assert result["changed"] is (os.getuid() != 0)


def test_check_mode_writes_nothing(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wireguard"
    result = run_module(monkeypatch, capsys, {"path": str(path / "wg0.key"), "_ansible_check_mode": True}, [])
    assert result == {"changed": True, "public_key": "", "kept_peers": {}, "addresses": [],
                      "invocation": result["invocation"]}
    assert not path.exists()


def test_a_file_that_is_not_a_key_is_refused_not_replaced(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    path.write_text("precious\n")
    result = run_module(monkeypatch, capsys, {"path": str(path)}, [])
    assert result["failed"] is True and "is not a WireGuard private key" in result["msg"]
    assert path.read_text() == "precious\n"


@pytest.mark.skipif(os.getuid() != 0, reason="the key's directory is made root's")
def test_the_keys_directory_is_made_root_s_alone(monkeypatch, capsys, tmp_path):
    made = tmp_path / "made" / "wireguard"
    result = run_module(monkeypatch, capsys, {"path": str(made / "wg0.key")}, [])
    assert result["changed"] is True and stat.S_IMODE(os.stat(made).st_mode) == 0o700
    opened = tmp_path / "opened"
    opened.mkdir(mode=0o755)
    run_module(monkeypatch, capsys, {"path": str(opened / "wg0.key")}, [])
    assert stat.S_IMODE(os.stat(opened).st_mode) == 0o700


def test_the_kept_peers_and_the_live_addresses_come_back_in_the_same_run(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    path.write_text(PRIVATE + "\n")
    path.chmod(0o600)
    (tmp_path / "wg0.peers.json").write_text(json.dumps({"standby": PUBLIC}))
    calls = []
    result = run_module(monkeypatch, capsys, {"path": str(path), "peer_cache": str(tmp_path / "wg0.peers.json"),
                                              "interface": "wg0"}, calls)
    assert result["kept_peers"] == {"standby": PUBLIC}
    assert result["addresses"] == ["10.0.0.1/24", "10.0.9.1/32"]
    assert ("-4", "-o", "address", "show", "dev", "wg0") in calls


def test_no_interface_and_an_unreadable_cache_read_as_empty(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    path.write_text(PRIVATE + "\n")
    path.chmod(0o600)
    (tmp_path / "wg0.peers.json").write_text("{not json")
    result = run_module(monkeypatch, capsys, {"path": str(path), "peer_cache": str(tmp_path / "wg0.peers.json"),
                                              "interface": "wg0"}, [], ip=(1, ""))
    assert (result["kept_peers"], result["addresses"]) == ({}, [])
    assert "is not readable JSON" in json.dumps(result["warnings"])
