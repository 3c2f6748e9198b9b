#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, then runs every stage, timing each,
# and ends with one line "N passed, M failed". Exits non-zero when any stage fails.
#
# Usage: tests/run.sh [STAGE...]   stages: lint sanity unit molecule lab (default: all)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

passed=0 failed=0 report=()

# record NAME VERDICT SECONDS: adds a stage's result to the report.
record() {
  if [ "$2" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  echo "=== $1: $2 in ${3}s"
  report+=("$(printf '%-28s %-7s %5ss' "$1" "$2" "$3")")
}

# stage NAME COMMAND...: runs one check and records its result and duration.
stage() {
  local name=$1 start verdict=passed
  shift
  echo
  echo "=== $name"
  start=$(date +%s)
  "$@" || verdict=FAILED
  record "$name" "$verdict" $(($(date +%s) - start))
}

# parallel_stages JOBS NAME=COMMAND...: runs the stages JOBS at a time, each with its output in a
# log; then prints each log and records each result in the order given. The molecule scenarios
# and the lab each have their own containers and Docker network, so they can run side by side.
parallel_stages() {
  local jobs=$1 logs entry name index=0
  shift
  logs=$(mktemp -d /tmp/selfhost-stages.XXXXXX)
  for entry in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    (
      start=$(date +%s) verdict=passed
      bash -c "${entry#*=}" >"$logs/$index.log" 2>&1 || verdict=FAILED
      echo "$verdict $(($(date +%s) - start))" >"$logs/$index.result"
    ) &
    index=$((index + 1))
  done
  wait
  index=0
  for entry in "$@"; do
    name=${entry%%=*}
    echo
    echo "=== $name"
    cat "$logs/$index.log"
    # shellcheck disable=SC2046 # verdict and seconds, as the job wrote them
    record "$name" $(cat "$logs/$index.result")
    index=$((index + 1))
  done
  rm -rf "$logs"
}

lint_yaml() { yamllint --strict .; }
lint_ansible() { ansible-lint --profile production; }
lint_changelog() { antsibull-changelog lint; }

# The artifact must build and carry roles, plugins and playbooks, but none of the tests.
build_collection() {
  local out=.cache/build
  rm -rf "$out" && mkdir -p "$out"
  ansible-galaxy collection build --force --output-path "$out" >/dev/null || return 1
  local artifact=("$out"/selfhost-stack-*.tar.gz)
  tar -tzf "${artifact[0]}" >"$out/contents"
  local unwanted
  unwanted=$(grep -E '^(tests|molecule|\.ci|\.config|\.venv|\.lab|\.collections|inventories/lab)/' "$out/contents")
  [ -z "$unwanted" ] || { echo "the artifact carries test files: $unwanted"; return 1; }
  local wanted
  for wanted in roles/preflight/tasks/main.yml plugins/filter/topology.py playbooks/site.yml; do
    grep -qx "$wanted" "$out/contents" || { echo "the artifact lacks $wanted"; return 1; }
  done
  echo "built ${artifact[0]} ($(wc -l <"$out/contents") files)"
}

# ansible-test needs the collection at .../ansible_collections/selfhost/stack, outside any
# hidden directory: a copy of the files git knows (tracked and new), as they are in the work tree.
sanity() {
  local work root pip_version cache=~/.ansible/test/cache status
  pip_version=$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" .venv/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
  if [ ! -f "$cache/get_pip_${pip_version//./_}.py" ]; then
    pip download -q --no-deps -d "$cache" "pip==$pip_version" || return 1
    cp tests/sanity/get_pip.py "$cache/get_pip_${pip_version//./_}.py"
  fi
  work=$(mktemp -d /tmp/selfhost-sanity.XXXXXX)
  root=$work/ansible_collections/selfhost/stack
  mkdir -p "$root"
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$root"
  (cd "$root" && ansible-test sanity --color no --requirements --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')")
  status=$?
  rm -rf "$work"
  return $status
}

# Each unit test is mostly its own ansible-playbook process, so they run side by side.
unit() { pytest -q -n "${SELFHOST_TEST_JOBS:-2}" tests/unit; }

# The lab and the scenarios, two at a time (SELFHOST_TEST_JOBS), on images built once first; the
# lab, the longest, starts first.
containers() {
  local entries=() dir
  [ "$2" = lab ] && entries+=("lab=tests/lab/check.sh")
  if [ "$1" = molecule ]; then
    for dir in molecule/*/molecule.yml; do
      dir=$(dirname "$dir")
      entries+=("molecule $(basename "$dir")=molecule test --scenario-name $(basename "$dir")")
    done
  fi
  tests/lab/image/build.sh bookworm trixie || { record "lab images" FAILED 0; return; }
  parallel_stages "${SELFHOST_TEST_JOBS:-2}" "${entries[@]}"
}

run_stage_group() {
  case $1 in
    lint) stage yamllint lint_yaml; stage ansible-lint lint_ansible; stage changelog lint_changelog; stage build build_collection ;;
    sanity) stage ansible-test-sanity sanity ;;
    unit) stage unit unit ;;
    molecule | lab) ;;  # run together by containers, below
    *) echo "unknown stage $1 (lint sanity unit molecule lab)"; exit 2 ;;
  esac
}

stage setup tests/setup.sh
if [ "$failed" -gt 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(lint sanity unit molecule lab)
for group in "${groups[@]}"; do run_stage_group "$group"; done
wants() { [[ " ${groups[*]} " == *" $1 "* ]] && echo "$1"; }
if [ -n "$(wants molecule)$(wants lab)" ]; then containers "$(wants molecule)" "$(wants lab)"; fi

echo
printf '%s\n' "${report[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
