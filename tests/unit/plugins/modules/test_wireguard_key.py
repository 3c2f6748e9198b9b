"""Unit tests for the wireguard_key module, with wg replaced by a stand-in."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.selfhost.stack.plugins.modules import wireguard_key

PRIVATE = "4EBkkhz5lFq5XQ2ZqxPgvG5+sB0GDtb7p9OiL0p/uU8="
PUBLIC = "y+U2xqk6X/SocqKPx8lTSpqBzVpyCTgxZs9ekNHxNBE="


def run_module(monkeypatch, capsys, arguments, calls):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: "/usr/bin/wg")

    def run_command(self, argv, data=None, **kwargs):
        calls.append((argv[1], data))
        return 0, (PRIVATE if argv[1] == "genkey" else PUBLIC) + "\n", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    with patch_module_args(arguments), pytest.raises(SystemExit):
        wireguard_key.main()
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
    path = tmp_path / "wg0.key"
    result = run_module(monkeypatch, capsys, {"path": str(path), "_ansible_check_mode": True}, [])
    assert result == {"changed": True, "public_key": "", "invocation": result["invocation"]}
    assert not path.exists()


def test_a_file_that_is_not_a_key_is_refused_not_replaced(monkeypatch, capsys, tmp_path):
    path = tmp_path / "wg0.key"
    path.write_text("precious\n")
    result = run_module(monkeypatch, capsys, {"path": str(path)}, [])
    assert result["failed"] is True and "is not a WireGuard private key" in result["msg"]
    assert path.read_text() == "precious\n"
