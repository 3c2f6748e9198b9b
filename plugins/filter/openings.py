# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The openings a host's firewall needs, computed from the inventory alone: what the host runs
follows from its groups, each service's ports and peers from the roles' variables."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.network import service_addresses
from ansible_collections.selfhost.stack.plugins.filter.vpn import vpn_plan
from ansible_collections.selfhost.stack.plugins.plugin_utils.settings import group_hosts, reads_hostvars_once, setting

# The group whose hosts run the application: each service opens its port to them.
APP_GROUP = "app"


class _Inventory:
    def __init__(self, hostvars, groups):
        self.hostvars = hostvars
        self.groups = groups

    def setting(self, host, name):
        return setting(self.hostvars, host, name)

    def group(self, host, variable):
        return group_hosts(self.hostvars, self.groups, host, variable)

    def sources(self, host, hosts, address_variable, vpn, client_variable=None):
        """Where each of `hosts` other than `host` reaches a service on `host`, as /32 networks,
        then the inventory's extra client addresses."""
        others = [other for other in dict.fromkeys(hosts) if other != host]
        addresses = service_addresses(others, self.hostvars, address_variable, vpn)
        found = [f"{address}/32" for address in addresses.values()]
        clients = list(self.setting(host, client_variable)) if client_variable else []
        return list(dict.fromkeys(found + clients))


def _rules(sources, port, comment):
    return [{"from": source, "port": str(port), "proto": "tcp", "comment": comment} for source in sources]


@reads_hostvars_once
def firewall_openings(host, hostvars, groups):
    """Every opening `host` needs, by what needs it: {name: {rules, sources}}, the declarations
    that selfhost.stack.firewall_plan turns into rules. SSH for every host; WireGuard for the
    VPN's members (its port, the hub's forwarding, and the names 'vpn' and each peer as
    sources); PostgreSQL and PgBouncer, Redis and Sentinel, and MinIO for the hosts of their
    groups, each from its group's other hosts, the app hosts and its *_client_addresses (MinIO
    also from a repository host with an S3 repository, backup_s3_bucket); and
    pgBackRest's TLS server, on the repository host from the database hosts and on the database
    hosts from the repository host."""
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError("firewall_openings expects hostvars and groups")
    inventory = _Inventory(hostvars, groups)
    app = list(groups.get(APP_GROUP) or [])
    vpn = vpn_plan(host, hostvars, groups)
    openings = {"ssh": {"rules": [{"port": inventory.setting(host, "base_ssh_port"), "rule": "limit", "comment": "ssh"}]}}

    if host in inventory.group(host, "wireguard_group") and vpn:
        rules = [{"port": inventory.setting(host, "wireguard_port"), "proto": "udp", "comment": "wireguard"}]
        if vpn["hub"] == host:
            rules.append({"route": True, "proto": "any", "from": "vpn",
                          "interface_out": inventory.setting(host, "wireguard_interface"),
                          "comment": "wireguard: spoke to spoke through the hub"})
        openings["wireguard"] = {"rules": rules, "sources": vpn["sources"]}

    members = inventory.group(host, "postgresql_group")
    if host in members:
        ports = str(inventory.setting(host, "postgresql_port"))
        if inventory.setting(host, "postgresql_pgbouncer"):
            ports += f",{inventory.setting(host, 'postgresql_pgbouncer_port')}"
        sources = inventory.sources(host, members + app, "postgresql_address", vpn, "postgresql_client_addresses")
        openings["postgresql"] = {"rules": _rules(sources, ports, "postgresql, pgbouncer")}

    servers, sentinels = inventory.group(host, "redis_group"), inventory.group(host, "redis_sentinel_group")
    if host in servers or host in sentinels:
        sources = inventory.sources(host, servers + sentinels + app, "redis_address", vpn, "redis_client_addresses")
        rules = _rules(sources, inventory.setting(host, "redis_port"), "redis") if host in servers else []
        if host in sentinels:
            rules += _rules(sources, inventory.setting(host, "redis_sentinel_port"), "redis sentinel")
        openings["redis"] = {"rules": rules}

    sites = inventory.group(host, "minio_group")
    if host in sites:
        # A repository host with an S3 repository for the backups may keep it on the platform's MinIO.
        backups = [repository for repository in inventory.group(host, "backup_repository_group")
                   if inventory.setting(repository, "backup_s3_bucket")]
        sources = inventory.sources(host, sites + app + backups, "minio_address", vpn, "minio_client_addresses")
        openings["minio"] = {"rules": _rules(sources, inventory.setting(host, "minio_port"), "minio")}

    # The repository host runs the backups, which read each database host's data through its
    # pgBackRest server; the database hosts push WAL to the repository host's.
    databases, repositories = inventory.group(host, "postgresql_group"), inventory.group(host, "backup_repository_group")
    peers = (databases if host in repositories else []) + (repositories if host in databases else [])
    if any(peer != host for peer in peers):
        sources = inventory.sources(host, peers, "backup_address", vpn)
        openings["pgbackrest"] = {"rules": _rules(sources, inventory.setting(host, "backup_tls_port"), "pgbackrest")}
    return openings


class FilterModule:
    """selfhost.stack firewall openings filter."""

    def filters(self):
        return {"firewall_openings": firewall_openings}
