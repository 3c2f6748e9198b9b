#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a WireGuard private key on the host and returns only its public key."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_key
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Make a WireGuard private key on the host and return its public key
description:
  - Generates a private key with C(wg genkey) when none exists at O(path), writes it with
    mode 0600 (owner root), and returns the public key. The private key never leaves the
    host and is never returned.
  - An existing key is kept, whatever its age, so the tunnel's identity is stable. A file that
    is not a WireGuard private key is refused rather than replaced.
options:
  path:
    description: The private key file.
    type: path
    required: true
attributes:
  check_mode:
    description: Writes nothing; a key that does not exist yet has an empty public key.
    support: full
  diff_mode:
    description: Key files have no diff to show.
    support: none
requirements:
  - wireguard-tools (C(wg))
"""

EXAMPLES = r"""
- name: Make the interface's key
  selfhost.stack.wireguard_key:
    path: /etc/wireguard/wg0.key
  register: key

- name: Share the public key with the other hosts
  ansible.builtin.set_fact:
    wireguard_public_key: "{{ key.public_key }}"
"""

RETURN = r"""
public_key:
  description: The public key; empty in check mode when the key does not exist yet.
  returned: always
  type: str
  sample: y+U2xqk6X/SocqKPx8lTSpqBzVpyCTgxZs9ekNHxNBE=
"""

import base64
import binascii
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils.files import atomic_write


def is_key(text):
    """True when text is a WireGuard key: 32 bytes in base64."""
    try:
        return len(base64.b64decode(text.strip(), validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True)), supports_check_mode=True)
    path = module.params["path"]
    wg = module.get_bin_path("wg", required=True)
    changed = False

    if os.path.exists(path):
        with open(path, encoding="ascii", errors="replace") as handle:
            private = handle.read()
        if not is_key(private):
            module.fail_json(msg=f"{path} exists but is not a WireGuard private key; move it away to make a new one")
        info = os.stat(path)
        if stat.S_IMODE(info.st_mode) != 0o600 or info.st_uid != 0:
            changed = True
            if not module.check_mode:
                os.chown(path, 0, 0)
                os.chmod(path, 0o600)
    else:
        changed = True
        if module.check_mode:
            module.exit_json(changed=True, public_key="")
        if not os.path.isdir(os.path.dirname(path)):
            module.fail_json(msg=f"the directory of {path} does not exist")
        rc, private, err = module.run_command([wg, "genkey"])
        if rc != 0 or not is_key(private):
            module.fail_json(msg=f"wg genkey failed: {err.strip()}")
        atomic_write(path, private.strip() + "\n", 0o600)

    rc, public, err = module.run_command([wg, "pubkey"], data=private.strip())
    if rc != 0 or not is_key(public):
        module.fail_json(msg=f"wg pubkey failed: {err.strip()}")
    module.exit_json(changed=changed, public_key=public.strip())


if __name__ == "__main__":
    main()
