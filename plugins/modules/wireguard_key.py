#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a WireGuard private key on the host and returns only its public key, with what the host
kept of its peers and the interface's live addresses: the role's reads in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_key
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Make a WireGuard private key on the host and return its public key
description:
  - Generates a private key with C(wg genkey) when none exists at O(path), writes it with
    mode 0600 (owner root) in a directory that is root's alone (made, or given mode 0700, as
    needed), and returns the public key. The private key never leaves the host and is never
    returned.
  - An existing key is kept, whatever its age, so the tunnel's identity is stable. A file that
    is not a WireGuard private key is refused rather than replaced.
  - Also returns, in the same module run, the peers' public keys kept at O(peer_cache) and the
    live IPv4 addresses of O(interface), which role selfhost.stack.wireguard reads every run.
options:
  path:
    description: The private key file.
    type: path
    required: true
  peer_cache:
    description: A JSON object of peer names and public keys kept on an earlier run, returned as RV(kept_peers).
    type: path
  interface:
    description: A WireGuard interface whose live IPv4 addresses are returned as RV(addresses).
    type: str
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
kept_peers:
  description: The peers' public keys at O(peer_cache), by peer name; empty when there is no such file, or no O(peer_cache).
  returned: always
  type: dict
  sample: {standby: gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=}
addresses:
  description: The live IPv4 addresses of O(interface), with their prefix; empty when it does not exist, or no O(interface).
  returned: always
  type: list
  elements: str
  sample: [10.0.0.1/24]
"""

import base64
import binascii
import json
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


def keep_directory(module, directory):
    """Makes the key's directory root's alone (0700), or says it would; whether it changed it."""
    if os.path.isdir(directory):
        info = os.stat(directory)
        if stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == 0 and info.st_gid == 0:
            return False
        if not module.check_mode:
            os.chown(directory, 0, 0)
            os.chmod(directory, 0o700)
        return True
    if not module.check_mode:
        os.makedirs(directory, 0o700)
        os.chown(directory, 0, 0)
        os.chmod(directory, 0o700)
    return True


def kept_peers(module, path):
    """The peers' keys kept at path: {} when there is none, or it is not a JSON object (a warning)."""
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            peers = json.load(handle)
    except (OSError, ValueError) as error:
        module.warn(f"{path} is not readable JSON ({error}); the peers' keys come from this run only")
        return {}
    return peers if isinstance(peers, dict) else {}


def live_addresses(module, interface):
    """The interface's IPv4 addresses with their prefix, from ip(8); [] when it does not exist."""
    if not interface:
        return []
    rc, out, _err = module.run_command([module.get_bin_path("ip", required=True), "-4", "-o", "address", "show",
                                        "dev", interface])
    if rc != 0:
        return []
    words = out.split()
    return [words[index + 1] for index, word in enumerate(words[:-1]) if word == "inet"]


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True),
                                              peer_cache=dict(type="path"),
                                              interface=dict(type="str")),
                           supports_check_mode=True)
    path = module.params["path"]
    wg = module.get_bin_path("wg", required=True)
    reads = dict(kept_peers=kept_peers(module, module.params["peer_cache"]),
                 addresses=live_addresses(module, module.params["interface"]))
    changed = keep_directory(module, os.path.dirname(path))

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
            module.exit_json(changed=True, public_key="", **reads)
        rc, private, err = module.run_command([wg, "genkey"])
        if rc != 0 or not is_key(private):
            module.fail_json(msg=f"wg genkey failed: {err.strip()}")
        atomic_write(path, private.strip() + "\n", 0o600)

    rc, public, err = module.run_command([wg, "pubkey"], data=private.strip())
    if rc != 0 or not is_key(public):
        module.fail_json(msg=f"wg pubkey failed: {err.strip()}")
    module.exit_json(changed=changed, public_key=public.strip(), **reads)


if __name__ == "__main__":
    main()
