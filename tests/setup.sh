#!/usr/bin/env bash
# Installs what the README's commands need, on a fresh Debian machine as root, and is a quick
# no-op once done: Debian packages (debootstrap, ssh client, venv), a Docker engine, the
# virtualenv .venv with requirements.txt and requirements-test.txt, the link that makes this
# checkout resolve as the selfhost.stack collection, and the MinIO artifacts the lab and the
# scenarios install (built with Go 1.24 or later: Debian 13's golang-go, or a newer Go on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "missing: $*; install them (as root: apt-get install $*)" >&2
    exit 1
  fi
}

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v git >/dev/null || missing+=(git)
command -v shellcheck >/dev/null || missing+=(shellcheck)
# MinIO is built from source (tests/artifacts/minio.sh), which needs Go 1.24 or later.
go_new_enough() { command -v go >/dev/null && go version | grep -qE 'go1\.(2[4-9]|[3-9][0-9])'; }
go_new_enough || missing+=(golang-go)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
go_new_enough || { echo "building MinIO needs Go 1.24 or later; $(go version 2>&1) is too old" >&2; exit 1; }

tests/lab/ensure-docker.sh

# The virtualenv is reinstalled only when a requirements file changes.
wanted=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements 2>/dev/null)" != "$wanted" ]; then
  echo "installing the Python requirements into .venv"
  # Debian's own python3 needs python3-venv for this.
  python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt -r requirements-test.txt
  echo "$wanted" >.venv/.requirements
fi

# selfhost.stack resolves to this checkout (ansible.cfg lists .collections first).
mkdir -p .collections/ansible_collections/selfhost
ln -sfn ../../.. .collections/ansible_collections/selfhost/stack

# What no site publishes: the MinIO server, built once, and its Python client's wheel (cached).
tests/artifacts/minio.sh server >/dev/null
tests/artifacts/minio.sh client >/dev/null
