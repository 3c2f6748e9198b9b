#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Asks Redis servers for their replication role and Sentinels for their master, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_state
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Ask Redis servers for their replication role, and Sentinels for the master they monitor
description:
  - Connects to every listed Redis server and asks C(ROLE), and to every listed Sentinel and asks
    C(SENTINEL MASTER), all in one module run, speaking Redis's protocol itself (no C(redis-cli)
    process per question), the servers and Sentinels at once.
  - A server or Sentinel that does not answer is reported with its error, not failed on, unless
    O(wait) asks to wait for it.
  - The passwords are sent inside the connection only, never on a command line.
options:
  servers:
    description: The Redis servers to ask, host name to address.
    type: dict
    default: {}
  sentinels:
    description: The Sentinels to ask, host name to address.
    type: dict
    default: {}
  port:
    description: The port of the servers.
    type: int
    default: 6379
  sentinel_port:
    description: The port of the Sentinels.
    type: int
    default: 26379
  login_user:
    description: The ACL user the module logs in to the servers as; it needs C(ROLE).
    type: str
    default: default
  login_password:
    description: The password of O(login_user); no login when empty.
    type: str
    default: ""
  sentinel_password:
    description: The password of the Sentinels' default user; no login when empty.
    type: str
    default: ""
  master_name:
    description: The name the Sentinels monitor the master under.
    type: str
    default: mymaster
  ca_file:
    description:
      - The CA certificate(s) that sign the servers' and Sentinels' certificates. When set, the
        module speaks TLS and checks the certificate's chain; like C(redis-cli --tls), not its
        names, since the role asks loopback, which no certificate names.
    type: path
  timeout:
    description: Seconds to wait for each connection and answer.
    type: float
    default: 5
  wait:
    description:
      - Seconds to keep asking until every listed server and Sentinel answers (one just
        started); then the module fails, naming those that did not. V(0) asks once, and
        reports what did not answer without failing.
    type: int
    default: 0
extends_documentation_fragment:
  - selfhost.stack.read_only
"""

EXAMPLES = r"""
- name: Ask every server and Sentinel of the group, once, which is the master
  selfhost.stack.redis_state:
    servers: {redis1: 10.8.0.1, redis2: 10.8.0.2}
    sentinels: {redis1: 10.8.0.1, redis2: 10.8.0.2, app1: 10.8.0.3}
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    sentinel_password: "{{ redis_sentinel_password }}"
    master_name: sessions
  run_once: true
  register: redis_state
"""

RETURN = r"""
servers:
  description:
    - For each server asked, what C(ROLE) answered - C(role) (V(master) or V(slave)), and for a
      replica C(master_host) and C(master_port) - or C(error), why it did not answer.
  returned: always
  type: dict
  sample: {redis1: {role: master}, redis2: {role: slave, master_host: 10.8.0.1, master_port: 6379}, redis3: {error: "connection refused"}}
sentinels:
  description:
    - For each Sentinel asked, the fields C(SENTINEL MASTER) answered (C(ip), C(port), C(quorum),
      C(down-after-milliseconds)...), all strings; or C(error), why it did not answer (a Sentinel
      that monitors no master of that name answers so).
  returned: always
  type: dict
  sample: {redis1: {ip: 10.8.0.1, port: "6379", quorum: "2"}, app1: {error: "ERR No such master with that name"}}
"""

import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule


class RedisError(Exception):
    """An error reply, or a connection that failed."""


def encode(*words):
    """A command as Redis's protocol sends it: an array of bulk strings."""
    data = [f"*{len(words)}\r\n".encode()]
    for word in words:
        raw = str(word).encode()
        data.append(f"${len(raw)}\r\n".encode() + raw + b"\r\n")
    return b"".join(data)


