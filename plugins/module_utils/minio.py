# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Code shared by the collection's MinIO modules (the minio Python package, 7.2.20).

Each module merges connection_argument_spec() into its own argument spec, checks its own
input with the *_problem() helpers here, calls ensure_minio() and only then makes a
Connection, whose call() turns every error of the S3 or admin API into Failure, with a message
that carries the server's error code and text, never a secret. run() ends the module with the
result so far when a Failure escapes its logic.

minio 7.2.20 works with urllib3 1.26 (Debian 12) and 2.x (Debian 13) and, through
alias_cryptodome(), with the PyCryptodome Debian packages; nothing here needs more than those.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.selfhost.stack.plugins.module_utils.minio_rules import endpoint_problem, parse_endpoint


def alias_cryptodome():
    """Lets the minio package import PyCryptodome as Crypto where it is installed as Cryptodome.

    Debian's python3-pycryptodome (12 and 13) is PyCryptodome under the name Cryptodome (the
    pycryptodomex form), while the minio package imports Crypto. The two are one library, so
    when Crypto is missing and Cryptodome is there, the Cryptodome modules minio needs are
    registered under the Crypto names too, in this module's process only.
    """
    try:
        importlib.import_module("Crypto.Cipher.ChaCha20_Poly1305")
        return
    except (ImportError, OSError):  # OSError: PyCryptodome without its native parts
        pass
    try:
        for name in ("Cipher.AES", "Cipher.ChaCha20_Poly1305", "Cipher._mode_gcm"):
            importlib.import_module("Cryptodome." + name)
    except (ImportError, OSError):
        return  # neither: importing minio fails and says so
    for name, module in list(sys.modules.items()):
        if name == "Cryptodome" or name.startswith("Cryptodome."):
            sys.modules.setdefault("Crypto" + name[len("Cryptodome"):], module)


MINIO_IMPORT_ERROR = None
try:
    alias_cryptodome()
    import certifi
    import urllib3
    from minio import Minio, MinioAdmin
    from minio.credentials import StaticProvider
    # For the modules: minio_utils.PeerSite and so on.
    from minio.datatypes import PeerSite  # pylint: disable=unused-import
    from minio.deleteobjects import DeleteObject  # pylint: disable=unused-import
    from minio.error import MinioAdminException, MinioException
    from minio.versioningconfig import VersioningConfig  # pylint: disable=unused-import
except ImportError:
    HAS_MINIO = False
    MINIO_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_MINIO = True


class Failure(Exception):
    """Ends the module with this message: a request failed (the message says which and why,
    without secrets), or what was found makes the wanted state unsafe or impossible."""


