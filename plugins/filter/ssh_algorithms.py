# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choose sshd's algorithms from what the installed OpenSSH supports."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Strongest first. Only algorithms that ssh-audit neither fails nor warns about: no NIST
# curves, no SHA-1, no CBC, no encrypt-and-MAC, no group exchange (its moduli vary by host).
PREFERRED = {
    "kex": [
        "mlkem768x25519-sha256",
        "sntrup761x25519-sha512",
        "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group16-sha512",
    ],
    "cipher": [
        "chacha20-poly1305@openssh.com",
        "aes256-gcm@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-ctr",
        "aes192-ctr",
        "aes128-ctr",
    ],
    "mac": [
        "hmac-sha2-512-etm@openssh.com",
        "hmac-sha2-256-etm@openssh.com",
        "umac-128-etm@openssh.com",
    ],
    "hostkey": [
        "ssh-ed25519",
        "ssh-ed25519-cert-v01@openssh.com",
        "rsa-sha2-512",
        "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256",
        "rsa-sha2-256-cert-v01@openssh.com",
    ],
}
# `ssh -Q key-sig` lists the signature algorithms, which is what HostKeyAlgorithms takes.
_QUERY_OF = {"kex": "kex", "cipher": "cipher", "mac": "mac", "hostkey": "key-sig"}


def ssh_algorithms(supported_listing):
    """From `ssh -Q` output in [kex] [cipher] [mac] [key-sig] sections, the algorithms to use."""
    supported = {}
    section = None
    for line in str(supported_listing).splitlines():
        line = line.strip()
        header = re.fullmatch(r"\[([a-z-]+)\]", line)
        if header:
            section = supported.setdefault(header.group(1), set())
        elif line and section is not None:
            section.add(line)
    chosen = {}
    for kind, preferred in PREFERRED.items():
        available = supported.get(_QUERY_OF[kind])
        if available is None:
            raise AnsibleFilterError(f"ssh_algorithms: the listing has no [{_QUERY_OF[kind]}] section")
        chosen[kind] = [name for name in preferred if name in available]
        if not chosen[kind]:
            raise AnsibleFilterError(
                f"ssh_algorithms: this OpenSSH supports none of the accepted {kind} algorithms "
                f"({', '.join(preferred)}); it is too old to harden"
            )
    return chosen


class FilterModule:
    """selfhost.stack SSH filters."""

    def filters(self):
        return {"ssh_algorithms": ssh_algorithms}
