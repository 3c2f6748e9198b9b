# Sourced by the benchmarks: each measures on the instances of one molecule scenario.
# scenario_instances NAME starts them from scratch (molecule destroy, create, converge), removes
# them when the benchmark exits, and sets `inventory` to the scenario's; play runs a playbook
# against it, seconds prints the time.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

scenario_instances() {
  # shellcheck disable=SC2064  # the scenario's name is known now
  trap "molecule destroy -s $1 >/dev/null 2>&1" EXIT
  echo "--- preparing the scenario's instances (molecule create, converge)"
  molecule destroy -s "$1" >/dev/null 2>&1 || true
  molecule create -s "$1" >/dev/null
  molecule converge -s "$1" >/dev/null
  # Molecule keeps one state directory per checkout and scenario; the one just converged is the
  # newest (another checkout's, a fresh clone's for instance, may be there too).
  inventory=$(find ~/.ansible/tmp -maxdepth 2 -path "*.$1/inventory" -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)
}
play() { ansible-playbook -i "$inventory" "$@"; }
seconds() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
