"""Unit tests for the ufw_rules module: UFW's rule files in, the commands that converge out."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.selfhost.stack.plugins.modules import ufw_rules

# As UFW 0.36 writes them (Debian 12 and 13), for the rules in WANTED plus one stale rule.
USER_RULES = """
### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in comment=737368
-A ufw-user-input -p tcp --dport 2222 -j ufw-user-limit
### tuple ### allow tcp 5432 0.0.0.0/0 any 10.0.0.0/24 in_wg0 comment=706f737467726573716c
### tuple ### route:allow any any 0.0.0.0/0 any 10.0.0.0/24 in_wg0!out_wg0 comment=687562
### tuple ### allow tcp 9100 0.0.0.0/0 any 10.0.0.1 in_wg0
### tuple ### allow tcp 8000:8010 0.0.0.0/0 any 0.0.0.0/0 in
"""
USER6_RULES = """
### tuple ### limit tcp 2222 ::/0 any ::/0 in comment=737368
### tuple ### allow tcp 8000:8010 ::/0 any ::/0 in
"""
WANTED = [
    {"rule": "limit", "proto": "tcp", "to_port": "2222", "comment": "ssh"},
    {"proto": "tcp", "to_port": "5432", "from_ip": "10.0.0.0/24", "interface_in": "wg0", "comment": "postgresql"},
    {"route": True, "from_ip": "10.0.0.0/24", "interface_in": "wg0", "interface_out": "wg0", "comment": "hub"},
    {"proto": "tcp", "to_port": "9100", "from_ip": "10.0.0.1/32", "interface_in": "wg0"},
]


def test_tuples_parse_into_rules():
    rule = ufw_rules.parse_tuple("### tuple ### route:allow any any 0.0.0.0/0 any 10.0.0.0/24 in_wg0!out_wg0 "
                                 "comment=687562")
    assert rule == ufw_rules.Rule(route=True, rule="allow", proto="any", from_ip="10.0.0.0/24", from_port="",
                                  to_ip="any", to_port="", interface_in="wg0", interface_out="wg0",
                                  comment="hub")
    assert ufw_rules.parse_tuple("### tuple ### allow udp any 0.0.0.0/0 53 10.0.0.5 in").from_port == "53"
    assert ufw_rules.parse_tuple("-A ufw-user-input -p tcp --dport 22 -j ACCEPT") is None


def test_a_source_is_written_as_ufw_stores_it():
    assert ufw_rules.wanted_rule({"from_ip": "10.0.0.1/32"}).from_ip == "10.0.0.1"
    assert ufw_rules.wanted_rule({"from_ip": "10.0.0.7/24"}).from_ip == "10.0.0.0/24"
    assert ufw_rules.wanted_rule({"from_ip": "::/0"}).from_ip == "any"
    with pytest.raises(ValueError):
        ufw_rules.wanted_rule({"from_ip": "laptop"})


def rules_dir(tmp_path):
    (tmp_path / "user.rules").write_text(USER_RULES)
    (tmp_path / "user6.rules").write_text(USER6_RULES)
    return tmp_path


def test_a_rule_in_both_files_is_one_rule(tmp_path):
    assert len(ufw_rules.current_rules(str(rules_dir(tmp_path)))) == 5


def test_only_the_difference_runs_additions_first(tmp_path):
    current = ufw_rules.current_rules(str(rules_dir(tmp_path)))
    wanted = [ufw_rules.wanted_rule(spec) for spec in WANTED + [{"proto": "udp", "to_port": "51820"}]]
    assert ufw_rules.plan(current, wanted) == [
        ["ufw", "allow", "proto", "udp", "from", "any", "to", "any", "port", "51820"],
        ["ufw", "delete", "allow", "proto", "tcp", "from", "any", "to", "any", "port", "8000:8010"],
    ]
    assert ufw_rules.plan(current, current) == []


def test_a_new_comment_replaces_the_rule(tmp_path):
    current = ufw_rules.current_rules(str(rules_dir(tmp_path)))
    wanted = [ufw_rules.wanted_rule(dict(spec, comment="sshd") if spec.get("to_port") == "2222" else spec)
              for spec in WANTED]
    assert ufw_rules.plan(current, wanted + current[-1:]) == [
        ["ufw", "limit", "proto", "tcp", "from", "any", "to", "any", "port", "2222", "comment", "sshd"],
        ["ufw", "delete", "limit", "proto", "tcp", "from", "any", "to", "any", "port", "2222"],
    ]


def test_route_rules_use_ufw_route():
    rule = ufw_rules.wanted_rule(WANTED[2])
    assert ufw_rules.add_command(rule)[:3] == ["ufw", "route", "allow"]
    assert ufw_rules.delete_command(rule) == ["ufw", "route", "delete", "allow", "in", "on", "wg0", "out", "on", "wg0",
                                              "from", "10.0.0.0/24", "to", "any"]


def run_module(monkeypatch, capsys, arguments, commands):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: "/usr/sbin/ufw")

    def run_command(self, argv, check_rc=False, **kwargs):
        commands.append(argv)
        return 0, "", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    with patch_module_args(arguments), pytest.raises(SystemExit):
        ufw_rules.main()
    return json.loads(capsys.readouterr().out)


def test_module_converges_and_reports_the_commands(monkeypatch, capsys, tmp_path):
    commands = []
    result = run_module(monkeypatch, capsys, {"rules": WANTED, "rules_dir": str(rules_dir(tmp_path))}, commands)
    assert result["changed"] is True
    assert result["commands"] == ["ufw delete allow proto tcp from any to any port 8000:8010"]
    assert commands == [["/usr/sbin/ufw", "delete", "allow", "proto", "tcp", "from", "any", "to", "any", "port",
                         "8000:8010"]]
    assert "8000:8010" in result["diff"]["before"] and "8000:8010" not in result["diff"]["after"]


def test_module_check_mode_runs_nothing(monkeypatch, capsys, tmp_path):
    commands = []
    arguments = {"rules": WANTED, "rules_dir": str(rules_dir(tmp_path)), "_ansible_check_mode": True}
    result = run_module(monkeypatch, capsys, arguments, commands)
    assert result["changed"] is True and commands == []


def test_module_refuses_a_bad_address(monkeypatch, capsys, tmp_path):
    result = run_module(monkeypatch, capsys, {"rules": [{"from_ip": "laptop"}], "rules_dir": str(tmp_path)}, [])
    assert result["failed"] is True and result["msg"].startswith("rules:")


DEFAULT_UFW = """# /etc/default/ufw
IPV6=yes
DEFAULT_INPUT_POLICY="ACCEPT"
DEFAULT_OUTPUT_POLICY="ACCEPT"
DEFAULT_FORWARD_POLICY="DROP"
"""


def test_settings_change_only_where_they_differ_and_enabling_comes_last(tmp_path):
    (tmp_path / "ufw").write_text(DEFAULT_UFW)
    (tmp_path / "ufw.conf").write_text("# ufw.conf\nENABLED=no\nLOGLEVEL=low\n")
    defaults = ufw_rules.read_settings(str(tmp_path / "ufw"))
    conf = ufw_rules.read_settings(str(tmp_path / "ufw.conf"))
    policy = {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert ufw_rules.settings_plan(defaults, conf, policy, "low", True) == [
        ["ufw", "default", "deny", "incoming"],
        ["ufw", "--force", "enable"],
    ]
    assert ufw_rules.settings_plan(defaults, conf, {"incoming": None}, None, None) == []
    assert ufw_rules.settings_plan(defaults, {"ENABLED": "yes"}, {}, "medium", True) == [["ufw", "logging", "medium"]]


def test_module_sets_rules_before_enabling(monkeypatch, capsys, tmp_path):
    (tmp_path / "ufw").write_text(DEFAULT_UFW)
    commands = []
    arguments = {"rules": [{"rule": "limit", "proto": "tcp", "to_port": "22"}], "rules_dir": str(tmp_path),
                 "defaults_file": str(tmp_path / "ufw"), "policy": {"incoming": "deny"}, "enabled": True}
    result = run_module(monkeypatch, capsys, arguments, commands)
    assert result["commands"] == ["ufw limit proto tcp from any to any port 22", "ufw default deny incoming",
                                  "ufw --force enable"]
    assert [command[1:] for command in commands] == [["limit", "proto", "tcp", "from", "any", "to", "any", "port", "22"],
                                                     ["default", "deny", "incoming"], ["--force", "enable"]]


AFTER_RULES = "# after.rules\n*filter\n:ufw-after-input - [0:0]\nCOMMIT\n"
MARKER = "# {mark} selfhost.stack: ports published by containers"
BLOCK = "*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j RETURN\nCOMMIT\n"


def test_after_rules_block_is_appended_then_replaced_in_place_as_blockinfile_does():
    appended = ufw_rules.with_block(AFTER_RULES, MARKER, BLOCK)
    assert appended == AFTER_RULES + "# BEGIN selfhost.stack: ports published by containers\n" + BLOCK + \
        "# END selfhost.stack: ports published by containers\n"
    assert ufw_rules.with_block(appended, MARKER, BLOCK) == appended
    replaced = ufw_rules.with_block(appended + "# a line of the administrator\n", MARKER, "*filter\nCOMMIT\n")
    assert replaced == AFTER_RULES + "# BEGIN selfhost.stack: ports published by containers\n*filter\nCOMMIT\n" + \
        "# END selfhost.stack: ports published by containers\n# a line of the administrator\n"


def test_a_changed_block_is_written_and_a_running_ufw_reloads_once(monkeypatch, capsys, tmp_path):
    rules_dir(tmp_path)
    (tmp_path / "ufw.conf").write_text("ENABLED=yes\n")
    (tmp_path / "after.rules").write_text(AFTER_RULES)
    (tmp_path / "after.rules").chmod(0o640)
    arguments = {"rules": WANTED, "rules_dir": str(tmp_path),
                 "after_rules": {"marker": MARKER, "block": BLOCK}}
    checked = run_module(monkeypatch, capsys, dict(arguments, _ansible_check_mode=True), [])
    assert checked["after_rules_changed"] is True and (tmp_path / "after.rules").read_text() == AFTER_RULES
    commands = []
    result = run_module(monkeypatch, capsys, arguments, commands)
    assert result["after_rules_changed"] is True and result["commands"][-1] == "ufw reload"
    assert commands[-1] == ["/usr/sbin/ufw", "reload"]
    assert (tmp_path / "after.rules").read_text() == ufw_rules.with_block(AFTER_RULES, MARKER, BLOCK)
    assert oct((tmp_path / "after.rules").stat().st_mode & 0o777) == oct(0o640)
    assert result["diff"][1]["after"].endswith("# END selfhost.stack: ports published by containers\n")
    again = run_module(monkeypatch, capsys, arguments, [])
    assert again["after_rules_changed"] is False and "ufw reload" not in again["commands"]
