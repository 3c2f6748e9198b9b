"""Unit tests for the redis_state module: Redis's protocol, and the answers of servers and
Sentinels played by small loopback servers (the redis scenario and the lab ask real ones)."""

from __future__ import annotations

import io
import socket
import socketserver
import threading

import pytest

from ansible_collections.selfhost.stack.plugins.modules import redis_state


def reply(value):
    """value as a server sends it (RESP2)."""
    if isinstance(value, Exception):
        return f"-{value}\r\n".encode()
    if isinstance(value, int):
        return f":{value}\r\n".encode()
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, list):
        return f"*{len(value)}\r\n".encode() + b"".join(reply(item) for item in value)
    return f"${len(value.encode())}\r\n{value}\r\n".encode()


class FakeRedis(socketserver.ThreadingTCPServer):
    """Answers commands from `answers` (command words as a tuple -> reply); AUTH with `login`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answers, login):
        self.answers, self.login, self.received = answers, login, []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        logged_in = not self.server.login
        while True:
            try:
                words = redis_state.read_reply(self.rfile)
            except redis_state.RedisError:
                return
            self.server.received.append(words)
            if words[0] == "AUTH":
                logged_in = words[1:] == self.server.login
                answer = "OK" if logged_in else Exception("WRONGPASS invalid username-password pair")
            elif not logged_in:
                answer = Exception("NOAUTH Authentication required.")
            else:
                answer = self.server.answers.get(tuple(words), Exception("ERR unknown command"))
            self.wfile.write(reply(answer))


MASTER_FIELDS = ["name", "sessions", "ip", "10.0.0.1", "port", "6379", "quorum", "2"]


@pytest.fixture
def servers():
    started = []

    def start(answers, login):
        started.append(FakeRedis(answers, login))
        return started[-1]

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("value", ["OK", "", 42, None, ["master", 0, []], ["a", ["b", None]]])
def test_replies_are_read_back(value):
    assert redis_state.read_reply(io.BytesIO(reply(value))) == value


def test_an_error_reply_raises_with_its_text():
    with pytest.raises(redis_state.RedisError, match="^WRONGPASS"):
        redis_state.read_reply(io.BytesIO(reply(Exception("WRONGPASS no"))))


def test_commands_are_sent_as_arrays_of_bulk_strings():
    assert redis_state.encode("AUTH", "pass word") == b"*2\r\n$4\r\nAUTH\r\n$9\r\npass word\r\n"


def test_servers_and_sentinels_are_asked_in_one_run(run_module, servers):
    primary = servers({("ROLE",): ["master", 100, []]}, ["admin", "s3cret"])
    replica = servers({("ROLE",): ["slave", "10.0.0.1", 6379, "connected", 100]}, ["admin", "s3cret"])
    sentinel = servers({("SENTINEL", "MASTER", "sessions"): MASTER_FIELDS}, ["sentinel-pass"])
    # Each listed host at its own port: the module asks one port per kind, so one fake each here.
    result = run_module(redis_state, {
        "servers": {"primary": "127.0.0.1"}, "port": primary.port,
        "sentinels": {"app1": "127.0.0.1"}, "sentinel_port": sentinel.port,
        "login_user": "admin", "login_password": "s3cret", "sentinel_password": "sentinel-pass",
        "master_name": "sessions"})
    assert result["servers"] == {"primary": {"role": "master"}}
    assert result["sentinels"] == {"app1": dict(zip(MASTER_FIELDS[0::2], MASTER_FIELDS[1::2]))}
    assert not result["changed"]
    assert primary.received == [["AUTH", "admin", "s3cret"], ["ROLE"]]
    assert sentinel.received == [["AUTH", "sentinel-pass"], ["SENTINEL", "MASTER", "sessions"]]
    replica_result = run_module(redis_state, {"servers": {"standby": "127.0.0.1"}, "port": replica.port,
                                              "login_password": "s3cret", "login_user": "admin"})
    assert replica_result["servers"] == {"standby": {"role": "slave", "master_host": "10.0.0.1", "master_port": 6379}}


def test_what_does_not_answer_is_reported_not_failed(run_module, servers):
    sentinel = servers({}, ["sentinel-pass"])
    result = run_module(redis_state, {
        "servers": {"primary": "127.0.0.1"}, "port": closed_port(),
        "sentinels": {"app1": "127.0.0.1"}, "sentinel_port": sentinel.port,
        "sentinel_password": "wrong", "timeout": 2})
    assert not result.get("failed")
    assert "refused" in result["servers"]["primary"]["error"].lower()
    assert result["sentinels"]["app1"] == {"error": "WRONGPASS invalid username-password pair"}


def test_waiting_fails_naming_what_never_answered(run_module, servers):
    sentinel = servers({("SENTINEL", "MASTER", "mymaster"): Exception("ERR No such master with that name")}, [])
    result = run_module(redis_state, {"sentinels": {"app1": "127.0.0.1"}, "sentinel_port": sentinel.port, "wait": 1})
    assert result["failed"]
    assert result["msg"] == "No answer within 1 s from app1 (ERR No such master with that name)."
    # Asked again until the deadline: at least twice.
    assert sentinel.received.count(["SENTINEL", "MASTER", "mymaster"]) >= 2


def test_passwords_stay_out_of_the_result(run_module, servers):
    primary = servers({("ROLE",): ["master", 0, []]}, ["default", "s3cret-value"])
    result = run_module(redis_state, {"servers": {"primary": "127.0.0.1"}, "port": primary.port,
                                      "login_password": "s3cret-value"})
    assert result["servers"] == {"primary": {"role": "master"}}
    assert "s3cret-value" not in str(result)


def test_without_its_ca_file_nothing_is_asked(run_module, tmp_path):
    result = run_module(redis_state, {"servers": {"primary": "127.0.0.1"}, "ca_file": str(tmp_path / "ca.crt")})
    assert not result.get("failed")
    assert result["servers"]["primary"]["error"].startswith(f"cannot read the CA file {tmp_path / 'ca.crt'}")
