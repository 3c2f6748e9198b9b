#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads what a host has installed and running, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Read the packages a host has installed, the systemd units it runs, its time zone and locales
description:
  - Returns the Debian packages installed on the host (C(dpkg-query)), which systemd services,
    timers and sockets are active, enabled, or both (C(systemctl show)), the time zone and the
    generated locales, in one module run, so that the roles skip an apt call, a call that
    starts, stops, enables or disables a unit, or a time zone or locale call, that would change
    nothing.
  - Given paths, also returns their SHA-256 checksums, and given patterns, the paths they match,
    so that a role compares an installed file with its artifact, or finds an installed version,
    in the same run; given login names, their accounts, so that a role changes only an account
    that differs.
  - Changes nothing; the lists are returned, not set as facts, so that no fact cache keeps them.
options:
  checksums:
    description: Files whose SHA-256 checksum to return.
    type: list
    elements: path
    default: []
  globs:
    description: Shell patterns (C(*), C(?), C([...])) whose matching paths to return.
    type: list
    elements: str
    default: []
  users:
    description: Login names whose accounts to return, those that exist.
    type: list
    elements: str
    default: []
  commands:
    description:
      - Read-only commands to run, by a name of the caller's, each as a list of arguments (no
        shell unless one is asked for); their exit status and output are returned. They run in
        check mode too, so they must change nothing.
    type: dict
    default: {}
  installed:
    description:
      - Whether to read the packages, units, time zone and locales. V(false) for a read of
        paths, checksums or accounts only, where those four are returned empty; it runs no
        command.
    type: bool
    default: true
extends_documentation_fragment:
  - selfhost.stack.read_only
"""

EXAMPLES = r"""
- name: Read what the host has installed and running
  selfhost.stack.host_state:
  register: host_state

- name: Start chrony unless it runs and starts at boot already
  ansible.builtin.systemd_service:
    name: chrony
    state: started
    enabled: true
  when: "'chrony.service' not in host_state.running"
"""

RETURN = r"""
packages:
  description: The names of the installed packages (held ones too); empty with O(installed=false).
  returned: always
  type: list
  elements: str
  sample: [chrony, openssh-server]
running:
  description:
    - The services, timers and sockets that are active and enabled, by their full unit name. A
      template's instance is listed under its own name, such as C(postgresql@15-main.service).
    - Empty on a host not booted with systemd, such as a build container, where no unit runs,
      and with O(installed=false), as are RV(active), RV(enabled), RV(timezone) and RV(locales).
  returned: always
  type: list
  elements: str
  sample: [chrony.service, ssh.service, pgbackrest-backup@full.timer]
active:
  description: The services, timers and sockets that are active, enabled or not; empty without systemd.
  returned: always
  type: list
  elements: str
  sample: [chrony.service, dbus.service, ssh.service, pgbackrest-backup@full.timer]
enabled:
  description:
    - The services, timers and sockets enabled to start at boot, active or not (a template's
      instances by their own names when systemd has them loaded); empty without systemd.
    - A unit in neither RV(active) nor RV(enabled) is stopped and disabled, or not installed.
  returned: always
  type: list
  elements: str
  sample: [chrony.service, redis-server.service, ssh.service, pgbackrest-backup@full.timer]
timezone:
  description: The time zone C(/etc/localtime) links to, such as C(Etc/UTC); empty when it is no link into the zone files.
  returned: always
  type: str
  sample: Europe/Berlin
checksums:
  description: Each path of O(checksums) and its SHA-256 checksum in hexadecimal, empty when it is no readable file.
  returned: always
  type: dict
  sample: {/usr/local/bin/minio: 3f7b0e8a5c1d2e4f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}
globs:
  description: Each pattern of O(globs) and the paths it matches, sorted; an empty list when none.
  returned: always
  type: dict
  sample: {/opt/venv/lib/python3*/site-packages/minio-*.dist-info: [/opt/venv/lib/python3.11/site-packages/minio-7.2.20.dist-info]}
users:
  description:
    - Each user of O(users) that exists, with its home, shell, primary group, the other groups it
      is in, and whether its password is locked (C(!) in C(/etc/shadow); null where that file
      cannot be read).
  returned: always
  type: dict
  sample: {admin: {home: /home/admin, shell: /bin/bash, group: admin, groups: [sudo], locked: true}}
commands:
  description: Each name of O(commands) with its command's exit status (C(rc)) and output (C(stdout)).
  returned: always
  type: dict
  sample: {ssh_algorithms: {rc: 0, stdout: "[kex]\ncurve25519-sha256\n"}}
locales:
  description: The locales generated on the host, as C(locale -a) names them (C(en_US.utf8)); empty without C(locale).
  returned: always
  type: list
  elements: str
  sample: [C, C.utf8, en_US.utf8, POSIX]
