#!/usr/bin/env bash
# The lab end to end, as a user runs it: `make lab` on hosts made fresh from the images; then a
# second site.yml run must change nothing, and every host must answer over plain SSH with systemd
# running; `make lab-destroy` at the end, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'make --no-print-directory lab-destroy >/dev/null' EXIT

# Each host: its name, address, VPN address, and how many units of the collection listen on its
# VPN address (PostgreSQL, PgBouncer and pgBackRest's server; Redis, Sentinel, MinIO; the
# repository's pgBackRest server), from its groups.
hosts=$(ansible-inventory -i inventories/lab --list |
  python3 -c 'import json, sys
inventory = json.load(sys.stdin)
units = {"postgresql": 3, "redis": 1, "redis_sentinel": 1, "minio": 1, "backup_repository": 1}
for host, hostvars in sorted(inventory["_meta"]["hostvars"].items()):
    listening = sum(count for group, count in units.items() if host in inventory.get(group, {}).get("hosts", []))
    print(host, hostvars["ansible_host"], hostvars["wireguard_address"], listening)')
marker=/root/left-by-an-earlier-run

echo "--- a lab left up by an earlier run is removed first: the converge starts from new hosts"
# The result must depend on the commit only, not on what another run or checkout left on this
# machine. Leave a lab up with a marker on every host, as such a run would, and remove it as every
# lab stage does: make lab must then find hosts without the marker.
make --no-print-directory lab-destroy >/dev/null
ansible-playbook -i inventories/lab tests/lab/up.yml >/dev/null
while read -r host _; do docker exec "selfhost-lab-$host" touch "$marker"; done <<<"$hosts"
make --no-print-directory lab-destroy >/dev/null

make --no-print-directory lab

while read -r host _; do
  if docker exec "selfhost-lab-$host" test -e "$marker"; then
    echo "$host still holds $marker: the lab reused a host an earlier run left"
    exit 1
  fi
done <<<"$hosts"
echo "no host holds $marker: every host was made new from the images"

echo "--- second site.yml run, with -vvv: must change nothing and show no secret of the inventory"
# The first run started the first full backup without waiting for it; once it has ended, this
# run's report names it.
docker exec selfhost-lab-nas bash -c 'for try in $(seq 150); do
  [ "$(systemctl show -p ActiveState --value pgbackrest-backup@full.service)" = activating ] || break; sleep 2; done'
output=$(mktemp /tmp/selfhost-lab-vvv.XXXXXX)
started=$(date +%s)
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=10 \
  ansible-playbook -vvv -i inventories/lab playbooks/site.yml >"$output" 2>&1 || true
recap=$(sed -n '/^PLAY RECAP/,/^$/p' "$output")
echo "$recap"
# The trend every test run shows (make benchmark measures it without -vvv): the wall time and the
# ten slowest tasks, from profile_tasks.
echo "the no-change run took $(($(date +%s) - started)) s (with -vvv); its ten slowest tasks:"
sed -n '/^=====/,$p' "$output" | grep -E ' -+ [0-9.]+s$' | head -10 | sed 's/^/  /'
if [ -z "$recap" ] || grep -Eq '(changed|unreachable|failed)=[1-9]' <<<"$recap"; then
  grep -E -B2 -A12 '^(fatal|changed):' "$output" | tail -80
  echo "the second run was not a no-op"
  exit 1
fi
# The YAML output wraps long lines: read it with the wrapping undone.
report=$(tr -s '[:space:]' ' ' <"$output" | grep -Eo 'PostgreSQL backups: nas:/data/pgbackrest \(stanza main, '\
'encrypted\); newest: full backup [0-9]{8}-[0-9]{6}F, ended [0-9-]{10} [0-9:]{8} UTC' | sort -u) || {
  grep -F 'PostgreSQL backups' "$output" | head -3
  echo "the report does not say where the backups are and the newest one"
  exit 1
}
echo "the report says: $report"
secrets_shown=0
python3 tests/lab/secrets_in_output.py inventories/lab "$output" || secrets_shown=1
rm -f "$output"
[ "$secrets_shown" = 0 ]

echo "--- a service stopped by hand, and one disabled by hand, are started and enabled again by the next run"
# The roles skip a start when the host's one read (host_state) finds the unit active and enabled:
# that read must see what was done by hand since the last run.
docker exec selfhost-lab-app1 bash -c 'systemctl stop redis-sentinel && systemctl disable --quiet fail2ban'
output=$(ansible-playbook -i inventories/lab playbooks/site.yml --limit app1 2>&1) || true
changed=$(grep -B1 '^changed: \[app1\]' <<<"$output" | sed -n 's/^TASK \[\(.*\)\] \**$/\1/p' | tr '\n' ';')
units=$(docker exec selfhost-lab-app1 bash -c 'systemctl is-active redis-sentinel; systemctl is-enabled fail2ban' | tr '\n' ' ')
echo "tasks that changed app1: $changed; redis-sentinel, fail2ban now: $units"
[ "$changed" = "selfhost.stack.base : Start the services not running, and enable them at boot;selfhost.stack.redis : Start Sentinel now and at boot;" ]
[ "$units" = "active enabled " ]

echo "--- every lab host over SSH: systemd running, the firewall active, every VPN address answering"
vpn_addresses=$(awk '{printf "%s ", $3}' <<<"$hosts")
# One SSH connection per host, shared by every command: the firewall's rate limit on SSH (six
# new connections in 30 s) would refuse a check that opened one per command.
lab_ssh() { ssh -n -i .lab/id_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath="/tmp/selfhost-lab-check-%C" -o ControlPersist=120 \
  "admin@$1" "$2"; }
while read -r host address _; do
  report=$(lab_ssh "$address" \
    "systemctl is-system-running; sudo ufw status | head -1; for vpn in $vpn_addresses; do
       ping -c1 -w5 \$vpn >/dev/null && echo \$vpn answers || echo \$vpn is silent; done")
  echo "$host ($address): ${report//$'\n'/, }"
  [ "$(sed -n 1p <<<"$report")" = running ]
  [ "$(sed -n 2p <<<"$report")" = "Status: active" ]
  if grep -q silent <<<"$report"; then exit 1; fi
done <<<"$hosts"

echo "--- at boot, every service listening on a VPN address starts after the tunnel (systemd's own view)"
# Each host's running services of the collection (list-units globs match whole unit names, suffix
# included), and whether systemd orders each after wg-quick.
while read -r host address _ listening; do
  order=$(lab_ssh "$address" "systemctl list-units --type=service --state=running --no-legend --plain \
      'postgresql@*' pgbouncer.service redis-server.service redis-sentinel.service minio.service \
      pgbackrest-server.service | while read -r unit _; do
    after=\$(systemctl show -p After -p Wants --value \$unit | tr ' ' '\n' | grep -cx wg-quick@wg0.service)
    echo \$unit:\$after; done")
  echo "$host: units after the tunnel (unit:After/Wants naming wg-quick@wg0): ${order:-none}" | tr '\n' ' '
  echo "($listening expected)"
  [ "$(grep -c . <<<"$order" || true)" = "$listening" ]
  if [ -n "$order" ] && grep -qv ':2$' <<<"$order"; then exit 1; fi
done <<<"$hosts"

echo "--- PostgreSQL: the standby streams from the primary, and app1 writes through PgBouncer over the VPN"
token="lab-$(date +%s%N)"
streaming=$(lab_ssh 172.29.0.11 "sudo -u postgres psql -XAtc 'SELECT application_name, state FROM pg_stat_replication'")
echo "primary replicates to: $streaming"
[ "$streaming" = "standby|streaming" ]
lab_ssh 172.29.0.21 "sudo apt-get install -y -qq postgresql-client >/dev/null 2>&1; PGPASSWORD=lab-app-password psql -XAt \
  'host=10.0.0.1 port=6432 dbname=app user=app sslmode=require connect_timeout=5' \
  -c 'CREATE TABLE IF NOT EXISTS lab_probe (note text)' -c \"INSERT INTO lab_probe VALUES ('$token')\"" >/dev/null
sleep 2
seen=$(lab_ssh 172.29.0.12 "sudo -u postgres psql -XAt -d app -c \"SELECT count(*) FROM lab_probe WHERE note = '$token'\"")
echo "standby sees the row app1 wrote through the primary's PgBouncer: $seen"
[ "$seen" = 1 ]
tenants=$(lab_ssh 172.29.0.12 "sudo -u postgres psql -XAt -d app -c 'SELECT string_agg(id, chr(44) ORDER BY id) FROM public.tenants'")
echo "tenants on the standby: $tenants"
[ "$tenants" = "acme,globex" ]

echo "--- Redis: the Sentinels name the primary, and a key app1 sets there over the VPN is read on the standby"
master=$(lab_ssh 172.29.0.21 "REDISCLI_AUTH=lab-redis-sentinel-password redis-cli --no-auth-warning --raw \
  -h 10.0.0.10 -p 26379 SENTINEL GET-MASTER-ADDR-BY-NAME selfhost | head -1")
echo "the Sentinel on app1 names the master: $master"
[ "$master" = 10.0.0.1 ]
app_redis="REDISCLI_AUTH=lab-redis-app-password redis-cli --no-auth-warning --raw --user app"
lab_ssh 172.29.0.21 "$app_redis -h 10.0.0.1 SET app:lab-probe $token" >/dev/null
sleep 1
seen=$(lab_ssh 172.29.0.21 "$app_redis -h 10.0.0.2 GET app:lab-probe")
echo "the standby's replica has the key app1 set on the primary: $seen"
[ "$seen" = "$token" ]

echo "--- MinIO: an object app1 puts on site A over the VPN is served by site B"
# curl signs S3 requests itself (SigV4); the payload's hash goes in a header it then signs too.
s3="curl -sS --fail --aws-sigv4 aws:amz:us-east-1:s3 --user app:lab-app-secret-key"
payload_hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
lab_ssh 172.29.0.21 "$s3 -X PUT -H 'x-amz-content-sha256: $payload_hash' --data-binary $token \
  http://10.0.0.1:9000/app-files/lab-probe" >/dev/null
seen=$(lab_ssh 172.29.0.21 "for try in \$(seq 50); do $s3 http://10.0.0.2:9000/app-files/lab-probe 2>/dev/null && break; sleep 0.2; done")
echo "site B serves the object app1 put on site A: $seen"
[ "$seen" = "$token" ]

echo "--- pgBackRest: one version on the database hosts and the repository host, which alone reads the repository"
versions=$(for address in 172.29.0.11 172.29.0.12 172.29.0.30; do lab_ssh "$address" "pgbackrest version"; done | sort -u)
echo "pgBackRest on the primary, the standby and the nas: ${versions//$'\n'/, }"
[ "$(grep -c . <<<"$versions")" = 1 ]
repository=$(lab_ssh 172.29.0.30 "sudo stat -c '%U:%G %a' /data /data/pgbackrest; \
  sudo -u nobody ls /data/pgbackrest 2>&1 >/dev/null | grep -c 'Permission denied'")
echo "the nas's /data and repository (owner, mode), and another user's listing refused: ${repository//$'\n'/, }"
[ "$repository" = "root:root 755"$'\n'"pgbackrest:pgbackrest 750"$'\n'"1" ]

echo "--- pgBackRest's TLS port: open between the database hosts and the nas, dropped for app1"
# open: the server answers; refused: nothing listens; dropped: the firewall drops it (no answer within 3 s).
port_state() {
  lab_ssh "$1" "timeout 3 bash -c 'exec 3<>/dev/tcp/$2/$3' 2>&1; echo rc=\$?" |
    awk '/refused/ {state="refused"} /^rc=124$/ {state="dropped"} /^rc=0$/ {state="open"} END {print state}'
}
states="primary>nas:$(port_state 172.29.0.11 10.0.0.20 8432) standby>nas:$(port_state 172.29.0.12 10.0.0.20 8432)"
states+=" nas>primary:$(port_state 172.29.0.30 10.0.0.1 8432) app1>nas:$(port_state 172.29.0.21 10.0.0.20 8432)"
states+=" app1>primary:$(port_state 172.29.0.21 10.0.0.1 8432)"
echo "$states"
[ "$states" = "primary>nas:open standby>nas:open nas>primary:open app1>nas:dropped app1>primary:dropped" ]

echo "--- pgBackRest: WAL the primary writes now reaches the nas, encrypted, over the TLS servers"
# check (as the repository's user) forces a WAL switch on the primary, which the repository host
# finds itself among the database hosts, and waits until that segment is in the repository.
lab_ssh 172.29.0.30 "sudo -u pgbackrest pgbackrest --stanza=main check" >/dev/null
segments=$(lab_ssh 172.29.0.30 "sudo find /data/pgbackrest/archive/main -name '0000*' -type f | wc -l")
salted=$(lab_ssh 172.29.0.30 "sudo find /data/pgbackrest/archive/main -name '0000*' -type f | head -1 | sudo xargs head -c 8")
echo "WAL segments in the nas's repository: $segments; the first bytes of one: $salted (OpenSSL's encryption header)"
[ "$segments" -ge 1 ] && [ "$salted" = Salted__ ]
settings=$(lab_ssh 172.29.0.11 "sudo -u postgres psql -XAtc \"SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
  FROM pg_settings WHERE name IN ('archive_mode', 'archive_timeout')\"")
echo "the primary's archiving: $settings"
[ "$settings" = "archive_mode=on archive_timeout=60" ]

echo "--- pgBackRest: the first full backup ran on its own; the timers are set; each job's result is in the metrics"
# The first run started the first full backup without waiting for it: wait here until it ends.
full=$(lab_ssh 172.29.0.30 "for try in \$(seq 150); do
    [ \"\$(systemctl show -p ActiveState --value pgbackrest-backup@full.service)\" = activating ] || break; sleep 2; done
  systemctl show -p Result --value pgbackrest-backup@full.service
  systemctl is-active pgbackrest-backup@full.timer pgbackrest-backup@diff.timer
  cat /var/lib/prometheus/node-exporter/pgbackrest-main-repo1-job-full.prom /var/lib/prometheus/node-exporter/pgbackrest-main.prom")
echo "the first full backup's result, the timers, the metrics:"
grep -v '^#' <<<"$full" | sed 's/^/  /'
[ "$(sed -n 1,3p <<<"$full" | tr '\n' ' ')" = "success active active " ]
grep -qx 'selfhost_pgbackrest_job_exit_status{stanza="main",repo="1",type="full"} 0' <<<"$full"
grep -qx 'selfhost_pgbackrest_backups{stanza="main",repo="1",type="full"} 1' <<<"$full"
grep -qx 'selfhost_pgbackrest_stanza_status{stanza="main"} 0' <<<"$full"
grep -Eq '^selfhost_pgbackrest_backup_last_success_timestamp_seconds\{stanza="main",repo="1",type="full"\} [0-9]{10}$' <<<"$full"

echo "--- pgBackRest: a differential backup as its timer starts it"
diff=$(lab_ssh 172.29.0.30 "sudo systemctl start pgbackrest-backup@diff.service && echo started;
  grep -h -e _exit_status -e 'backups{' /var/lib/prometheus/node-exporter/pgbackrest-main-repo1-job-diff.prom \
    /var/lib/prometheus/node-exporter/pgbackrest-main.prom")
echo "${diff//$'\n'/, }"
grep -qx started <<<"$diff"
grep -qx 'selfhost_pgbackrest_job_exit_status{stanza="main",repo="1",type="diff"} 0' <<<"$diff"
grep -qx 'selfhost_pgbackrest_backups{stanza="main",repo="1",type="diff"} 1' <<<"$diff"

echo "--- pgBackRest: a job that fails says so: a failed unit, an err line in the journal, its exit status in the metrics"
since=$(lab_ssh 172.29.0.30 "date '+%Y-%m-%d %H:%M:%S'")
failed=$(lab_ssh 172.29.0.30 "sudo systemctl start pgbackrest-backup@bogus.service 2>/dev/null && echo started || echo refused
  sleep 2; systemctl is-failed pgbackrest-backup@bogus.service
  sudo journalctl -q -t selfhost -p err --since '$since' | grep -c 'pgbackrest-backup@bogus.service FAILED'
  grep -h _exit_status /var/lib/prometheus/node-exporter/pgbackrest-main-repo1-job-bogus.prom")
echo "${failed//$'\n'/, }"
[ "$(sed -n 1,3p <<<"$failed" | tr '\n' ' ')" = "refused failed 1 " ]
grep -Eq '^selfhost_pgbackrest_job_exit_status\{stanza="main",repo="1",type="bogus"\} [1-9][0-9]*$' <<<"$failed"
