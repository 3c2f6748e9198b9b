#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Makes UFW's user rules exactly the given set."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ufw_rules
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Make UFW's rules exactly the given set, with its policies, logging and state
description:
  - Declarative UFW. The rules given are added when missing, and every other user rule is
    deleted, so a rule removed from the inventory is removed from the host.
  - Reads the rules UFW holds from its own rule files (the tuple comment lines of
    C(/etc/ufw/user.rules) and C(/etc/ufw/user6.rules)), compares them with the wanted set, and
    runs C(ufw) for the difference only. New rules are added before old ones are deleted, so
    an opening that moves is never closed in between.
  - A rule whose source is C(any) holds for IPv4 and IPv6, as UFW does it.
  - Default policies, the logging level and whether UFW is enabled are read from
    C(/etc/default/ufw) and C(ufw.conf), and set after the rules (so the rules that keep SSH
    open are in place before UFW is enabled), each only when it differs.
options:
  rules:
    description:
      - Every user rule UFW must hold. New rules go after the ones UFW keeps; UFW applies the
        first rule that matches, so give a C(deny) before a wider C(allow) in one run.
    type: list
    elements: dict
    required: true
    suboptions:
      rule:
        description: What the rule does; C(limit) allows at most 6 connections in 30 seconds per source.
        type: str
        choices: [allow, limit, deny, reject]
        default: allow
      route:
        description: A rule for forwarded traffic (C(ufw route)) rather than traffic to this host.
        type: bool
        default: false
      interface_in:
        description: Only traffic coming in on this interface.
        type: str
        default: ""
      interface_out:
        description: Only traffic going out on this interface (route rules).
        type: str
        default: ""
      proto:
        description: The protocol.
        type: str
        choices: [tcp, udp, any]
        default: any
      from_ip:
        description: Source address or network, or C(any).
        type: str
        default: any
      from_port:
        description: Source port, range C(a:b) or list C(a,b).
        type: str
        default: ""
      to_ip:
        description: Destination address or network, or C(any).
        type: str
        default: any
      to_port:
        description: Destination port, range C(a:b) or list C(a,b).
        type: str
        default: ""
      comment:
        description: Shown by C(ufw status); part of the rule, so a new comment replaces the rule.
        type: str
        default: ""
  policy:
    description: Default policies; a direction left out is left as it is.
    type: dict
    suboptions:
      incoming:
        description: For traffic to this host.
        type: str
        choices: [allow, deny, reject]
      outgoing:
        description: For traffic from this host.
        type: str
        choices: [allow, deny, reject]
      routed:
        description: For traffic forwarded through this host.
        type: str
        choices: [allow, deny, reject]
  logging:
    description: The logging level; left as it is when not given.
    type: str
    choices: ["off", low, medium, high, full]
  enabled:
    description: Whether UFW runs now and at boot; left as it is when not given.
    type: bool
  after_rules:
    description:
      - A block of C(after.rules) (iptables-restore lines UFW loads after its own rules), kept
        between two marker lines as M(ansible.builtin.blockinfile) keeps one, and appended at
        the end when missing. A running UFW reloads when the block changes.
    type: dict
    suboptions:
      marker:
        description: The marker line, where C({mark}) stands for C(BEGIN) and C(END).
        type: str
        required: true
      block:
        description: The lines between the markers.
        type: str
        required: true
  rules_dir:
    description: Where UFW keeps C(user.rules), C(user6.rules) and C(ufw.conf).
    type: path
    default: /etc/ufw
  defaults_file:
    description: UFW's file of default policies.
    type: path
    default: /etc/default/ufw
attributes:
  check_mode:
    description: Reports the commands it would run, and runs none.
    support: full
  diff_mode:
    description: Shows the rules before and after, one line each.
    support: full
requirements:
  - ufw
"""

EXAMPLES = r"""
- name: SSH rate-limited, WireGuard open, PostgreSQL from the VPN only; nothing else
  selfhost.stack.ufw_rules:
    policy: {incoming: deny, outgoing: allow, routed: deny}
    logging: low
    enabled: true
    rules:
      - {rule: limit, proto: tcp, to_port: "2222", comment: ssh}
      - {proto: udp, to_port: "51820", comment: wireguard}
      - {proto: tcp, to_port: "5432", from_ip: 10.0.0.0/24, interface_in: wg0, comment: postgresql}
"""

RETURN = r"""
commands:
  description: The ufw commands run (or, in check mode, that would run).
  returned: always
  type: list
  elements: str
  sample: ["ufw allow in on wg0 proto tcp from 10.0.0.0/24 to any port 5432 comment postgresql"]
