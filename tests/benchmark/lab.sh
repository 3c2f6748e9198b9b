#!/usr/bin/env bash
# Benchmark of playbooks/site.yml on the lab (not a test: it reports numbers and asserts nothing):
#   - the full converge of hosts made fresh from the images, with an empty fact cache;
#   - the no-change run, three times: each wall time and the median;
#   - for each host, on a no-change run: the tasks it ran (ok in the recap, so neither the skipped
#     ones nor those of hosts it is not in) and the modules that ran on it (one SSH round trip
#     each, counted in a fourth run's -vvv output), and the ten slowest tasks.
# Usage: tests/benchmark/lab.sh   (make benchmark); removes the lab at exit.
set -euo pipefail
cd "$(dirname "$0")/../.." || exit
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
trap 'make --no-print-directory lab-destroy >/dev/null' EXIT
seconds() { python3 -c 'import time; print(f"{time.time():.1f}")'; }
site() { ansible-playbook -i inventories/lab playbooks/site.yml "$@"; }
log=/tmp/selfhost-bench-lab

echo "--- fresh lab hosts, an empty fact cache"
make --no-print-directory lab-destroy >/dev/null
ansible-playbook -i inventories/lab tests/lab/up.yml >/dev/null
rm -rf .cache/facts
start=$(seconds)
site >"$log-converge.log"
echo "full converge: $(python3 -c "print(f'{$(seconds) - $start:.1f}')") s"

echo "--- the no-change run, three times"
times=()
for run in 1 2 3; do
  start=$(seconds)
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=10 site >"$log-nochange-$run.log"
  times+=("$(python3 -c "print(f'{$(seconds) - $start:.1f}')")")
  if grep -Eq '(changed|unreachable|failed)=[1-9]' <(sed -n '/^PLAY RECAP/,/^$/p' "$log-nochange-$run.log"); then
    echo "run $run changed something: see $log-nochange-$run.log"
  fi
done
echo "no-change runs: ${times[*]} s; median $(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) s"

echo "--- per host, on a no-change run: tasks run, and modules run on the host (SSH round trips)"
site -vvv >"$log-nochange-vvv.log" 2>&1
sed -n '/^PLAY RECAP/,/^$/p' "$log-nochange-1.log" | grep ' : ok=' | while read -r host _ ok _; do
  address=$(ansible-inventory -i inventories/lab --host "$host" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ansible_host"])')
  # With pipelining, a module is one `python3 && sleep 0` over SSH (quoted once more under become).
  modules=$(grep -c "^<$address> SSH: EXEC ssh .*python3.*&& sleep 0" "$log-nochange-vvv.log" || true)
  printf '  %-8s tasks run %4s, modules run on the host %4s\n' "$host" "${ok#ok=}" "$modules"
done
echo "the ten slowest tasks of the first no-change run:"
sed -n '/^=====/,$p' "$log-nochange-1.log" | grep -E ' -+ [0-9.]+s$' | head -10 | sed 's/^/  /'
