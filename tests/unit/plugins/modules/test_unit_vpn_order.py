"""Unit tests for the unit_vpn_order module, on a systemd directory under a temporary path."""

from __future__ import annotations

import stat

import pytest

from ansible_collections.selfhost.stack.plugins.modules import unit_vpn_order

WG = "wg-quick@wg0.service"
TEXT = ("# Managed by selfhost.stack: listens on an address of wg-quick@wg0.service.\n"
        "[Unit]\nWants=wg-quick@wg0.service\nAfter=wg-quick@wg0.service\n")


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    monkeypatch.setattr(unit_vpn_order, "SYSTEMD_DIR", str(tmp_path))
    return tmp_path


def dropin_of(systemd, unit):
    return systemd / f"{unit}.d" / "selfhost-after-vpn.conf"


def test_a_new_drop_in_orders_the_unit_after_the_tunnel(run_module, systemd):
    result = run_module(unit_vpn_order, {"unit": "redis-server", "vpn_unit": WG})
    path = dropin_of(systemd, "redis-server.service")
    assert result["changed"] is True and result["path"] == str(path)
    assert path.read_text() == TEXT
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert result["diff"]["before"] == "" and result["diff"]["after"] == TEXT


def test_a_second_run_changes_nothing(run_module, systemd):
    run_module(unit_vpn_order, {"unit": "minio.service", "vpn_unit": WG})
    result = run_module(unit_vpn_order, {"unit": "minio.service", "vpn_unit": WG})
    assert result["changed"] is False and result["diff"] == {}


def test_another_tunnel_replaces_the_drop_in(run_module, systemd):
    run_module(unit_vpn_order, {"unit": "pgbouncer", "vpn_unit": WG})
    result = run_module(unit_vpn_order, {"unit": "pgbouncer", "vpn_unit": "wg-quick@wg1"})
    assert result["changed"] is True
    assert "After=wg-quick@wg1.service\n" in dropin_of(systemd, "pgbouncer.service").read_text()


def test_a_mode_changed_by_hand_is_restored(run_module, systemd):
    run_module(unit_vpn_order, {"unit": "pgbouncer", "vpn_unit": WG})
    path = dropin_of(systemd, "pgbouncer.service")
    path.chmod(0o600)
    assert run_module(unit_vpn_order, {"unit": "pgbouncer", "vpn_unit": WG})["changed"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_leaving_the_vpn_removes_the_drop_in(run_module, systemd):
    run_module(unit_vpn_order, {"unit": "postgresql@15-main", "vpn_unit": WG})
    result = run_module(unit_vpn_order, {"unit": "postgresql@15-main", "vpn_unit": ""})
    assert result["changed"] is True and result["diff"]["after"] == ""
    assert not dropin_of(systemd, "postgresql@15-main.service").exists()
    again = run_module(unit_vpn_order, {"unit": "postgresql@15-main", "vpn_unit": ""})
    assert again["changed"] is False


def test_check_mode_reports_and_writes_nothing(run_module, systemd):
    result = run_module(unit_vpn_order, {"unit": "redis-sentinel", "vpn_unit": WG}, check=True)
    assert result["changed"] is True and result["diff"]["after"] == TEXT
    assert not (systemd / "redis-sentinel.service.d").exists()
    run_module(unit_vpn_order, {"unit": "redis-sentinel", "vpn_unit": WG})
    result = run_module(unit_vpn_order, {"unit": "redis-sentinel", "vpn_unit": ""}, check=True)
    assert result["changed"] is True and dropin_of(systemd, "redis-sentinel.service").exists()


@pytest.mark.parametrize("arguments, message", [
    ({"unit": "redis server", "vpn_unit": WG}, "unit: 'redis server' is not a systemd unit name"),
    ({"unit": "../../etc/passwd", "vpn_unit": WG}, "is not a systemd unit name"),
    ({"unit": "minio", "vpn_unit": "wg0; reboot"}, "vpn_unit: 'wg0; reboot' is not a systemd unit name"),
    ({"unit": "", "vpn_unit": WG}, "unit: a unit name is required"),
])
def test_bad_names_are_refused_before_any_change(run_module, systemd, arguments, message):
    result = run_module(unit_vpn_order, arguments)
    assert result["failed"] is True and message in result["msg"]
    assert list(systemd.iterdir()) == []
