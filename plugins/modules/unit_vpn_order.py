#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orders a systemd unit after the WireGuard tunnel it listens on, with a drop-in of its own."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: unit_vpn_order
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Start a systemd unit after the VPN it listens on
description:
  - A service that binds an address of a WireGuard tunnel fails at boot when it starts before
    the tunnel is up. This writes the drop-in C(selfhost-after-vpn.conf) of O(unit), with
    C(Wants=) and C(After=) naming O(vpn_unit), creating the drop-in directory when needed.
  - With an empty O(vpn_unit) (the host left the VPN, or the service listens on an address of
    its own) the drop-in is removed, so that the unit no longer pulls a tunnel in.
  - It never reloads systemd; notify a handler that does when it reports a change.
options:
  unit:
    description: The unit to order, such as C(redis-server.service); a name without a suffix is a service.
    type: str
    required: true
  vpn_unit:
    description: The tunnel's unit, such as C(wg-quick@wg0.service); empty to remove the drop-in.
    type: str
    required: true
attributes:
  check_mode:
    description: Reports what it would change and changes nothing.
    support: full
  diff_mode:
    description: The drop-in before and after.
    support: full
"""

EXAMPLES = r"""
- name: Start redis-server after the VPN it listens on
  selfhost.stack.unit_vpn_order:
    unit: redis-server.service
    vpn_unit: wg-quick@wg0.service
  notify: Reload systemd
"""

RETURN = r"""
path:
  description: The drop-in's path.
  returned: always
  type: str
  sample: /etc/systemd/system/redis-server.service.d/selfhost-after-vpn.conf
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils.files import atomic_write

SYSTEMD_DIR = "/etc/systemd/system"
DROPIN = "selfhost-after-vpn.conf"
UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")
UNIT_SUFFIXES = (".service", ".socket", ".mount", ".target", ".timer", ".path")


def unit_name(module, option):
    """The unit of `option`, with .service added to a bare name; fails on a name systemd refuses."""
    name = module.params[option]
    if name and not UNIT_NAME.match(name):
        module.fail_json(msg=f"{option}: {name!r} is not a systemd unit name")
    return name if not name or name.endswith(UNIT_SUFFIXES) else name + ".service"


def dropin(vpn_unit):
    """The drop-in's text."""
    return (f"# Managed by selfhost.stack: listens on an address of {vpn_unit}.\n"
            f"[Unit]\nWants={vpn_unit}\nAfter={vpn_unit}\n")


def main():
    module = AnsibleModule(
        argument_spec=dict(unit=dict(type="str", required=True), vpn_unit=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    unit = unit_name(module, "unit")
    if not unit:
        module.fail_json(msg="unit: a unit name is required")
    vpn_unit = unit_name(module, "vpn_unit")
    path = os.path.join(SYSTEMD_DIR, unit + ".d", DROPIN)

    before = None
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            before = handle.read()
    after = dropin(vpn_unit) if vpn_unit else None
    mode_wrong = before is not None and after is not None and (os.stat(path).st_mode & 0o7777) != 0o644
    changed = before != after or mode_wrong

    if changed and not module.check_mode:
        if after is None:
            os.unlink(path)
        else:
            atomic_write(path, after, 0o644)
    diff = {"before": before or "", "after": after or "", "before_header": path, "after_header": path}
    module.exit_json(changed=changed, path=path, diff=diff if changed else {})


if __name__ == "__main__":
    main()
