"""Redis primary, replica and three Sentinels, proved by behaviour: replication as the ACL
replication user, a read-only replica, application users confined to their keys and kept from
dangerous commands, TLS only (verified against the scenario's CA), and a Sentinel failover that
the next converge keeps. Tests run in file order; the failover is last."""

import re
import time

from scenario import changed_counts, eventually, on, playbook

SERVERS = ("redis-primary", "redis-replica")
SENTINELS = SERVERS + ("redis-sentinel3",)
PASSWORDS = {"admin": "scenario-admin-secret", "app": "scenario-app-secret-1", "sentinel": "scenario-sentinel-secret"}
# Every host has the CA the role installed; redis-cli verifies the servers against it.
TLS = "--tls --cacert /etc/redis/tls/ca.crt"


def address(name):
    return on(name).interface("eth0").addresses[0]


def redis(source, target, *command, user="app", port=6379, tls=TLS):
    """Runs a Redis command from `source` against `target`'s private address as `user`, as an
    application would; a None user sends no credentials. Returns the stripped reply."""
    auth = f"REDISCLI_AUTH={PASSWORDS[user]} " if user else ""
    login = f"--user {user} " if user and user != "sentinel" else ""
    words = " ".join(f"'{word}'" for word in command)
    result = on(source).run(
        f"{auth}timeout 10 redis-cli --no-auth-warning --raw {tls} {login}-h {address(target)} -p {port} {words}")
    return (result.stdout + result.stderr).strip()


def sentinel_master(source="redis-sentinel3"):
    """The master's host name, as a Sentinel tells a client."""
    reply = redis(source, source, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "selfhost", user="sentinel", port=26379)
    return {address(name): name for name in SERVERS}.get(reply.split("\n")[0])


def test_the_sentinels_agree_on_the_master_and_see_each_other():
    master = sentinel_master()
    assert master in SERVERS
    for name in SENTINELS:
        assert sentinel_master(name) == master
        reply = redis(name, name, "SENTINEL", "MASTER", "selfhost", user="sentinel", port=26379).split("\n")
        fields = dict(zip(reply[::2], reply[1::2]))
        assert (fields["num-slaves"], fields["num-other-sentinels"], fields["quorum"]) == ("1", "2", "2")
        assert fields["down-after-milliseconds"] == "2000"


def test_a_key_set_on_the_primary_is_read_on_the_replica():
    master = sentinel_master()
    replica = next(name for name in SERVERS if name != master)
    token = f"probe-{time.time_ns()}"
    assert redis("redis-sentinel3", master, "SET", "app:probe", token) == "OK"
    assert eventually(lambda: redis("redis-sentinel3", replica, "GET", "app:probe") == token, seconds=5, interval=0.2)


def test_the_replica_refuses_writes():
    replica = next(name for name in SERVERS if name != sentinel_master())
    assert redis("redis-sentinel3", replica, "SET", "app:probe", "no").startswith("READONLY")


def test_the_application_user_keeps_to_its_keys_and_off_dangerous_commands():
    master = sentinel_master()
    assert redis("redis-sentinel3", master, "SET", "app:allowed", "1") == "OK"
    assert redis("redis-sentinel3", master, "DEL", "app:allowed") == "1"
    for command in (("FLUSHALL",), ("CONFIG", "GET", "maxmemory"), ("KEYS", "*"),
                    ("SET", "other:key", "1"), ("GET", "other:key")):
        assert redis("redis-sentinel3", master, *command).startswith("NOPERM"), command
    # DEBUG is refused before the ACL is asked (enable-debug-command), so the ACL is asked directly.
    for command in (("DEBUG", "SLEEP", "0"), ("SHUTDOWN",), ("REPLICAOF", "NO", "ONE"), ("MONITOR",)):
        assert "no permissions" in redis(master, master, "ACL", "DRYRUN", "app", *command, user="admin"), command


def test_redis_and_sentinel_speak_tls_only():
    master = sentinel_master()
    assert redis("redis-sentinel3", master, "PING") == "PONG"
    assert redis("redis-sentinel3", master, "PING", tls="") != "PONG"
    assert redis("redis-sentinel3", master, "PING", user="sentinel", port=26379, tls="") != "PONG"


def test_the_default_user_cannot_log_in():
    master = sentinel_master()
    assert redis("redis-sentinel3", master, "PING", user=None).startswith("NOAUTH")
    assert "WRONGPASS" in redis("redis-sentinel3", master, "AUTH", "default", "anything", user=None)


def test_replication_uses_the_acl_replication_user():
    master = sentinel_master()
    clients = redis(master, master, "CLIENT", "LIST", "TYPE", "replica", user="admin")
    assert re.search(r"\buser=replicator\b", clients), clients
    for name in SERVERS:
        with on(name).sudo():
            acl = on(name).file("/etc/redis/users.acl")
            assert acl.mode == 0o640
            assert not any(password in acl.content_string for password in PASSWORDS.values())
            assert "user default off" in acl.content_string


def test_memory_and_persistence_are_as_configured():
    for name in SERVERS:
        settings = redis(name, name, "CONFIG", "GET", "maxmemory*", user="admin").split("\n")
        settings += redis(name, name, "CONFIG", "GET", "append*", user="admin").split("\n")
        settings += redis(name, name, "CONFIG", "GET", "save", user="admin").split("\n")
        settings = dict(zip(settings[::2], settings[1::2]))
        assert settings["maxmemory"] == str(256 * 1024 * 1024)
        assert settings["maxmemory-policy"] == "allkeys-lru"
        assert (settings["appendonly"], settings["appendfsync"]) == ("yes", "everysec")
        assert settings["save"] == "3600 1 300 100 60 10000"


def test_redis_and_sentinel_listen_on_the_private_address_and_loopback_only():
    for name in SENTINELS:
        listening = on(name).check_output("ss -Hltn '( sport = :6379 or sport = :26379 )' | awk '{print $4}'").split()
        assert listening, name
        assert {entry.rsplit(":", 1)[0] for entry in listening} == {address(name), "127.0.0.1"}, listening


def test_sentinel_fails_over_and_the_next_converge_keeps_the_new_master():
    old = sentinel_master()
    new = next(name for name in SERVERS if name != old)
    stopped = time.monotonic()
    on(old).run("systemctl stop redis-server")
    try:
        assert eventually(lambda: sentinel_master() == new, seconds=20, interval=0.2)
        print(f"Sentinel promoted {new} {time.monotonic() - stopped:.1f}s after {old} stopped")
        assert eventually(lambda: redis("redis-sentinel3", new, "SET", "app:after", "1") == "OK", seconds=10)
    finally:
        on(old).run("systemctl start redis-server")
    # Sentinel turns the old master into a replica of the new one once it is back.
    assert eventually(lambda: "master_link_status:up" in redis(old, old, "INFO", "replication", user="admin")
                      and f"master_host:{address(new)}" in redis(old, old, "INFO", "replication", user="admin"),
                      seconds=40, interval=1)
    assert eventually(lambda: redis("redis-sentinel3", old, "GET", "app:after") == "1", seconds=10)

    result = playbook("converge.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert changed_counts(result.stdout) == {name: 0 for name in SENTINELS}, result.stdout[-3000:]
    assert sentinel_master() == new
    assert redis(new, new, "ROLE", user="admin").split("\n")[0] == "master"
    assert redis(old, old, "ROLE", user="admin").split("\n")[:2] == ["slave", address(new)]
