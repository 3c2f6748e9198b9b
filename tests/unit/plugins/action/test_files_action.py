"""The files action: templates rendered on the controller, as ansible.builtin.template renders them."""

from __future__ import annotations

import json


def play(tmp_path, files, **variables):
    """A playbook of one files task on localhost, with `variables` as the play's vars and the
    templates under tmp_path/templates."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "connection": "local", "gather_facts": False, "vars": variables,
        "tasks": [{"name": "Write the files", "selfhost.stack.files": {"files": files}}],
    }]))
    return playbook


def test_templates_are_rendered_with_the_task_s_variables_and_their_own(ansible_playbook, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "timer.j2").write_text(
        "# {{ ansible_managed }}\n[Timer]\nOnCalendar={{ job.schedule }}\n{% if persistent %}\nPersistent=true\n{% endif %}\n")
    full, diff = tmp_path / "full.timer", tmp_path / "diff.timer"
    files = [{"dest": str(full), "template": "timer.j2", "template_vars": {"job": {"schedule": "{{ full_at }}"}}},
             {"dest": str(diff), "template": "timer.j2", "template_vars": {"job": {"schedule": "*-*-* 01:00"}}}]
    result = ansible_playbook(play(tmp_path, files, full_at="Sun 02:00", persistent=True), "localhost,", {})
    assert result.returncode == 0, result.stdout
    assert full.read_text() == "# Ansible managed\n[Timer]\nOnCalendar=Sun 02:00\nPersistent=true\n"
    assert diff.read_text() == "# Ansible managed\n[Timer]\nOnCalendar=*-*-* 01:00\nPersistent=true\n"
    again = ansible_playbook(play(tmp_path, files, full_at="Sun 02:00", persistent=True), "localhost,", {})
    assert "changed=0" in again.stdout, again.stdout


def test_check_mode_shows_the_rendered_template_and_writes_nothing(ansible_playbook, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "motd.j2").write_text("Welcome to {{ site }}\n")
    dest = tmp_path / "motd"
    result = ansible_playbook(play(tmp_path, [{"dest": str(dest), "template": "motd.j2"}], site="shop-1"),
                              "localhost,", {}, "--check", "--diff")
    assert result.returncode == 0, result.stdout
    assert "+Welcome to shop-1" in result.stdout
    assert not dest.exists()


def test_a_file_given_content_and_a_template_is_refused(ansible_playbook, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "motd.j2").write_text("hello\n")
    dest = tmp_path / "motd"
    result = ansible_playbook(play(tmp_path, [{"dest": str(dest), "template": "motd.j2", "content": "x"}]),
                              "localhost,", {})
    assert result.returncode == 2
    assert f"files: {dest} takes `content` or `template`, not both" in result.stdout
    assert not dest.exists()
