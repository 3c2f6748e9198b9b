# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address math for the private network: allocation, overlap, and the WireGuard plan.

The plan is computed once from the inventory, the same way on every host, so that each host
derives its own peers and every host agrees on every address.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import reads_hostvars_once

try:
    import netaddr
except ImportError as error:  # pragma: no cover - netaddr is in requirements.txt
    NETADDR_IMPORT_ERROR = error
else:
    NETADDR_IMPORT_ERROR = None

TOPOLOGIES = ("hub_and_spoke", "mesh")


def _need_netaddr():
    if NETADDR_IMPORT_ERROR is not None:
        raise AnsibleFilterError("the selfhost.stack address filters need netaddr on the controller "
                                 "(pip install -r requirements.txt)") from NETADDR_IMPORT_ERROR


def _network(value):
    """An IPv4 network written as its network address and prefix, or None."""
    try:
        network = netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    if network.version != 4 or "/" not in str(value) or network.ip != network.network:
        return None
    return network


def _usable(network):
    """The addresses a host may take: not the network or broadcast address (below /31)."""
    if network.prefixlen >= 31:
        return list(network)
    return list(network)[1:-1]


def ip_allocate(names, network, fixed=None):
    """Map each name to an address of network: a fixed address wins, the rest take the lowest
    free addresses in the order given."""
    _need_netaddr()
    net = _network(network)
    if net is None:
        raise AnsibleFilterError(f"ip_allocate: {network!r} is not an IPv4 network such as 10.0.0.0/24")
    fixed = dict(fixed or {})
    taken = {}
    for name, address in fixed.items():
        ip = netaddr.IPAddress(str(address))
        if ip not in _usable(net):
            raise AnsibleFilterError(f"ip_allocate: {name} has {address}, not a host address of {net}")
        if ip in taken:
            raise AnsibleFilterError(f"ip_allocate: {name} and {taken[ip]} both have {address}")
        taken[ip] = name
    free = (ip for ip in _usable(net) if ip not in taken)
    allocated = {}
    for name in names:
        if name in fixed:
            allocated[name] = str(netaddr.IPAddress(str(fixed[name])))
            continue
        ip = next(free, None)
        if ip is None:
            raise AnsibleFilterError(f"ip_allocate: {net} has no free address left for {name}")
        allocated[name] = str(ip)
    return allocated


def networks_overlapping(network, others):
    """The networks among others (CIDR or address/netmask) that share an address with network."""
    _need_netaddr()
    net = netaddr.IPNetwork(str(network))
    return [str(other) for other in others if netaddr.IPNetwork(str(other)) in net
            or net in netaddr.IPNetwork(str(other))]


def host_networks(facts, exclude=()):
    """The IPv4 networks of a host's interfaces, from its facts, in CIDR form."""
    _need_netaddr()
    networks = []
    for interface in facts.get("interfaces", []):
        if interface in exclude:
            continue
        details = facts.get(interface.replace("-", "_"), {})
        for ipv4 in [details.get("ipv4")] + list(details.get("ipv4_secondaries", [])):
            if isinstance(ipv4, Mapping) and ipv4.get("network") and ipv4.get("netmask"):
                cidr = str(netaddr.IPNetwork(f"{ipv4['network']}/{ipv4['netmask']}").cidr)
                if cidr not in networks and not cidr.startswith("127."):
                    networks.append(cidr)
    return networks


