#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Says, in one module run, whether a certificate and its key need no work."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: certificate_state
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Tell whether a certificate, its key and its CA need no work
description:
  - Reads a certificate and its private key on the host and says whether they are current - the
    key is the certificate's, owned by O(owner) and readable by it alone; the certificate is
    O(owner)'s with mode 0644, signed by O(issuer) (by itself when O(issuer) is not given), carries
    exactly O(common_name), O(subject_alt_name) and O(extended_key_usage), and stays valid for
    O(renew_before) days more; the host's copy of the issuer (O(issuer_copy)) is O(issuer), owned
    by O(owner).
  - One module run in place of the several that make or check each part, so that a run that finds
    everything current skips them all (role selfhost.stack.pki).
  - Changes nothing, and never returns the key.
options:
  certificate:
    description: The certificate's path (PEM).
    type: path
    required: true
  private_key:
    description: Its private key's path (PEM, unencrypted).
    type: path
    required: true
  owner:
    description: The user and group that own the key, and the issuer's copy.
    type: str
    required: true
  common_name:
    description: The certificate's subject common name.
    type: str
    required: true
  subject_alt_name:
    description: The certificate's names, such as C(DNS:primary) and C(IP:10.0.0.1); empty for none.
    type: list
    elements: str
    default: []
  extended_key_usage:
    description: The extended key usages, such as C(serverAuth) and C(clientAuth); empty for none.
    type: list
    elements: str
    default: []
  issuer:
    description: The issuing CA's certificate (PEM text); not given, the certificate must sign itself.
    type: str
  issuer_copy:
    description: Where the host keeps its copy of O(issuer), which must hold exactly it.
    type: path
  renew_before:
    description: Days before its end from which the certificate counts as expiring.
    type: int
    default: 30
requirements:
  - cryptography (python3-cryptography)
extends_documentation_fragment:
  - selfhost.stack.read_only
"""

EXAMPLES = r"""
- name: Check this host's certificate
  selfhost.stack.certificate_state:
    certificate: /etc/postgresql/tls/server.crt
    private_key: /etc/postgresql/tls/server.key
    owner: postgres
    common_name: "{{ inventory_hostname }}"
    subject_alt_name: [DNS:primary, IP:10.0.0.1]
    extended_key_usage: [serverAuth, clientAuth]
    issuer: "{{ ca_certificate }}"
    issuer_copy: /etc/postgresql/tls/ca.crt
  register: tls_state
"""

RETURN = r"""
current:
  description: Whether everything above holds, so that nothing needs to be made or signed.
  returned: always
  type: bool
expiring:
  description: Whether the certificate is otherwise right but ends within O(renew_before) days, or has ended.
  returned: always
  type: bool
problems:
  description: What does not hold, one sentence each; empty when RV(current) is true.
  returned: always
  type: list
  elements: str
  sample: ["the certificate's names are DNS:primary, not DNS:primary, IP:10.0.0.1"]
certificate:
  description: The certificate (PEM text) when it could be read; empty otherwise.
  returned: always
  type: str
certificate_path:
  description: Where the certificate was read (O(certificate)), so that a later task can tell which one it is.
  returned: always
  type: str
  sample: /etc/selfhost/pki/postgresql-ca/ca.crt
"""

import datetime
import grp
import ipaddress
import os
import pwd
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    CRYPTOGRAPHY_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_ERROR = None

SECONDS_A_DAY = 86400


def read(path):
    """The file's bytes, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def owned_by(path, owner, mode=None):
    """Whether the file belongs to owner (user and group of that name), with mode when given."""
    try:
        status = os.stat(path)
        return (pwd.getpwuid(status.st_uid).pw_name == owner and grp.getgrgid(status.st_gid).gr_name == owner
                and (mode is None or status.st_mode & 0o7777 == mode))
    except (OSError, KeyError):
        return False


def signed_by(certificate, issuer):
    """Whether issuer's key signed certificate (and issuer's subject is its issuer)."""
    if certificate.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                       ec.ECDSA(certificate.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(),
                       certificate.signature_hash_algorithm)
        else:
            return False
    except Exception:  # pylint: disable=broad-except  # InvalidSignature, or an algorithm it cannot check
        return False
    return True


def general_name(name):
    """A subjectAltName entry written as the inputs are: DNS:name, IP:address."""
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    return f"{type(name).__name__}:{name.value}"


def extension(certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def usage_name(oid):
    names = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}
    return names.get(oid, oid.dotted_string)


def normal_name(name):
    """An input subjectAltName with its address written as the certificate's would be."""
    kind, value = name.split(":", 1) if ":" in name else (name, "")
    if kind == "IP":
        return f"IP:{ipaddress.ip_address(value)}"
    return name


