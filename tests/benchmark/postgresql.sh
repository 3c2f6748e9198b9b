#!/usr/bin/env bash
# Benchmark of the PostgreSQL role (not a test: it reports numbers and asserts nothing), on the
# instances of the molecule scenario `postgresql`, Debian 13 pair:
#   - failover: from the start of playbooks/failover.yml to the first write that succeeds
#     through the new primary's PgBouncer;
#   - tenants: the time playbooks/tenants.yml takes to create 200 tenants, then to re-run with
#     nothing to do.
# Usage: tests/benchmark/postgresql.sh   (make benchmark); leaves nothing running.
set -euo pipefail
# shellcheck source=tests/benchmark/scenario.sh
source "$(dirname "$0")/scenario.sh"
primary=pg13-primary standby=pg13-standby tenants=200
scenario_instances postgresql

python3 -c "import json; print(json.dumps({'postgresql_tenants': [{'id': f'bench_{n:03d}', 'name': f'Tenant {n}'} for n in range($tenants)]}))" \
  >/tmp/selfhost-bench-tenants.json
start=$(seconds)
play playbooks/tenants.yml --limit "$primary" -e @/tmp/selfhost-bench-tenants.json >/dev/null
created=$(seconds)
recap=$(play playbooks/tenants.yml --limit "$primary" -e @/tmp/selfhost-bench-tenants.json | grep "^$primary ")
rerun=$(seconds)
grep -q "changed=0" <<<"$recap" || { echo "the re-run changed something: $recap"; exit 1; }

# The writer stands for an application: it writes through the standby's PgBouncer until a
# write succeeds, which happens once the standby is promoted.
address=$(docker exec "$standby" hostname -I | awk '{print $1}')
docker exec "$primary" runuser -u postgres -- psql -XAtq -d app \
  -c 'CREATE TABLE IF NOT EXISTS bench (at timestamptz DEFAULT now())' -c 'GRANT INSERT ON bench TO app'
docker exec -d "$primary" bash -c "until PGPASSWORD=scenario-app-secret psql -XAtq \
  'host=$address port=6432 dbname=app user=app sslmode=require connect_timeout=2' -c 'INSERT INTO bench DEFAULT VALUES' \
  2>/dev/null; do sleep 0.05; done; date +%s.%N >/tmp/first-write"
failover_start=$(seconds)
play playbooks/failover.yml --limit "$primary,$standby" -e "postgresql_failover_to=$standby" >/tmp/selfhost-bench-failover.log
failover_end=$(seconds)
first_write=$(docker exec "$primary" cat /tmp/first-write)

python3 - "$start" "$created" "$rerun" "$failover_start" "$first_write" "$failover_end" "$tenants" <<'PY'
import sys
start, created, rerun, fo_start, first_write, fo_end, tenants = map(float, sys.argv[1:])
print(f"create {int(tenants)} tenants (tenants.yml):        {created - start:7.1f} s")
print(f"re-run with nothing to do (tenants.yml):  {rerun - created:7.1f} s")
print(f"failover, command to first write:         {first_write - fo_start:7.1f} s")
print(f"failover.yml in all (with the rejoin):    {fo_end - fo_start:7.1f} s")
PY