def connection_argument_spec():
    """The connection options every MinIO module of the collection takes."""
    return dict(
        endpoint=dict(type="str", required=True),
        login_access_key=dict(type="str", required=True, no_log=False),
        login_secret_key=dict(type="str", required=True, no_log=True),
        ca_file=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


def check_input(module, errors):
    """Fails the module listing every problem of its input (errors, and those of the connection
    options), when there are any."""
    errors = [problem for problem in [endpoint_problem(module.params["endpoint"], "endpoint")] if problem] + errors
    if errors:
        module.fail_json(msg="invalid input, nothing was changed: " + "; ".join(errors))


# ---------------------------------------------------------------------------------------------
# Connecting.

def ensure_minio(module):
    """Fails the module, saying what to install, when the minio package cannot be imported."""
    if not HAS_MINIO:
        reason = ("install it with pip (pip install --no-deps minio on Debian, whose python3-urllib3, python3-certifi, "
                  "python3-argon2, python3-pycryptodome and python3-typing-extensions provide its dependencies)")
        module.fail_json(msg=missing_required_lib("minio", reason=reason), exception=MINIO_IMPORT_ERROR)


def error_message(error):
    """The server's code and message of an error from the minio package, or the error's own text."""
    if isinstance(error, MinioAdminException):
        # Its text is "admin request failed; Status: N, Body: {json}"; the JSON holds Code and Message.
        try:
            body = json.loads(error._body)  # pylint: disable=protected-access
            return f"{body.get('Code', 'error')}: {body.get('Message', '').strip()} (HTTP {error._code})"  # pylint: disable=protected-access
        except (ValueError, AttributeError):
            return str(error)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    if code and message:
        return f"{code}: {message}"
    return str(error).strip() or type(error).__name__


def error_code(error):
    """The server's error code (S3's Code or the admin API's), or None."""
    if isinstance(error, MinioAdminException):
        try:
            return json.loads(error._body).get("Code")  # pylint: disable=protected-access
        except (ValueError, AttributeError):
            return None
    return getattr(error, "code", None)


class Connection:
    """The S3 and admin clients of one server, over one pool of HTTP connections."""

    def __init__(self, params, endpoint=None, access_key=None, secret_key=None, http=None):
        self.endpoint = endpoint or params["endpoint"]
        self.netloc, self.secure = parse_endpoint(self.endpoint)
        self.access_key = params["login_access_key"] if access_key is None else access_key
        self._secret_key = params["login_secret_key"] if secret_key is None else secret_key
        self.params = params
        self.http = http or self.pool(params)
        self._s3 = None
        self._admin = None

    @staticmethod
    def pool(params):
        """urllib3's pool for every client: the module's timeout, few retries, its own CA when given."""
        timeout = params["timeout"]
        if not params["validate_certs"]:
            # Asked for: urllib3's warning on every request would only reach the module's stderr.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        return urllib3.PoolManager(
            timeout=urllib3.util.Timeout(connect=timeout, read=timeout),
            maxsize=4,
            cert_reqs="CERT_REQUIRED" if params["validate_certs"] else "CERT_NONE",
            ca_certs=params["ca_file"] or os.environ.get("SSL_CERT_FILE") or certifi.where(),
            retries=urllib3.util.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )

    @property
    def s3(self):
        if self._s3 is None:
            self._s3 = self.s3_client(self.access_key, self._secret_key)
        return self._s3

    @property
    def admin(self):
        if self._admin is None:
            self._admin = MinioAdmin(endpoint=self.netloc, credentials=StaticProvider(self.access_key, self._secret_key),
                                     secure=self.secure, cert_check=self.params["validate_certs"], http_client=self.http)
            self._admin.set_app_info("ansible-selfhost.stack", "1")
        return self._admin

    def s3_client(self, access_key, secret_key):
        """An S3 client of this server signing with other credentials (a user's, to check them)."""
        return Minio(self.netloc, access_key=access_key, secret_key=secret_key, secure=self.secure,
                     cert_check=self.params["validate_certs"], http_client=self.http)

    def peer(self, endpoint, access_key, secret_key):
        """The clients of another server, over the same pool."""
        return Connection(self.params, endpoint, access_key, secret_key, http=self.http)

    def failure(self, what, error):
        """The Failure of request `what` to this server that raised error."""
        return Failure(f"{what} on {self.endpoint} failed: {error_message(error)}")

    def attempt(self, what, function, *args, **kwargs):
        """(function(*args, **kwargs), None), or (None, error) when the server refused the request
        with an error of the S3 or admin API; any other error (no answer, say) becomes Failure."""
        try:
            return function(*args, **kwargs), None
        except (MinioException, MinioAdminException) as error:
            return None, error
        except (urllib3.exceptions.HTTPError, ValueError, OSError) as error:
            raise self.failure(what, error) from error

    def call(self, what, function, *args, **kwargs):
        """function(*args, **kwargs); any error of the request becomes Failure naming `what` and this server."""
        value, error = self.attempt(what, function, *args, **kwargs)
        if error is not None:
            raise self.failure(what, error) from error
        return value

    def read(self, what, absent_codes, function, *args):
        """function(*args), or None when the server answers with one of absent_codes (the thing
        read does not exist); any other error becomes Failure."""
        value, error = self.attempt(what, function, *args)
        if error is None:
            return value
        if error_code(error) in absent_codes:
            return None
        raise self.failure(what, error) from error

    def admin_json(self, what, function, *args, absent_codes=()):
        """An admin API call whose answer is JSON, parsed; an empty answer is {}; None when the
        server answers with one of absent_codes."""
        text = self.read(what, absent_codes, function, *args)
        if text is None:
            return None
        try:
            return json.loads(text) if text and text.strip() else {}
        except ValueError as error:
            raise Failure(f"{what} on {self.endpoint} returned something that is not JSON") from error


def connect(module):
    """The Connection of the module's own server (nothing is requested yet)."""
    ensure_minio(module)
    return Connection(module.params)


def apply(module, connection, steps, result):
    """Runs steps, a list of (description, function taking no argument), in order; in check mode
    none. Each step run (or in check mode, to be run) is added to result["actions"]."""
    for description, function in steps:
        if not module.check_mode:
            connection.call(description, function)
        result["actions"].append(description)
        result["changed"] = True


def run(module, logic, result):
    """logic(module, connection, result), then exit_json(result); fail_json with the result so far on Failure."""
    connection = connect(module)
    try:
        logic(module, connection, result)
    except Failure as error:
        module.fail_json(msg=str(error), **result)
    finally:
        connection.http.clear()
    module.exit_json(**result)
