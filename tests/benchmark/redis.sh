#!/usr/bin/env bash
# Benchmark of the Redis role (not a test: it reports a number and asserts nothing), on the
# instances of the molecule scenario `redis`:
#   - Sentinel failover: from stopping the master's redis-server to the first write that
#     succeeds through the new master, found as a client using Sentinel finds it (it asks a
#     Sentinel for the master's address, then writes there, until a write succeeds). The
#     scenario's down-after-milliseconds is 2000; production's default is 10000.
# Usage: tests/benchmark/redis.sh; leaves nothing running.
set -euo pipefail
# shellcheck source=tests/benchmark/scenario.sh
source "$(dirname "$0")/scenario.sh"
client=redis-sentinel3
# The scenario's Redis and Sentinels speak TLS only, verified against the role's copy of its CA.
tls=(--tls --cacert /etc/redis/tls/ca.crt)
scenario_instances redis
master_address() {
  docker exec -e REDISCLI_AUTH=scenario-sentinel-secret "$client" \
    redis-cli --no-auth-warning --raw "${tls[@]}" -p 26379 SENTINEL GET-MASTER-ADDR-BY-NAME selfhost | head -1
}
old_address=$(master_address)
old=$(docker ps --format '{{.Names}}' | while read -r name; do
  case $name in redis-primary | redis-replica)
    [ "$(docker exec "$name" hostname -I | awk '{print $1}')" = "$old_address" ] && echo "$name" ;;
  esac
done)

# The writer stands for an application using Sentinel, on the third Sentinel's host.
docker exec "$client" rm -f /tmp/first-write
docker exec -d "$client" bash -c "until address=\$(REDISCLI_AUTH=scenario-sentinel-secret redis-cli \
  --no-auth-warning --raw ${tls[*]} -p 26379 SENTINEL GET-MASTER-ADDR-BY-NAME selfhost | head -1) \
  && [ \"\$(REDISCLI_AUTH=scenario-app-secret-1 timeout 2 redis-cli --no-auth-warning --raw ${tls[*]} --user app \
       -h \"\$address\" SET app:bench \"\$(date +%s.%N)\" 2>/dev/null)\" = OK ] \
  && [ \"\$address\" != $old_address ]; do sleep 0.02; done; date +%s.%N >/tmp/first-write"
stopped=$(seconds)
docker exec "$old" systemctl stop redis-server
until docker exec "$client" test -s /tmp/first-write; do sleep 0.1; done
first_write=$(docker exec "$client" cat /tmp/first-write)
new_address=$(master_address)

python3 - "$stopped" "$first_write" "$old" "$old_address" "$new_address" <<'PY'
import sys
stopped, first_write = map(float, sys.argv[1:3])
old, old_address, new_address = sys.argv[3:]
print(f"Sentinel failover {old} ({old_address}) -> {new_address}, master stopped to first write: "
      f"{first_write - stopped:5.1f} s")
PY
