#!/usr/bin/env bash
# Makes sure a Docker engine answers. Where none runs and this is root on Debian, it installs
# Debian's docker.io and starts dockerd (through systemd when systemd runs the machine);
# otherwise it says what to do and fails.
set -euo pipefail

docker info >/dev/null 2>&1 && exit 0

if [ "$(id -u)" != 0 ] || ! grep -qsi '^ID=debian' /etc/os-release; then
  cat >&2 <<'TXT'
No Docker engine answers `docker info`. Start one (sudo systemctl start docker), or add your
user to the docker group, or run this as root on Debian to have Debian's docker.io installed
and started.
TXT
  exit 1
fi

if ! command -v dockerd >/dev/null; then
  echo "installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
if [ -d /run/systemd/system ]; then
  systemctl start docker
else
  echo "starting dockerd (log: /var/log/selfhost-dockerd.log)"
  nohup dockerd >/var/log/selfhost-dockerd.log 2>&1 &
fi
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not answer within 60 s; see /var/log/selfhost-dockerd.log" >&2
exit 1
