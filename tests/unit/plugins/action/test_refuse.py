"""The refuse action: every check that does not hold is named, in one task, on the controller."""

from __future__ import annotations

import json


def play(tmp_path, checks, **variables):
    """A playbook of one refuse task on localhost, with `variables` as the play's vars."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False, "vars": variables,
        "tasks": [{"name": "Refuse bad input", "selfhost.stack.refuse": {"checks": checks}}],
    }]))
    return playbook


def test_every_failing_check_is_named_and_the_passing_ones_are_not(ansible_playbook, tmp_path):
    checks = [
        {"that": "port | int > 1024", "msg": "port: above 1024 (got {{ port }})."},
        {"that": ["name is defined", "name | length > 2"], "msg": "name: at least 3 characters."},
        {"that": "mode in ['a', 'b']", "msg": "mode: a or b (got {{ mode }})."},
    ]
    result = ansible_playbook(play(tmp_path, checks, port=80, name="ok-name", mode="c"), "localhost,", {})
    assert result.returncode == 2, result.stdout
    assert "port: above 1024 (got 80)." in result.stdout
    assert "mode: a or b (got c)." in result.stdout
    assert "name: at least 3 characters." not in result.stdout


def test_a_later_condition_may_rely_on_an_earlier(ansible_playbook, tmp_path):
    checks = [{"that": ["name is defined", "name | length > 2"], "msg": "name: at least 3 characters."}]
    result = ansible_playbook(play(tmp_path, checks), "localhost,", {})
    assert result.returncode == 2, result.stdout
    assert "name: at least 3 characters." in result.stdout
    assert "undefined" not in result.stdout.lower()


def test_all_checks_holding_is_a_task_that_changes_nothing(ansible_playbook, tmp_path):
    checks = [{"that": "port | int > 1024", "msg": "port: above 1024."}]
    result = ansible_playbook(play(tmp_path, checks, port=8080), "localhost,", {}, "--check")
    assert result.returncode == 0, result.stdout
    assert "ok=1" in result.stdout and "changed=0" in result.stdout


def test_a_check_without_its_message_is_an_error_in_the_task(ansible_playbook, tmp_path):
    result = ansible_playbook(play(tmp_path, [{"that": "true"}]), "localhost,", {})
    assert result.returncode == 2
    assert "checks[1]: give `that`, `msg` and, optionally, `when` (got that)" in result.stdout


def test_a_check_applies_only_when_its_conditions_hold(ansible_playbook, tmp_path):
    checks = [
        {"that": "port | int > 1024", "when": "tls", "msg": "port: above 1024 with TLS."},
        {"that": "port | int > 1024", "when": ["tls is defined", "not tls"], "msg": "port: above 1024 without TLS."},
    ]
    result = ansible_playbook(play(tmp_path, checks, port=80, tls=False), "localhost,", {})
    assert result.returncode == 2, result.stdout
    assert "port: above 1024 without TLS." in result.stdout
    assert "port: above 1024 with TLS." not in result.stdout