rules:
  description: The rules UFW holds afterwards, one line each.
  returned: always
  type: list
  elements: str
after_rules_changed:
  description: Whether the block of O(after_rules) was written (or, in check mode, would be).
  returned: always
  type: bool
"""

import ipaddress
import os
import shlex
import stat
from collections import namedtuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils.files import atomic_write


# How /etc/default/ufw writes each direction's policy.
POLICY_KEYS = {"incoming": "DEFAULT_INPUT_POLICY", "outgoing": "DEFAULT_OUTPUT_POLICY",
               "routed": "DEFAULT_FORWARD_POLICY"}
POLICY_VALUES = {"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}
Rule = namedtuple("Rule", "route rule proto from_ip from_port to_ip to_port interface_in interface_out comment")
ANY = "any"


def _address(value):
    """An address or network as UFW stores it: any, a plain address, or network/prefix."""
    if value in ("", ANY, "0.0.0.0/0", "::/0"):
        return ANY
    network = ipaddress.ip_network(value, strict=False)
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def wanted_rule(spec):
    """The Rule for one entry of the module's rules option."""
    return Rule(
        route=bool(spec.get("route")), rule=spec.get("rule") or "allow", proto=spec.get("proto") or ANY,
        from_ip=_address(spec.get("from_ip") or ANY), from_port=str(spec.get("from_port") or ""),
        to_ip=_address(spec.get("to_ip") or ANY), to_port=str(spec.get("to_port") or ""),
        interface_in=spec.get("interface_in") or "", interface_out=spec.get("interface_out") or "",
        comment=spec.get("comment") or "",
    )


def parse_tuple(line):
    """The Rule in a '### tuple ###' line of UFW's rule files, or None for any other line.

    The form is: action proto dport dst sport src direction [comment=<hex>], where action may
    be route:<action> and direction is in, out, in_<if>, out_<if> or in_<if>!out_<if>.
    """
    if not line.startswith("### tuple ### "):
        return None
    fields = line[len("### tuple ### "):].split()
    comment = ""
    if fields and fields[-1].startswith("comment="):
        comment = bytes.fromhex(fields.pop()[len("comment="):]).decode("utf-8")
    if len(fields) != 7:
        return None
    action, proto, dport, dst, sport, src, direction = fields
    interfaces = {"in": "", "out": ""}
    for part in direction.split("!"):
        side, name = (part.split("_", 1) + [""])[:2]
        interfaces[side] = name
    route = action.startswith("route:")
    return Rule(
        route=route, rule=action.split(":", 1)[1] if route else action, proto=proto,
        from_ip=_address(src), from_port="" if sport == ANY else sport,
        to_ip=_address(dst), to_port="" if dport == ANY else dport,
        interface_in=interfaces["in"], interface_out=interfaces["out"], comment=comment,
    )


def rule_args(rule, with_comment=True):
    """The rule in UFW's full syntax, after the action: in on .. proto .. from .. to .."""
    args = []
    if rule.interface_in:
        args += ["in", "on", rule.interface_in]
    if rule.interface_out:
        args += ["out", "on", rule.interface_out]
    if rule.proto != ANY:
        args += ["proto", rule.proto]
    args += ["from", rule.from_ip] + (["port", rule.from_port] if rule.from_port else [])
    args += ["to", rule.to_ip] + (["port", rule.to_port] if rule.to_port else [])
    if with_comment and rule.comment:
        args += ["comment", rule.comment]
    return args


def add_command(rule):
    return ["ufw"] + (["route"] if rule.route else []) + [rule.rule] + rule_args(rule)


def delete_command(rule):
    # UFW finds the rule to delete without its comment.
    return ["ufw"] + (["route"] if rule.route else []) + ["delete", rule.rule] + rule_args(rule, with_comment=False)


def describe(rule):
    return shlex.join(add_command(rule))


