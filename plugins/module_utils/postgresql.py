# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection code shared by the collection's PostgreSQL modules (psycopg 3).

Each module merges connection_argument_spec() into its own argument spec, calls
ensure_psycopg() once its own input is validated, and connect() to get a connection. psycopg
3.1 (Debian 12's python3-psycopg) is the oldest version supported, so nothing here needs a
newer one.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

PSYCOPG_IMPORT_ERROR = None
try:
    import psycopg
    from psycopg import sql
except ImportError:
    psycopg = None
    sql = None
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def connection_argument_spec():
    """The connection options every PostgreSQL module of the collection takes."""
    return dict(
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", default="", no_log=True),
        login_host=dict(type="str", default=""),
        login_unix_socket=dict(type="str", default=""),
        port=dict(type="int", default=5432),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
        ca_cert=dict(type="path"),
        connect_timeout=dict(type="int", default=10),
    )


def literal_array(values, element_type="text"):
    """ARRAY[...]::<type>[] of values as literals, for = ANY (...); valid when values is empty too."""
    return sql.SQL("ARRAY[{}]::{}[]").format(sql.SQL(", ").join(sql.Literal(value) for value in values),
                                             sql.SQL(element_type))


def ensure_psycopg(module):
    """Fails the module, saying what to install, when psycopg 3 cannot be imported."""
    if psycopg is None:
        module.fail_json(msg=missing_required_lib("psycopg (version 3)", reason="install python3-psycopg on Debian"),
                         exception=PSYCOPG_IMPORT_ERROR)


def connection_parameters(params, database):
    """libpq's keywords for the module's connection options; an empty value means libpq's default."""
    parameters = dict(dbname=database, user=params["login_user"], port=params["port"],
                      sslmode=params["ssl_mode"], connect_timeout=params["connect_timeout"],
                      application_name="ansible selfhost.stack")
    # login_host wins; without it, the socket directory (libpq's own default when empty too).
    host = params["login_host"] or params["login_unix_socket"]
    if host:
        parameters["host"] = host
    if params["login_password"]:
        parameters["password"] = params["login_password"]
    if params["ca_cert"]:
        parameters["sslrootcert"] = params["ca_cert"]
    return parameters


def connect(module, database):
    """A psycopg 3 connection to database (autocommit off), or the module fails saying why."""
    ensure_psycopg(module)
    params = module.params
    try:
        return psycopg.connect(autocommit=False, **connection_parameters(params, database))
    except psycopg.Error as error:
        where = params["login_host"] or params["login_unix_socket"] or "the default socket"
        module.fail_json(msg=f"unable to connect to database {database!r} as {params['login_user']!r} "
                             f"on {where} port {params['port']}: {str(error).strip()}")
    return None
