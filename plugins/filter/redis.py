# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Redis role reads back from the servers and Sentinels it asked (the redis_state
module's answers): which host is the master now, and which Sentinel tunables differ from the
inventory's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _answers(state, kind, name):
    """The answers of the servers or Sentinels (kind) of redis_state's result that answered, by host."""
    if not isinstance(state, Mapping) or not isinstance(state.get(kind, {}), Mapping):
        raise AnsibleFilterError(f"{name} expects the result of selfhost.stack.redis_state")
    return {host: answer for host, answer in state.get(kind, {}).items()
            if isinstance(answer, Mapping) and "error" not in answer}


def redis_master(primary, state, addresses):
    """The current master, as {host, source}: the address most Sentinels monitor, named by
    `addresses` (host to address), or '?<address>' for an address no host has; else the one
    server whose ROLE is master; else (nothing runs yet) `primary`, the inventory's. `state` is
    redis_state's result."""
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError("redis_master expects the addresses of the hosts, host to address")
    named = Counter(answer["ip"] for answer in _answers(state, "sentinels", "redis_master").values() if "ip" in answer)
    if named:
        address = named.most_common(1)[0][0]
        hosts = {str(value): host for host, value in addresses.items()}
        return {"host": hosts.get(address, f"?{address}"), "source": "the Sentinels"}
    masters = [host for host, answer in _answers(state, "servers", "redis_master").items()
               if answer.get("role") == "master"]
    if len(masters) == 1:
        return {"host": masters[0], "source": "the servers"}
    return {"host": primary, "source": "the inventory"}


def redis_sentinel_changes(reported, wanted):
    """SENTINEL SET's arguments (name, value, name, value...) for the tunables of `wanted` whose
    value differs from `reported`, the fields SENTINEL MASTER answered."""
    if not isinstance(reported, Mapping) or not isinstance(wanted, Mapping):
        raise AnsibleFilterError("redis_sentinel_changes expects SENTINEL MASTER's fields and the tunables wanted")
    changes = []
    for name, value in wanted.items():
        if reported.get(name) != str(value):
            changes += [name, str(value)]
    return changes


class FilterModule:
    """selfhost.stack Redis filters."""

    def filters(self):
        return {"redis_master": redis_master, "redis_sentinel_changes": redis_sentinel_changes}
