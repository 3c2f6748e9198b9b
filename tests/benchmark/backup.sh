#!/usr/bin/env bash
# Benchmark of PostgreSQL's backups (not a test: it reports numbers and asserts nothing), on the
# instances of the molecule scenario `backup` (a primary, a standby and a NAS), while a writer
# commits a row every 0.1 s on the primary:
#   - RPO: primary and standby both lost at once (every postgres process killed, nothing
#     flushed, their data then set aside by the restore): the newest row that the archive alone
#     brings back (playbooks/restore.yml to the latest), against the newest row committed;
#   - restore time: playbooks/restore.yml to the latest after that loss, then to a time T noted
#     while the writer ran (PostgreSQL back, standby cloned anew and streaming).
# Usage: tests/benchmark/backup.sh   (make benchmark); leaves nothing running.
set -euo pipefail
# shellcheck source=tests/benchmark/scenario.sh
source "$(dirname "$0")/scenario.sh"
primary=backup-primary standby=backup-standby nas=backup-nas write_for=75
scenario_instances backup
# The restores report their five slowest tasks.
restore() {
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=5 \
    play playbooks/restore.yml -e "restore_target_time='$1'" >"$2"
}
sql() { docker exec "$1" runuser -u postgres -- psql -XAtq -d app -v ON_ERROR_STOP=1 -c "$2"; }

echo "--- waiting for the first full backup, which the converge started"
until [ "$(docker exec "$nas" systemctl show -p ActiveState --value pgbackrest-backup@full.service)" != activating ]; do
  sleep 2
done
[ "$(docker exec "$nas" systemctl show -p Result --value pgbackrest-backup@full.service)" = success ]

# The writer stands for the application: one committed row every 0.1 s, each row's id and
# commit time appended to a file once PostgreSQL said it was committed.
sql "$primary" 'CREATE TABLE rpo (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())'
docker exec -d "$primary" bash -c "while runuser -u postgres -- psql -XAtq -d app \
  -c 'INSERT INTO rpo DEFAULT VALUES RETURNING id, extract(epoch FROM at)' >>/tmp/committed 2>/dev/null; \
  do sleep 0.1; done"
echo "--- writing for ${write_for} s (archive_timeout is 60 s)"
sleep $((write_for / 2))
IFS='|' read -r target target_epoch < <(sql "$primary" \
  "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', extract(epoch FROM now())")
sleep $((write_for - write_for / 2))

echo "--- losing the primary and the standby at once"
docker exec "$primary" pkill -KILL -u postgres &
docker exec "$standby" pkill -KILL -u postgres &
wait
sleep 1
# Debian's postgresql@.service does not restart a cluster that died: nothing archives after this.
for host in "$primary" "$standby"; do
  if docker exec "$host" pgrep -u postgres -x postgres >/dev/null; then echo "PostgreSQL runs again on $host"; exit 1; fi
done
last_committed=$(docker exec "$primary" tail -1 /tmp/committed)

echo "--- restoring to the latest the archive holds"
start=$(seconds)
restore latest /tmp/selfhost-bench-restore-latest.log
restored_latest=$(seconds)
last_restored=$(sql "$primary" "SELECT id || '|' || extract(epoch FROM at) FROM rpo ORDER BY id DESC LIMIT 1")

echo "--- restoring to $target"
restore "$target" /tmp/selfhost-bench-restore-time.log
restored_time=$(seconds)
last_at_target=$(sql "$primary" "SELECT id || '|' || extract(epoch FROM at) FROM rpo ORDER BY id DESC LIMIT 1")

python3 - "$last_committed" "$last_restored" "$last_at_target" "$target_epoch" \
  "$start" "$restored_latest" "$restored_time" <<'PY'
import sys
committed, restored, at_target = (tuple(map(float, arg.split("|"))) for arg in sys.argv[1:4])
target, start, latest, timed = map(float, sys.argv[4:])
print(f"RPO, both database hosts lost: {committed[1] - restored[1]:7.1f} s "
      f"({int(committed[0] - restored[0])} of {int(committed[0])} committed rows not in the archive)")
print(f"restore.yml to the latest:     {latest - start:7.1f} s")
print(f"restore.yml to a time T:       {timed - latest:7.1f} s "
      f"(newest row restored {target - at_target[1]:.2f} s before T)")
PY
echo "slowest tasks of the restore to the latest:"
sed -n '/^=====/,$p' /tmp/selfhost-bench-restore-latest.log | grep -E ' -+ [0-9.]+s$' | head -5
