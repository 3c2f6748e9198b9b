# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options and requirements every PostgreSQL module of the collection documents.

O(login_user) stays in each module: what that role must be allowed to do is the module's own.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """extends_documentation_fragment: selfhost.stack.postgresql"""

    DOCUMENTATION = r"""
options:
  login_password:
    description: The password of O(login_user); none when empty (peer or certificate authentication).
    type: str
    default: ""
  login_host:
    description: The host to connect to; empty connects through the Unix socket.
    type: str
    default: ""
  login_unix_socket:
    description: The directory of the Unix socket; empty is libpq's default (C(/var/run/postgresql) on Debian).
    type: str
    default: ""
  port:
    description: The port (also part of the socket's name).
    type: int
    default: 5432
  ssl_mode:
    description: libpq's C(sslmode) for connections over TCP.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    default: prefer
  ca_cert:
    description: The CA certificate(s) that sign the server's certificate (libpq's C(sslrootcert)).
    type: path
  connect_timeout:
    description: Seconds to wait for each connection.
    type: int
    default: 10
requirements:
  - psycopg >= 3.1 (python3-psycopg on Debian)
"""
