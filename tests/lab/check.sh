#!/usr/bin/env bash
# The lab end to end, as a user runs it: `make lab`; then a second site.yml run must change
# nothing, and every host must answer over plain SSH with systemd running; `make lab-destroy`
# at the end, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'make --no-print-directory lab-destroy >/dev/null' EXIT

make --no-print-directory lab

echo "--- second site.yml run: must change nothing"
recap=$(ansible-playbook -i inventories/lab playbooks/site.yml | sed -n '/^PLAY RECAP/,$p')
echo "$recap"
if grep -Eq '(changed|unreachable|failed)=[1-9]' <<<"$recap"; then
  echo "the second run was not a no-op"
  exit 1
fi

echo "--- every lab host over SSH: systemd running, the firewall active, every VPN address answering"
hosts=$(ansible-inventory -i inventories/lab --list |
  python3 -c 'import json, sys
for host, hostvars in sorted(json.load(sys.stdin)["_meta"]["hostvars"].items()):
    print(host, hostvars["ansible_host"], hostvars["wireguard_address"])')
vpn_addresses=$(awk '{printf "%s ", $3}' <<<"$hosts")
while read -r host address _; do
  report=$(ssh -n -i .lab/id_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "admin@$address" \
    "systemctl is-system-running; sudo ufw status | head -1; for vpn in $vpn_addresses; do
       ping -c1 -w5 \$vpn >/dev/null && echo \$vpn answers || echo \$vpn is silent; done")
  echo "$host ($address): ${report//$'\n'/, }"
  [ "$(sed -n 1p <<<"$report")" = running ]
  [ "$(sed -n 2p <<<"$report")" = "Status: active" ]
  if grep -q silent <<<"$report"; then exit 1; fi
done <<<"$hosts"
