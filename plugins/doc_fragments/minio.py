# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options and requirements every MinIO module of the collection documents."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """extends_documentation_fragment: selfhost.stack.minio"""

    DOCUMENTATION = r"""
options:
  endpoint:
    description:
      - The URL of the MinIO server the module talks to, C(https://) or C(http://), host and
        port, no path; for example V(https://10.0.0.1:9000).
    type: str
    required: true
  login_access_key:
    description: The access key the module signs its requests with (the root user, or a user with admin rights).
    type: str
    required: true
  login_secret_key:
    description: The secret key of O(login_access_key).
    type: str
    required: true
  ca_file:
    description:
      - The CA certificate(s), PEM, that sign the server's certificate, for a server whose
        certificate a private CA issued.
      - When not given, C(SSL_CERT_FILE) from the environment, else the system's CA bundle
        (certifi's, which is the system's on Debian).
    type: path
  validate_certs:
    description: Verify the server's TLS certificate and name. Only turn this off in a lab.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the connection, and for each answer.
    type: int
    default: 30
requirements:
  - minio >= 7.2.20 (the MinIO Python SDK; on Debian C(pip install --no-deps minio) over the packages
    python3-urllib3, python3-certifi, python3-argon2, python3-pycryptodome and python3-typing-extensions)
notes:
  - Errors are reported with the server's error code and message; no secret is ever part of
    the output.
"""
