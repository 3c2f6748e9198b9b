#!/usr/bin/env bash
# Builds the lab images selfhost-lab:<suite> from Debian's packages with debootstrap: systemd as
# PID 1, python3, sudo, openssh-server and the admin user (uid 1000, passwordless sudo, no key:
# the lab hands its key to each container when it starts it). Nothing comes from a registry.
#
# An image is rebuilt only when this recipe changes: its sha256 is stored in the image as the
# SELFHOST_LAB_RECIPE environment variable and compared before building.
#
# Usage: build.sh SUITE...   (bookworm, trixie)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
recipe=$(cat "$here/build.sh" "$here"/rootfs/* | sha256sum | cut -c1-16)
mirror=${SELFHOST_LAB_MIRROR:-http://deb.debian.org/debian}
packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,openssh-server,iproute2,iputils-ping,procps,ca-certificates,netbase,less

current_recipe() {
  docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "selfhost-lab:$1" 2>/dev/null \
    | sed -n 's/^SELFHOST_LAB_RECIPE=//p'
}

build() {
  local suite=$1 root log
  root=$(mktemp -d /var/tmp/selfhost-lab-"$suite".XXXXXX)
  log=$root.log
  trap 'rm -rf "$root" "$log"' RETURN
  if ! configure "$suite" "$root" >"$log" 2>&1; then
    echo "building selfhost-lab:$suite failed; the end of its log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  tar -C "$root" --numeric-owner -c . | docker import \
    --change 'CMD ["/sbin/init"]' --change 'ENV container=docker' \
    --change "ENV SELFHOST_LAB_RECIPE=$recipe" - "selfhost-lab:$suite" >/dev/null
  echo "built selfhost-lab:$suite (recipe $recipe)"
}

configure() {
  local suite=$1 root=$2
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror"
  # A server's usual sources: the release, its updates and its security archive.
  rm -f "$root/etc/apt/sources.list"
  sed -e "s|@MIRROR@|$mirror|" -e "s|@SUITE@|$suite|g" "$here/rootfs/debian.sources" \
    >"$root/etc/apt/sources.list.d/debian.sources"
  install -m 0644 "$here/rootfs/lab-ssh-host-keys.service" "$root/etc/systemd/system/"
  install -m 0440 "$here/rootfs/sudoers-admin" "$root/etc/sudoers.d/admin"
  chroot "$root" /bin/sh -e -c '
    useradd --create-home --uid 1000 --shell /bin/bash --groups sudo admin
    install -d -m 0700 -o admin -g admin /home/admin/.ssh
    systemctl enable lab-ssh-host-keys.service ssh.service
    # Every container gets its own identity at first boot.
    rm -f /etc/ssh/ssh_host_* /var/lib/dbus/machine-id
    : > /etc/machine-id
    # Package lists stay, as on a cloud image: roles refresh them when they are old.
    apt-get update -qq
    apt-get clean
    rm -f /var/log/*.log
  '
}

[ $# -gt 0 ] || { echo "usage: $0 SUITE..." >&2; exit 2; }
pids=()
for suite in "$@"; do
  if [ "$(current_recipe "$suite")" = "$recipe" ]; then
    echo "selfhost-lab:$suite is up to date (recipe $recipe)"
  else
    build "$suite" & pids+=($!)
  fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