"""

import glob
import grp
import hashlib
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

DPKG_QUERY = ["dpkg-query", "--show", "--showformat=${db:Status-Abbrev} ${Package}\\n"]
# systemd's own test of whether it is the init system (sd_booted).
SYSTEMD_BOOTED = "/run/systemd/system"
SHADOW = "/etc/shadow"
UNIT_PATTERNS = ["*.service", "*.timer", "*.socket"]
# show's patterns match the units systemd has loaded: an active unit always is, and a template's
# instance is only named there; an inactive unit may be unloaded, so the enabled unit files are
# listed too.
SYSTEMCTL_SHOW = ["systemctl", "show", "--property=Id,ActiveState,UnitFileState", "--"] + UNIT_PATTERNS
SYSTEMCTL_UNIT_FILES = (["systemctl", "list-unit-files", "--state=enabled", "--no-legend", "--no-pager", "--"]
                        + UNIT_PATTERNS)


def installed_packages(output):
    """The package names of dpkg-query's lines whose status's second letter is i (installed)."""
    names = []
    for line in output.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0][1:2] == "i":
            names.append(parts[1].strip())
    return names


def unit_states(output):
    """The units of systemctl show's blocks that are active, and those that are enabled."""
    active, enabled = [], []
    for block in output.split("\n\n"):
        properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if properties.get("ActiveState") == "active":
            active.append(properties["Id"])
        if properties.get("UnitFileState") == "enabled":
            enabled.append(properties["Id"])
    return sorted(active), sorted(enabled)


def enabled_unit_files(output):
    """The unit names of list-unit-files' lines (a template itself, such as x@.service, is no unit)."""
    return [line.split()[0] for line in output.splitlines() if line.strip() and "@." not in line.split()[0]]


def timezone(link="/etc/localtime"):
    """The zone /etc/localtime links to (relative to a zoneinfo directory), or ''."""
    try:
        target = os.readlink(link)
    except OSError:
        return ""
    _before, found, zone = target.partition("zoneinfo/")
    return zone if found else ""


def generated_locales(module):
    """locale -a's names, or [] where there is no locale command (a minimal image)."""
    locale = module.get_bin_path("locale")
    if not locale:
        return []
    rc, out, _err = module.run_command([locale, "-a"])
    return sorted(out.split()) if rc == 0 else []


def sha256(path):
    """The file's SHA-256 in hexadecimal, or '' when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def locked_passwords():
    """Each account of the shadow file and whether its password is locked, or None when unreadable."""
    try:
        with open(SHADOW, encoding="utf-8") as lines:
            return {fields[0]: fields[1].startswith("!")
                    for fields in (line.split(":") for line in lines) if len(fields) > 1}
    except OSError:
        return None


def accounts(names):
    """The accounts of names that exist: home, shell, primary group, other groups, locked."""
    wanted = [name for name in dict.fromkeys(names) if name]
    found = {}
    for name in wanted:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        try:
            primary = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            primary = str(entry.pw_gid)
        found[name] = {"home": entry.pw_dir, "shell": entry.pw_shell, "group": primary, "groups": [], "locked": None}
    if not found:
        return found
    for group in grp.getgrall():
        for member in group.gr_mem:
            if member in found:
                found[member]["groups"].append(group.gr_name)
    locked = locked_passwords()
    for name, account in found.items():
        account["groups"].sort()
        account["locked"] = None if locked is None else locked.get(name, False)
    return found


def command_output(module, command):
    rc, out, err = module.run_command([module.get_bin_path(command[0], required=True)] + command[1:])
    if rc != 0:
        module.fail_json(msg=f"{command[0]} failed: {err.strip()}")
    return out


def command_result(module, name, argv):
    """The exit status and output of one read-only command of O(commands)."""
    if not isinstance(argv, list) or not argv or not all(isinstance(part, str) for part in argv):
        module.fail_json(msg=f"commands.{name}: a list of arguments, such as [ssh, -Q, kex]")
    rc, out, _err = module.run_command(argv)
    return {"rc": rc, "stdout": out}


def main():
    module = AnsibleModule(
        argument_spec={"checksums": {"type": "list", "elements": "path", "default": []},
                       "globs": {"type": "list", "elements": "str", "default": []},
                       "users": {"type": "list", "elements": "str", "default": []},
                       "commands": {"type": "dict", "default": {}},
                       "installed": {"type": "bool", "default": True}},
        supports_check_mode=True,
    )
    packages, active, enabled, zone, locales = [], [], [], "", []
    if module.params["installed"]:
        packages = installed_packages(command_output(module, DPKG_QUERY))
        # Without systemd as init no unit runs, and systemctl could not say so: it fails outright.
        if os.path.isdir(SYSTEMD_BOOTED):
            active, enabled = unit_states(command_output(module, SYSTEMCTL_SHOW))
            enabled = sorted(set(enabled) | set(enabled_unit_files(command_output(module, SYSTEMCTL_UNIT_FILES))))
        zone, locales = timezone(), generated_locales(module)
    module.exit_json(changed=False, packages=packages, running=sorted(set(active) & set(enabled)),
                     active=active, enabled=enabled, timezone=zone, locales=locales,
                     checksums={path: sha256(path) for path in module.params["checksums"]},
                     globs={pattern: sorted(glob.glob(pattern)) for pattern in module.params["globs"]},
                     users=accounts(module.params["users"]),
                     commands={name: command_result(module, name, argv) for name, argv in module.params["commands"].items()})


if __name__ == "__main__":
    main()