def read_reply(stream):
    """One reply (RESP2) from a binary file object: str, int, None, list; an error reply raises."""
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise RedisError("the connection closed")
    kind, rest = line[:1], line[1:-2].decode(errors="replace")
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RedisError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = stream.read(int(rest) + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        return None if int(rest) < 0 else [read_reply(stream) for _index in range(int(rest))]
    raise RedisError(f"an unknown reply: {line[:40]!r}")


def ask(address, port, login, commands, timeout, tls):
    """Log in (login: the AUTH words, or none), run commands in order, and return their replies."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        conn = tls.wrap_socket(raw) if tls else raw
        with conn, conn.makefile("rb") as stream:
            if login:
                conn.sendall(encode("AUTH", *login))
                read_reply(stream)
            replies = []
            for command in commands:
                conn.sendall(encode(*command))
                replies.append(read_reply(stream))
            return replies


def server_role(reply):
    """ROLE's answer, named: a master's is [master, offset, replicas], a replica's [slave, host, port, ...]."""
    role = {"role": reply[0]}
    if reply[0] == "slave":
        role.update(master_host=reply[1], master_port=int(reply[2]))
    return role


def sentinel_master(reply):
    """SENTINEL MASTER's flat field, value, field, value... list as a dict."""
    return dict(zip(reply[0::2], reply[1::2]))


def question(params, tls, kind, host, address):
    """What one server or Sentinel answered, or its error."""
    if kind == "servers":
        port, login = params["port"], [params["login_user"], params["login_password"]]
        commands, answer = [["ROLE"]], server_role
    else:
        port, login = params["sentinel_port"], [params["sentinel_password"]]
        commands, answer = [["SENTINEL", "MASTER", params["master_name"]]], sentinel_master
    try:
        return answer(ask(address, port, login if login[-1] else None, commands, params["timeout"], tls)[0])
    except (OSError, RedisError, IndexError, ValueError, TypeError) as error:
        return {"error": str(error) or type(error).__name__}


def tls_context(ca_file):
    """The TLS context that trusts ca_file, None without one; a CA file that cannot be read raises."""
    if not ca_file:
        return None
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise RedisError(f"cannot read the CA file {ca_file}: {error}") from error
    context.check_hostname = False
    return context


def ask_all(params, tls, pending):
    """The answers of pending, a list of (kind, host, address), asked at once."""
    with ThreadPoolExecutor(max_workers=min(16, len(pending)) or 1) as pool:
        answers = list(pool.map(lambda item: question(params, tls, *item), pending))
    return {(kind, host): answer for (kind, host, _address), answer in zip(pending, answers)}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type="dict", default={}),
            sentinels=dict(type="dict", default={}),
            port=dict(type="int", default=6379),
            sentinel_port=dict(type="int", default=26379),
            login_user=dict(type="str", default="default"),
            login_password=dict(type="str", default="", no_log=True),
            sentinel_password=dict(type="str", default="", no_log=True),
            master_name=dict(type="str", default="mymaster"),
            ca_file=dict(type="path"),
            timeout=dict(type="float", default=5),
            wait=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = {"servers": {}, "sentinels": {}}
    pending = [(kind, host, str(address)) for kind in result for host, address in params[kind].items()]
    try:
        tls = tls_context(params["ca_file"])
    except RedisError as error:
        # No CA file yet (the role installs it later): nothing can be asked, as when nothing runs.
        if params["wait"]:
            module.fail_json(msg=str(error))
        for kind, host, _address in pending:
            result[kind][host] = {"error": str(error)}
        module.exit_json(changed=False, **result)
    deadline = time.monotonic() + params["wait"]
    while pending:
        answers = ask_all(params, tls, pending)
        for (kind, host), answer in answers.items():
            result[kind][host] = answer
        pending = [item for item in pending if "error" in answers[item[:2]]]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if pending and params["wait"]:
        silent = ", ".join(f"{host} ({result[kind][host]['error']})" for kind, host, _address in pending)
        module.fail_json(msg=f"No answer within {params['wait']} s from {silent}.", **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
