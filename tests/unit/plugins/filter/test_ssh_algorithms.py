"""Unit tests for the ssh_algorithms filter."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.selfhost.stack.plugins.filter.ssh_algorithms import PREFERRED, FilterModule, ssh_algorithms

# What `ssh -Q` printed on Debian 12 (OpenSSH 9.2), trimmed to the interesting lines.
OPENSSH_9_2 = """
[kex]
diffie-hellman-group1-sha1
diffie-hellman-group14-sha256
diffie-hellman-group16-sha512
diffie-hellman-group18-sha512
diffie-hellman-group-exchange-sha256
ecdh-sha2-nistp256
curve25519-sha256
curve25519-sha256@libssh.org
sntrup761x25519-sha512@openssh.com
[cipher]
3des-cbc
aes128-cbc
aes128-ctr
aes256-ctr
aes128-gcm@openssh.com
aes256-gcm@openssh.com
chacha20-poly1305@openssh.com
[mac]
hmac-sha1
hmac-sha2-256
hmac-sha2-256-etm@openssh.com
hmac-sha2-512-etm@openssh.com
umac-128-etm@openssh.com
[key-sig]
ssh-ed25519
ecdsa-sha2-nistp256
rsa-sha2-512
rsa-sha2-256
ssh-rsa
"""


def test_intersection_keeps_the_preferred_order():
    chosen = ssh_algorithms(OPENSSH_9_2)
    assert chosen["kex"] == [
        "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group16-sha512",
    ]
    assert chosen["cipher"][0] == "chacha20-poly1305@openssh.com"
    assert chosen["mac"] == ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"]
    assert chosen["hostkey"] == ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]


def test_weak_algorithms_are_never_chosen():
    chosen = ssh_algorithms(OPENSSH_9_2)
    everything = [name for names in chosen.values() for name in names]
    for weak in ("sha1", "nistp", "cbc", "group-exchange", "group14"):
        assert not [name for name in everything if weak in name]
    assert "ssh-rsa" not in everything  # RSA with SHA-1 signatures


def test_newer_openssh_gets_post_quantum_key_exchange_first():
    listing = OPENSSH_9_2.replace("[kex]\n", "[kex]\nmlkem768x25519-sha256\n")
    assert ssh_algorithms(listing)["kex"][0] == "mlkem768x25519-sha256"


def test_nothing_acceptable_is_an_error():
    listing = OPENSSH_9_2.replace("hmac-sha2-256-etm@openssh.com\nhmac-sha2-512-etm@openssh.com\numac-128-etm@openssh.com\n", "")
    with pytest.raises(AnsibleFilterError, match="supports none of the accepted mac algorithms"):
        ssh_algorithms(listing)


def test_missing_section_is_an_error():
    with pytest.raises(AnsibleFilterError, match=r"no \[key-sig\] section"):
        ssh_algorithms(OPENSSH_9_2.split("[key-sig]", maxsplit=1)[0])


def test_every_kind_is_chosen():
    assert set(ssh_algorithms(OPENSSH_9_2)) == set(PREFERRED)


def test_filter_is_registered():
    assert FilterModule().filters()["ssh_algorithms"] is ssh_algorithms
