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

# stage NAME COMMAND...: runs one check and records its result and duration.
stage() {
  local name=$1 start seconds verdict
  shift
  echo
  echo "=== $name"
  start=$(date +%s)
  if "$@"; then verdict=passed; passed=$((passed + 1)); else verdict=FAILED; failed=$((failed + 1)); fi
  seconds=$(($(date +%s) - start))
  echo "=== $name: $verdict in ${seconds}s"
  report+=("$(printf '%-28s %-7s %5ss' "$name" "$verdict" "$seconds")")
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

unit() { pytest -q tests/unit; }

molecule_scenario() { molecule test --scenario-name "$1"; }

run_stage_group() {
  case $1 in
    lint) stage yamllint lint_yaml; stage ansible-lint lint_ansible; stage changelog lint_changelog; stage build build_collection ;;
    sanity) stage ansible-test-sanity sanity ;;
    unit) stage unit unit ;;
    molecule)
      for dir in molecule/*/molecule.yml; do
        dir=$(dirname "$dir")
        stage "molecule $(basename "$dir")" molecule_scenario "$(basename "$dir")"
      done ;;
    lab) stage lab tests/lab/check.sh ;;
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

echo
printf '%s\n' "${report[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
