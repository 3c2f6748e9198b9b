"""Unit tests for the certificate_state module: each reason a chain is not current, on real
certificates made here."""

from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.selfhost.stack.plugins.modules import certificate_state

OWNER = pwd.getpwuid(os.getuid()).pw_name
NAMES = ("DNS:primary", "DNS:localhost", "IP:10.0.0.1")
NOW = datetime.datetime.now(datetime.timezone.utc)


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def make_certificate(key, subject, issuer_key, issuer_name=None, names=(), usages=(), days=825):
    """A certificate for key, signed by issuer_key (itself when issuer_name is None)."""
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days)))
    sans = [x509.DNSName(n[4:]) if n.startswith("DNS:") else x509.IPAddress(ipaddress.ip_address(n[3:])) for n in names]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Chain:
    """A CA and a host certificate it signed, written as the pki role writes them."""

    def __init__(self, directory):
        self.directory = directory
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ca = make_certificate(self.ca_key, "selfhost.stack test CA", self.ca_key)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.write_key(self.key)
        self.write(self.sign())
        self.path("ca.crt").write_text(pem(self.ca))

    def path(self, name):
        return self.directory / name

    def sign(self, names=NAMES, days=825, issuer_key=None, key=None):
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        return make_certificate(key or self.key, "primary", issuer_key or self.ca_key, self.ca.subject, names, usages, days)

    def write(self, certificate, mode=0o644):
        self.path("server.crt").write_text(pem(certificate))
        self.path("server.crt").chmod(mode)

    def write_key(self, key, mode=0o600):
        self.path("server.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.path("server.key").chmod(mode)

    def arguments(self, **changes):
        arguments = {"certificate": str(self.path("server.crt")), "private_key": str(self.path("server.key")),
                     "owner": OWNER, "common_name": "primary", "subject_alt_name": list(reversed(NAMES)),
                     "extended_key_usage": ["serverAuth", "clientAuth"], "issuer": pem(self.ca),
                     "issuer_copy": str(self.path("ca.crt"))}
        arguments.update(changes)
        return arguments


@pytest.fixture
def chain(tmp_path):
    if grp.getgrgid(os.getgid()).gr_name != OWNER:
        pytest.skip("the test's files need a group named as their user")
    return Chain(tmp_path)


def test_a_current_chain_needs_nothing_and_returns_the_certificate(run_module, chain):
    result = run_module(certificate_state, chain.arguments(), check=True)
    del result["invocation"]
    assert result == {"changed": False, "current": True, "expiring": False, "problems": [],
                      "certificate": chain.path("server.crt").read_text(), "certificate_path": str(chain.path("server.crt"))}


def test_the_ca_checks_against_itself_without_an_issuer(run_module, chain):
    chain.path("ca.key").write_bytes(chain.ca_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    chain.path("ca.key").chmod(0o600)
    result = run_module(certificate_state, {"certificate": str(chain.path("ca.crt")), "private_key": str(chain.path("ca.key")),
                                            "owner": OWNER, "common_name": "selfhost.stack test CA"})
    assert (result["current"], result["problems"]) == (True, [])


def test_an_expiring_certificate_is_told_apart(run_module, chain):
    expiring = chain.sign(days=10)
    chain.write(expiring)
    result = run_module(certificate_state, chain.arguments())
    assert (result["current"], result["expiring"]) == (False, True)
    assert result["problems"] == [f"the certificate ends {expiring.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, within 30 days"]


@pytest.mark.parametrize("change, problem", [
    ({"subject_alt_name": ["DNS:primary"]},
     "the certificate's names are DNS:localhost, DNS:primary, IP:10.0.0.1, not DNS:primary"),
    ({"common_name": "standby"}, "the certificate's common name is primary, not standby"),
    ({"extended_key_usage": ["serverAuth"]}, "the certificate's key usages are clientAuth, serverAuth, not serverAuth"),
    ({"certificate": "/nonexistent/server.crt"}, "no certificate at /nonexistent/server.crt"),
    ({"owner": "nobody"}, "the private key is not nobody's alone (mode 0600)"),
    ({"owner": "nobody"}, "the certificate is not nobody's with mode 0644"),
])
def test_each_difference_is_named(run_module, chain, change, problem):
    result = run_module(certificate_state, chain.arguments(**change))
    assert (result["current"], result["expiring"]) == (False, False)
    assert problem in result["problems"]


def test_a_certificate_another_key_signed_is_not_current(run_module, chain):
    chain.write(chain.sign(issuer_key=ec.generate_private_key(ec.SECP384R1())))
    result = run_module(certificate_state, chain.arguments())
    assert result["problems"] == ["the certificate is not signed by the issuer given"]


def test_a_key_that_is_not_the_certificates_or_open_to_others_is_named(run_module, chain):
    chain.write_key(ec.generate_private_key(ec.SECP256R1()), mode=0o644)
    result = run_module(certificate_state, chain.arguments())
    assert result["problems"] == ["the private key is not the certificate's",
                                  f"the private key is not {OWNER}'s alone (mode 0600)"]


def test_a_certificate_others_may_change_is_named(run_module, chain):
    chain.path("server.crt").chmod(0o666)
    result = run_module(certificate_state, chain.arguments())
    assert result["problems"] == [f"the certificate is not {OWNER}'s with mode 0644"]


def test_a_stale_copy_of_the_ca_is_named(run_module, chain):
    chain.path("ca.crt").write_text("old CA\n")
    result = run_module(certificate_state, chain.arguments())
    assert result["problems"] == [f"{chain.path('ca.crt')} does not hold the issuer given"]


def test_dates_read_the_same_with_debian_12s_cryptography():
    """cryptography 38 (Debian 12) has only the dates without a time zone, which are UTC."""
    class Older:  # pylint: disable=too-few-public-methods
        not_valid_before = datetime.datetime(2026, 1, 2, 3, 4)
        not_valid_after = datetime.datetime(2028, 1, 2, 3, 4)
    utc = datetime.timezone.utc
    assert certificate_state.validity(Older()) == (datetime.datetime(2026, 1, 2, 3, 4, tzinfo=utc),
                                                   datetime.datetime(2028, 1, 2, 3, 4, tzinfo=utc))