def _is_public_key(value):
    try:
        return isinstance(value, str) and len(base64.b64decode(value, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _int_in(value, low, high):
    """True for a whole number (or its digits, as inventory strings give it) from low to high."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _endpoint(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Plan:
    """Builds the plan and collects every problem as a sentence naming the variable."""

    def __init__(self, members, hostvars, settings):
        self.members = list(members)
        self.hostvars = hostvars
        self.group = settings.get("group", "wireguard")
        self.topology = settings.get("topology", "hub_and_spoke")
        self.hub = settings.get("hub") or (self.members[0] if self.members else "")
        self.port = settings.get("port", 51820)
        self.interface = settings.get("interface", "wg0")
        self.externals = list(settings.get("external_peers") or [])
        self.errors = []
        self.net = _network(settings.get("network"))
        if self.net is None:
            self.errors.append(
                f"wireguard_network: {settings.get('network')!r} is not an IPv4 network in CIDR form "
                "with its host bits zero, such as 10.0.0.0/24")

    def var(self, host, name, default):
        value = self.hostvars.get(host, {}).get(name)
        return default if value in (None, "") else value

    def check_settings(self):
        if self.topology not in TOPOLOGIES:
            self.errors.append(f"wireguard_topology: {self.topology!r} is not one of {', '.join(TOPOLOGIES)}")
        if self.topology == "hub_and_spoke" and self.members and self.hub not in self.members:
            self.errors.append(f"wireguard_hub: unknown peer name {self.hub!r}; the hub must be a host of "
                               f"group '{self.group}' ({', '.join(self.members)})")
        for host in self.members:
            port = self.var(host, "wireguard_port", self.port)
            if not _int_in(port, 1, 65535):
                self.errors.append(f"wireguard_port: {host} has {port!r}; expected a port number 1-65535")
            keepalive = self.var(host, "wireguard_persistent_keepalive", 0)
            if not _int_in(keepalive, 0, 65535):
                self.errors.append(f"wireguard_persistent_keepalive: {host} has {keepalive!r}; "
                                   "expected seconds 0-65535 (0 is off)")

    def check_externals(self):
        seen = set()
        for index, peer in enumerate(self.externals):
            where = f"wireguard_external_peers[{index}]"
            if not isinstance(peer, Mapping):
                self.errors.append(f"{where}: expected a mapping with name, public_key and address")
                continue
            name = peer.get("name")
            if not name or name in self.members or name in seen:
                self.errors.append(f"{where}.name: {name!r} must be set and differ from every other peer's name")
            seen.add(name)
            if not _is_public_key(peer.get("public_key")):
                self.errors.append(f"{where}.public_key: expected a WireGuard public key (44 characters of "
                                   "base64, as `wg pubkey` prints it)")
            if not peer.get("address"):
                self.errors.append(f"{where}.address: a peer outside Ansible needs a fixed address")
            for host in peer.get("hosts") or []:
                if host not in self.members:
                    self.errors.append(f"{where}.hosts: unknown peer name {host!r}; expected hosts of group "
                                       f"'{self.group}' ({', '.join(self.members)})")

    def addresses(self):
        """Every peer's address, or None when they cannot be allocated."""
        fixed, owner = {}, {}
        wanted = [(host, "wireguard_address", self.var(host, "wireguard_address", None)) for host in self.members]
        wanted += [(peer.get("name"), f"wireguard_external_peers[{index}].address", peer.get("address"))
                   for index, peer in enumerate(self.externals) if isinstance(peer, Mapping)]
        for name, variable, address in wanted:
            if address is None:
                continue
            try:
                ip = netaddr.IPAddress(str(address), flags=netaddr.INET_PTON)
            except (netaddr.AddrFormatError, ValueError):
                self.errors.append(f"{variable}: {name} has {address!r}, which is not an IPv4 address "
                                   "(write it without a prefix length)")
                continue
            if ip not in _usable(self.net):
                self.errors.append(f"{variable}: {name} has {address}, which is not a host address of "
                                   f"wireguard_network {self.net}")
            elif ip in owner:
                self.errors.append(f"{variable}: {name} and {owner[ip]} both have {address}")
            else:
                owner[ip] = name
                fixed[name] = str(ip)
        if self.errors:
            return None
        names = self.members + [peer["name"] for peer in self.externals]
        try:
            return ip_allocate(names, str(self.net), fixed)
        except AnsibleFilterError as error:
            self.errors.append(f"wireguard_network: {error}".replace("ip_allocate: ", ""))
            return None

    def nodes(self, addresses):
        nodes = {}
        for host in self.members:
            keepalive = int(self.var(host, "wireguard_persistent_keepalive", 0))
            reachable_at = self.var(host, "wireguard_endpoint", self.var(host, "ansible_host", host))
            nodes[host] = {
                "address": addresses[host],
                # A host behind NAT is reached on the address its own packets come from.
                "endpoint": "" if keepalive else _endpoint(str(reachable_at), self.var(host, "wireguard_port", self.port)),
                "keepalive": keepalive,
            }
        for peer in self.externals:
            nodes[peer["name"]] = {
                "address": addresses[peer["name"]],
                "endpoint": peer.get("endpoint", ""),
                "keepalive": 0,
                "public_key": peer["public_key"],
                "hosts": list(peer.get("hosts") or ([self.hub] if self.topology == "hub_and_spoke" else self.members)),
            }
        return nodes

    def peers_of(self, host, nodes):
        if self.topology == "mesh" or host == self.hub:
            neighbours = [other for other in self.members if other != host]
        else:
            neighbours = [self.hub]
        neighbours += [peer["name"] for peer in self.externals if host in nodes[peer["name"]]["hosts"]]
        peers = []
        for name in neighbours:
            node = nodes[name]
            # A spoke reaches every address of the VPN through the hub.
            via_hub = self.topology == "hub_and_spoke" and name == self.hub and host != self.hub
            peers.append({
                "name": name,
                "allowed_ips": [str(self.net)] if via_hub else [f"{node['address']}/32"],
                "endpoint": node["endpoint"],
                # The side behind NAT keeps its mapping open; the other side learns its endpoint.
                "keepalive": nodes[host]["keepalive"],
                "public_key": node.get("public_key", ""),
            })
        return peers

    def build(self):
        if self.net is None:
            return {"errors": self.errors}
        self.check_settings()
        self.check_externals()
        addresses = self.addresses()
        if self.errors or addresses is None:
            return {"errors": self.errors}
        nodes = self.nodes(addresses)
        return {
            "errors": [],
            "network": str(self.net),
            "prefix": self.net.prefixlen,
            "hub": self.hub if self.topology == "hub_and_spoke" else "",
            "nodes": nodes,
            "peers": {host: self.peers_of(host, nodes) for host in self.members},
            # What firewall rules may name as a source: the whole VPN, or one peer.
            "sources": dict(
                [("vpn", {"cidr": str(self.net), "interface": self.interface})]
                + [(name, {"cidr": f"{node['address']}/32", "interface": self.interface}) for name, node in nodes.items()]
            ),
        }


@reads_hostvars_once
def wireguard_plan(members, hostvars, settings):
    """The VPN as every host must see it: addresses, endpoints and each host's peers.

    Returns a mapping with 'errors' (sentences naming the variable); when it is empty, also
    'network', 'prefix', 'hub', 'nodes' (every peer: address, endpoint, keepalive), 'peers'
    (for each member, the peers of its interface) and 'sources' (the VPN and each peer as a
    firewall source).
    """
    _need_netaddr()
    if not isinstance(hostvars, Mapping) or not isinstance(settings, Mapping):
        raise AnsibleFilterError("wireguard_plan expects the group's members, hostvars and a settings mapping")
    return _Plan(members, hostvars, settings).build()


@reads_hostvars_once
def wireguard_peer_keys(peers, hostvars, cached=None, host=None):
    """peers with each public key filled in: from the peer's host when it ran in this play (its
    registered wireguard_key), else from cached (name to key, kept by an earlier run); empty when
    neither knows it. Given `host`, the host whose peers these are, a key known nowhere is an
    error that names the peers."""
    cached = cached or {}
    keyed = []
    for peer in peers:
        ran = hostvars.get(peer["name"], {}).get("wireguard_key") or {}
        key = peer.get("public_key") or ran.get("public_key") or cached.get(peer["name"], "")
        keyed.append(dict(peer, public_key=key))
    keyless = [peer["name"] for peer in keyed if not peer["public_key"]]
    if host and keyless:
        raise AnsibleFilterError(f"{host} does not know the public key of {', '.join(keyless)}: run the play on "
                                 "those hosts too (a run with --limit takes keys from earlier runs only)")
    return keyed


@reads_hostvars_once
def service_addresses(hosts, hostvars, variable, vpn=None):
    """Where a service on each of hosts is reached: the host's own `variable` when it sets one,
    else its address in the VPN plan `vpn` (see vpn_plan); hosts with neither are left out."""
    nodes = (vpn or {}).get("nodes", {})
    addresses = {}
    for host in hosts:
        address = hostvars.get(host, {}).get(variable) or nodes.get(host, {}).get("address")
        if address:
            addresses[host] = address
    return addresses


class FilterModule:
    """selfhost.stack address filters."""

    def filters(self):
        return {
            "ip_allocate": ip_allocate,
            "networks_overlapping": networks_overlapping,
            "host_networks": host_networks,
            "wireguard_plan": wireguard_plan,
            "wireguard_peer_keys": wireguard_peer_keys,
            "service_addresses": service_addresses,
        }
