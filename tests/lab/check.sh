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

echo "--- every lab host over SSH"
ansible-inventory -i inventories/lab --list |
  python3 -c 'import json, sys
for host, hostvars in sorted(json.load(sys.stdin)["_meta"]["hostvars"].items()):
    print(host, hostvars["ansible_host"])' |
  while read -r host address; do
    state=$(ssh -n -i .lab/id_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "admin@$address" systemctl is-system-running)
    echo "$host ($address): systemd $state"
    [ "$state" = running ]
  done
