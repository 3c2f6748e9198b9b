# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turns the openings that roles declare and the inventory adds into firewall rules."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

try:
    import netaddr
except ImportError as error:  # pragma: no cover - netaddr is in requirements.txt
    NETADDR_IMPORT_ERROR = error
else:
    NETADDR_IMPORT_ERROR = None

RULES = ("allow", "limit", "deny", "reject")
PROTOCOLS = ("tcp", "udp", "any")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.+-]{1,15}$")
_PORT_LIST = re.compile(r"^\d+(,\d+){1,14}$")
_PORT_RANGE = re.compile(r"^(\d+):(\d+)$")


def _port_problem(port, docker):
    """Why port is not a port, a range a:b, or (outside Docker) a list a,b,c; None when it is."""
    if isinstance(port, bool):
        return "expected a port number 1-65535"
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return None if 1 <= int(port) <= 65535 else "expected a port number 1-65535"
    if isinstance(port, str) and _PORT_RANGE.match(port):
        low, high = (int(part) for part in port.split(":"))
        return None if 1 <= low < high <= 65535 else "a range a:b needs 1 <= a < b <= 65535"
    if isinstance(port, str) and _PORT_LIST.match(port) and not docker:
        return None if all(1 <= int(p) <= 65535 for p in port.split(",")) else "expected ports 1-65535"
    return "expected a port 1-65535, a range such as 8000:8010" + ("" if docker else " or a list such as 80,443")


def _address(value):
    """value as ufw writes a source: an address, or a network with its prefix; None if neither."""
    try:
        network = netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    return str(network.ip) if network.size == 1 else str(network.cidr)


class _Plan:
    def __init__(self, declarations, extra_rules, guard_port):
        self.errors = []
        self.ufw = []
        self.docker = []
        self.sources = {}
        for name, declaration in sorted(declarations.items()):
            for source, where in (declaration.get("sources") or {}).items():
                self.sources[source] = where
        self.rules = [(f"rule {index} declared by {name}", name, rule)
                      for name, declaration in sorted(declarations.items())
                      for index, rule in enumerate(declaration.get("rules") or [])]
        self.rules += [(f"firewall_rules[{index}]", "inventory", rule) for index, rule in enumerate(extra_rules)]
        self.guard_port = guard_port

    def source(self, where, rule):
        """The address and interface a rule's 'from' stands for."""
        name = rule.get("from", "any")
        if name == "any":
            return "any", None
        if name in self.sources:
            return _address(self.sources[name]["cidr"]), self.sources[name].get("interface")
        address = _address(name)
        if address is None:
            known = ", ".join(sorted(self.sources)) or "none declared"
            self.errors.append(f"{where}.from: unknown peer name {name!r}; expected any, an address or network, "
                               f"or a declared source ({known})")
        return address, None

    def check(self, where, rule):
        problems = []
        docker, route = bool(rule.get("docker")), bool(rule.get("route"))
        if rule.get("rule", "allow") not in RULES:
            problems.append(f"{where}.rule: {rule.get('rule')!r} is not one of {', '.join(RULES)}")
        if rule.get("proto", "tcp") not in PROTOCOLS:
            problems.append(f"{where}.proto: {rule.get('proto')!r} is not one of {', '.join(PROTOCOLS)}")
        if "port" in rule or not route:
            problem = _port_problem(rule.get("port"), docker)
            if problem:
                problems.append(f"{where}.port: {rule.get('port')!r}: {problem}")
            elif not str(rule["port"]).isdigit() and rule.get("proto", "tcp") == "any":
                problems.append(f"{where}.proto: a port range or list needs proto tcp or udp")
        for key in ("interface", "interface_out"):
            if key in rule and not _INTERFACE.match(str(rule[key])):
                problems.append(f"{where}.{key}: {rule[key]!r} is not an interface name")
        if docker and (route or rule.get("rule", "allow") != "allow" or rule.get("proto", "tcp") == "any"):
            problems.append(f"{where}.docker: a port published by a container takes rule allow, proto tcp or "
                            "udp, and no route")
        self.errors.extend(problems)
        return not problems

    def add(self, where, owner, rule):
        if not isinstance(rule, Mapping):
            self.errors.append(f"{where}: expected a mapping with port, proto, from, rule, comment")
            return
        valid = self.check(where, rule)
        address, interface = self.source(where, rule)
        if not valid or address is None:
            return
        interface = rule.get("interface", interface)
        if rule.get("docker") and ":" in address:
            self.errors.append(f"{where}.docker: Docker's rules here are IPv4; {address} is IPv6")
            return
        if rule.get("docker"):
            entry = {"proto": rule.get("proto", "tcp"), "port": str(rule["port"]), "source": address,
                     "interface": interface, "comment": rule.get("comment", owner)}
            self.docker.append(entry)
            return
        entry = {"rule": rule.get("rule", "allow"), "route": bool(rule.get("route")),
                 "proto": rule.get("proto", "tcp"), "from_ip": address, "to_port": str(rule.get("port", "")),
                 "interface_in": interface or "", "interface_out": rule.get("interface_out", ""),
                 "comment": rule.get("comment", owner)}
        if entry not in self.ufw:
            self.ufw.append(entry)

    def build(self):
        for where, owner, rule in self.rules:
            self.add(where, owner, rule)
        guarded = any(rule["to_port"] == str(self.guard_port) and rule["from_ip"] == "any" and not rule["route"]
                      and rule["rule"] in ("allow", "limit") and not rule["interface_in"] for rule in self.ufw)
        if self.guard_port and not guarded:
            # Whatever else is declared, the port this run came in on stays open.
            self.ufw.insert(0, {"rule": "limit", "route": False, "proto": "tcp", "from_ip": "any",
                                "to_port": str(self.guard_port), "interface_in": "", "interface_out": "",
                                "comment": "ssh: the port Ansible connects to"})
        if self.errors:
            return {"errors": self.errors}
        return {"errors": [], "ufw": self.ufw, "docker": self.docker}


def firewall_plan(declarations, extra_rules=None, guard_port=None):
    """The host's firewall from the roles' declarations and the inventory's extra rules.

    declarations maps a declaring role to {rules: [...], sources: {name: {cidr, interface}}};
    extra_rules is firewall_rules from the inventory; guard_port, when set, is a TCP port that
    always stays open (the one this run's SSH connection uses).
    Returns {errors}, and when it is empty also {ufw: rules for selfhost.stack.ufw_rules,
    docker: openings of ports that containers publish}.
    """
    if NETADDR_IMPORT_ERROR is not None:
        raise AnsibleFilterError("firewall_plan needs netaddr on the controller") from NETADDR_IMPORT_ERROR
    if not isinstance(declarations, Mapping) or not isinstance(extra_rules or [], list):
        raise AnsibleFilterError("firewall_plan expects a mapping of declarations and a list of extra rules")
    return _Plan(declarations, extra_rules or [], guard_port).build()


class FilterModule:
    """selfhost.stack firewall filters."""

    def filters(self):
        return {"firewall_plan": firewall_plan}
