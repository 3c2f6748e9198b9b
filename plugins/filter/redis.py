# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Redis role reads back from the servers and Sentinels it asked with redis-cli: which
host is the master now, and which Sentinel tunables differ from the inventory's. Each answer is a
registered command result whose first line is the login's OK."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

LOGIN_OK = "OK"


def _answers(results, name):
    """The output lines of the commands of loop result `results` that logged in and answered."""
    if not isinstance(results, list):
        raise AnsibleFilterError(f"{name} expects the results of a loop of registered redis-cli commands")
    answers = []
    for result in results:
        if not isinstance(result, Mapping) or result.get("rc") != 0:
            continue
        lines = list(result.get("stdout_lines") or [])
        if lines[:1] == [LOGIN_OK]:
            answers.append((result.get("item"), lines[1:]))
    return answers


def redis_master(primary, sentinel_results, server_results, addresses):
    """The current master, as {host, source}: the address most Sentinels give (SENTINEL
    GET-MASTER-ADDR-BY-NAME answers address then port), named by `addresses` (host to address),
    or '?<address>' for an address no host has; else the one server that answers ROLE with
    master; else (nothing runs yet) `primary`, the inventory's."""
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError("redis_master expects the addresses of the hosts, host to address")
    named = Counter(lines[0] for _sentinel, lines in _answers(sentinel_results, "redis_master") if len(lines) >= 2)
    if named:
        address = named.most_common(1)[0][0]
        hosts = {str(value): host for host, value in addresses.items()}
        return {"host": hosts.get(address, f"?{address}"), "source": "the Sentinels"}
    masters = [host for host, lines in _answers(server_results, "redis_master") if lines[:1] == ["master"]]
    if len(masters) == 1:
        return {"host": masters[0], "source": "the servers"}
    return {"host": primary, "source": "the inventory"}


def redis_sentinel_changes(master_lines, wanted):
    """SENTINEL SET's arguments (name, value, name, value...) for the tunables of `wanted` whose
    value differs from what SENTINEL MASTER answered: `master_lines`, the login's OK, then field,
    value, field, value... one per line."""
    if not isinstance(master_lines, list) or not isinstance(wanted, Mapping):
        raise AnsibleFilterError("redis_sentinel_changes expects SENTINEL MASTER's output lines and the "
                                 "tunables wanted")
    fields = master_lines[1:] if master_lines[:1] == [LOGIN_OK] else master_lines
    reported = dict(zip(fields[0::2], fields[1::2]))
    changes = []
    for name, value in wanted.items():
        if reported.get(name) != str(value):
            changes += [name, str(value)]
    return changes


class FilterModule:
    """selfhost.stack Redis filters."""

    def filters(self):
        return {"redis_master": redis_master, "redis_sentinel_changes": redis_sentinel_changes}