def validity(certificate):
    """The certificate's start and end, in UTC (cryptography before 42, in Debian 12, has them
    without a time zone only)."""
    if hasattr(certificate, "not_valid_after_utc"):
        return certificate.not_valid_before_utc, certificate.not_valid_after_utc
    return (certificate.not_valid_before.replace(tzinfo=datetime.timezone.utc),
            certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc))


def certificate_problems(params, certificate, now):
    """What does not hold of the certificate's names, usages, signature and dates; and whether its
    end is near."""
    problems = []
    names = [attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [params["common_name"]]:
        problems.append(f"the certificate's common name is {', '.join(names) or 'missing'}, not {params['common_name']}")
    san = extension(certificate, x509.SubjectAlternativeName)
    found = sorted(general_name(name) for name in san) if san else []
    wanted = sorted(normal_name(name) for name in params["subject_alt_name"])
    if found != wanted:
        problems.append(f"the certificate's names are {', '.join(found) or 'none'}, not {', '.join(wanted) or 'none'}")
    usages = extension(certificate, x509.ExtendedKeyUsage)
    found = sorted(usage_name(oid) for oid in usages) if usages else []
    if found != sorted(params["extended_key_usage"]):
        problems.append(f"the certificate's key usages are {', '.join(found) or 'none'}, "
                        f"not {', '.join(sorted(params['extended_key_usage'])) or 'none'}")
    if params["issuer"]:
        try:
            issuer = x509.load_pem_x509_certificate(params["issuer"].encode())
        except ValueError:
            return problems + ["the issuer given is not a PEM certificate"], False
    else:
        issuer = certificate
    if not signed_by(certificate, issuer):
        problems.append("the certificate is not signed by " + ("the issuer given" if params["issuer"] else "its own key"))
    starts, ends = validity(certificate)
    expiring = (ends - now).total_seconds() < params["renew_before"] * SECONDS_A_DAY
    if starts > now:
        problems.append(f"the certificate is not valid before {starts:%Y-%m-%d %H:%M} UTC")
    if expiring:
        problems.append(f"the certificate ends {ends:%Y-%m-%d %H:%M} UTC, within {params['renew_before']} days")
    return problems, expiring


def main():
    module = AnsibleModule(
        argument_spec={
            "certificate": {"type": "path", "required": True},
            "private_key": {"type": "path", "required": True},
            "owner": {"type": "str", "required": True},
            "common_name": {"type": "str", "required": True},
            "subject_alt_name": {"type": "list", "elements": "str", "default": []},
            "extended_key_usage": {"type": "list", "elements": "str", "default": []},
            "issuer": {"type": "str"},
            "issuer_copy": {"type": "path"},
            "renew_before": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    if CRYPTOGRAPHY_ERROR:
        module.fail_json(msg=missing_required_lib("cryptography (python3-cryptography)"), exception=CRYPTOGRAPHY_ERROR)
    params = module.params
    problems = []
    expiring = False
    text = read(params["certificate"])
    certificate = None
    if text is None:
        problems.append(f"no certificate at {params['certificate']}")
    else:
        try:
            certificate = x509.load_pem_x509_certificate(text)
        except ValueError:
            problems.append(f"{params['certificate']} holds no PEM certificate")
    if certificate is not None:
        problems, expiring = certificate_problems(params, certificate, datetime.datetime.now(datetime.timezone.utc))
        if not owned_by(params["certificate"], params["owner"], 0o644):
            problems.append(f"the certificate is not {params['owner']}'s with mode 0644")
    key_text = read(params["private_key"])
    key = None
    if key_text is not None:
        try:
            key = serialization.load_pem_private_key(key_text, password=None)
        except (ValueError, TypeError):
            pass
    if key is None:
        problems.append(f"no readable private key at {params['private_key']}")
    elif certificate is not None and key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        problems.append("the private key is not the certificate's")
    if key is not None and not owned_by(params["private_key"], params["owner"], 0o600):
        problems.append(f"the private key is not {params['owner']}'s alone (mode 0600)")
    if params["issuer_copy"]:
        if (read(params["issuer_copy"]) or b"").strip() != (params["issuer"] or "").strip().encode():
            problems.append(f"{params['issuer_copy']} does not hold the issuer given")
        elif not owned_by(params["issuer_copy"], params["owner"]):
            problems.append(f"{params['issuer_copy']} is not {params['owner']}'s")
    # Expiring alone says "sign again" (the signing module would keep a certificate whose names
    # are right); with another problem, that problem's fix makes a new one anyway.
    module.exit_json(changed=False, current=not problems, expiring=expiring and len(problems) == 1,
                     problems=problems, certificate=text.decode() if certificate is not None else "",
                     certificate_path=params["certificate"])


if __name__ == "__main__":
    main()