def current_rules(rules_dir):
    """The rules UFW holds, in order, each once (a rule for any source is in both files)."""
    rules = []
    for name in ("user.rules", "user6.rules"):
        path = os.path.join(rules_dir, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                rule = parse_tuple(line.strip())
                if rule is not None and rule not in rules:
                    rules.append(rule)
    return rules


def read_settings(path):
    """The KEY=value lines of one of UFW's shell-style settings files."""
    settings = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, separator, value = line.strip().partition("=")
                if separator and not key.startswith("#"):
                    settings[key] = value.strip().strip('"')
    return settings


def with_block(text, marker, block):
    """text with the lines between marker's BEGIN and END lines made block's, or, without them,
    the markers and block appended, as ansible.builtin.blockinfile does."""
    begin, end = marker.replace("{mark}", "BEGIN"), marker.replace("{mark}", "END")
    lines = text.splitlines()
    wanted = [begin] + block.splitlines() + [end]
    if begin in lines and end in lines[lines.index(begin):]:
        first = lines.index(begin)
        lines[first:lines.index(end, first) + 1] = wanted
    else:
        lines += wanted
    return "\n".join(lines) + "\n"


def plan(current, wanted):
    """The commands that turn current into wanted: additions first, then deletions."""
    commands = [add_command(rule) for rule in wanted if rule not in current]
    commands += [delete_command(rule) for rule in current if rule not in wanted]
    return commands


def settings_plan(defaults, conf, policy, logging, enabled):
    """The commands that set policies, logging and state where they differ; enabling last."""
    commands = [["ufw", "default", wanted, direction] for direction, wanted in (policy or {}).items()
                if wanted and defaults.get(POLICY_KEYS[direction]) != POLICY_VALUES[wanted]]
    if logging is not None and conf.get("LOGLEVEL", "off") != logging:
        commands.append(["ufw", "logging", logging])
    if enabled is not None and (conf.get("ENABLED") == "yes") != enabled:
        commands.append(["ufw", "--force", "enable" if enabled else "disable"])
    return commands


def main():
    rule_options = dict(
        rule=dict(type="str", choices=["allow", "limit", "deny", "reject"], default="allow"),
        route=dict(type="bool", default=False),
        interface_in=dict(type="str", default=""),
        interface_out=dict(type="str", default=""),
        proto=dict(type="str", choices=["tcp", "udp", "any"], default="any"),
        from_ip=dict(type="str", default=ANY),
        from_port=dict(type="str", default=""),
        to_ip=dict(type="str", default=ANY),
        to_port=dict(type="str", default=""),
        comment=dict(type="str", default=""),
    )
    module = AnsibleModule(
        argument_spec=dict(
            rules=dict(type="list", elements="dict", required=True, options=rule_options),
            policy=dict(type="dict", options={
                direction: dict(type="str", choices=list(POLICY_VALUES)) for direction in POLICY_KEYS}),
            logging=dict(type="str", choices=["off", "low", "medium", "high", "full"]),
            enabled=dict(type="bool"),
            after_rules=dict(type="dict", options=dict(marker=dict(type="str", required=True),
                                                       block=dict(type="str", required=True))),
            rules_dir=dict(type="path", default="/etc/ufw"),
            defaults_file=dict(type="path", default="/etc/default/ufw"),
        ),
        supports_check_mode=True,
    )
    try:
        wanted = []
        for spec in module.params["rules"]:
            rule = wanted_rule(spec)
            if rule not in wanted:
                wanted.append(rule)
    except ValueError as error:
        module.fail_json(msg=f"rules: {error}")

    params = module.params
    current = current_rules(params["rules_dir"])
    conf = read_settings(os.path.join(params["rules_dir"], "ufw.conf"))
    commands = plan(current, wanted) + settings_plan(
        read_settings(params["defaults_file"]), conf, params["policy"], params["logging"], params["enabled"])
    diffs = [dict(before="".join(describe(r) + "\n" for r in current), after="".join(describe(r) + "\n" for r in wanted))]
    after_rules = os.path.join(params["rules_dir"], "after.rules")
    block_before = block_after = None
    if params["after_rules"]:
        with open(after_rules, encoding="utf-8") as handle:
            block_before = handle.read()
        block_after = with_block(block_before, params["after_rules"]["marker"], params["after_rules"]["block"])
        if block_after != block_before:
            diffs.append(dict(before_header=after_rules, after_header=after_rules, before=block_before, after=block_after))
            # Enabling loads the file anyway; a UFW left disabled loads it when enabled.
            if conf.get("ENABLED") == "yes" and params["enabled"] is not False and ["ufw", "--force", "enable"] not in commands:
                commands.append(["ufw", "reload"])
    result = dict(
        changed=bool(commands) or block_after != block_before,
        commands=[shlex.join(command) for command in commands],
        rules=[describe(rule) for rule in wanted],
        after_rules_changed=block_after != block_before,
        diff=diffs if len(diffs) > 1 else diffs[0],
    )
    if result["changed"] and not module.check_mode:
        if block_after != block_before:
            atomic_write(after_rules, block_after, stat.S_IMODE(os.stat(after_rules).st_mode))
        ufw = module.get_bin_path("ufw", required=True)
        for command in commands:
            module.run_command([ufw] + command[1:], check_rc=True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
