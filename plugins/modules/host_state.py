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
short_description: Read the packages a host has installed and the systemd units it runs
description:
  - Returns the Debian packages installed on the host (C(dpkg-query)) and the systemd services
    and timers that are both active and enabled (C(systemctl show)), in one module run, so that
    the roles skip an apt call or a start-and-enable call that would change nothing.
  - Changes nothing; the lists are returned, not set as facts, so that no fact cache keeps them.
options: {}
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
  description: The names of the installed packages (held ones too).
  returned: always
  type: list
  elements: str
  sample: [chrony, openssh-server]
running:
  description:
    - The services and timers that are active and enabled, by their full unit name. A template's
      instance is listed under its own name, such as C(postgresql@15-main.service).
    - Empty on a host not booted with systemd, such as a build container, where no unit runs.
  returned: always
  type: list
  elements: str
  sample: [chrony.service, ssh.service, pgbackrest-backup@full.timer]
"""

import os

from ansible.module_utils.basic import AnsibleModule

DPKG_QUERY = ["dpkg-query", "--show", "--showformat=${db:Status-Abbrev} ${Package}\\n"]
# Patterns match the units systemd has loaded: an enabled or active unit always is.
# systemd's own test of whether it is the init system (sd_booted).
SYSTEMD_BOOTED = "/run/systemd/system"
SYSTEMCTL_SHOW = ["systemctl", "show", "--property=Id,ActiveState,UnitFileState", "--", "*.service", "*.timer"]


def installed_packages(output):
    """The package names of dpkg-query's lines whose status's second letter is i (installed)."""
    names = []
    for line in output.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0][1:2] == "i":
            names.append(parts[1].strip())
    return names


def running_units(output):
    """The units of systemctl show's blocks that are active and enabled."""
    units = []
    for block in output.split("\n\n"):
        properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if properties.get("ActiveState") == "active" and properties.get("UnitFileState") == "enabled":
            units.append(properties["Id"])
    return sorted(units)


def command_output(module, command):
    rc, out, err = module.run_command([module.get_bin_path(command[0], required=True)] + command[1:])
    if rc != 0:
        module.fail_json(msg=f"{command[0]} failed: {err.strip()}")
    return out


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    packages = installed_packages(command_output(module, DPKG_QUERY))
    # Without systemd as init no unit runs, and systemctl could not say so: it fails outright.
    running = running_units(command_output(module, SYSTEMCTL_SHOW)) if os.path.isdir(SYSTEMD_BOOTED) else []
    module.exit_json(changed=False, packages=packages, running=running)


if __name__ == "__main__":
    main()
