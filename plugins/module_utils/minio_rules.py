# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MinIO's rules for endpoints, bucket names, keys and policies: pure checks without the minio
package, shared by the MinIO modules (through module_utils/minio) and the minio role's inventory
filter, which the controller imports in every task's worker and so must stay cheap to import."""

from __future__ import annotations

import ipaddress
import json
import re
from urllib.parse import urlsplit

# S3's rules for bucket names (the ones MinIO and the minio package enforce, plus AWS's
# reserved forms, so that a bucket made here can be replicated or moved anywhere).
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
BUCKET_NAME_FORM = ("3 to 63 lower-case letters, digits, dots or hyphens, starting and ending with a letter "
                    "or digit")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3")

# MinIO's own limits on a user's keys (cmd/auth: accessKeyMinLen ... secretKeyMaxLen).
ACCESS_KEY_LENGTH = (3, 20)
SECRET_KEY_LENGTH = (8, 40)

# A canned policy's name: MinIO lists a user's policies joined with commas.
POLICY_NAME_PATTERN = re.compile(r"^[^,\s]+$")
# Policy elements that take one string or a list of strings; MinIO stores them as sorted lists.
POLICY_LIST_KEYS = frozenset(("Action", "NotAction", "Resource", "NotResource"))


def parse_endpoint(value):
    """(host:port, secure) of an endpoint URL such as https://10.0.0.1:9000; ValueError says why not."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a URL such as https://10.0.0.1:9000")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} must start with https:// or http://")
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{value!r} has an invalid port") from error
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} must name a host (and no user)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{value!r} must have no path, query or fragment: MinIO is served at the root")
    host = parts.hostname
    if ":" in host:  # an IPv6 address goes back into brackets
        host = f"[{host}]"
    return (f"{host}:{port}" if port else host), parts.scheme == "https"


def endpoint_problem(value, what):
    """Why value is not an endpoint URL, naming the option `what`, or None."""
    try:
        parse_endpoint(value)
    except ValueError as error:
        return f"{what} {error}"
    return None


def normalise_endpoint(value):
    """An endpoint URL in one spelling (scheme, lower-case host, explicit port), for comparing."""
    netloc, secure = parse_endpoint(value)
    parts = urlsplit(value.strip())
    port = parts.port or (443 if secure else 80)
    host = netloc.rsplit(":", 1)[0] if parts.port else netloc
    return f"{parts.scheme}://{host.lower()}:{port}"


def bucket_name_problem(name):
    """Why name cannot be an S3 bucket's name, or None."""
    if not isinstance(name, str) or not 3 <= len(name) <= 63 or not BUCKET_NAME_PATTERN.fullmatch(name):
        return f"bucket name {name!r} must be {BUCKET_NAME_FORM}"
    if ".." in name or ".-" in name or "-." in name:
        return f"bucket name {name!r} must not have a dot next to a dot or a hyphen"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return f"bucket name {name!r} must not be an IP address"
    if name.startswith(BUCKET_RESERVED_PREFIXES):
        return f"bucket name {name!r} must not start with {' or '.join(BUCKET_RESERVED_PREFIXES)} (reserved by S3)"
    if name.endswith(BUCKET_RESERVED_SUFFIXES):
        return f"bucket name {name!r} must not end with {' or '.join(BUCKET_RESERVED_SUFFIXES)} (reserved by S3)"
    return None


def policy_name_problem(name, what):
    """Why name cannot be a canned policy's name, or None."""
    if not isinstance(name, str) or not POLICY_NAME_PATTERN.fullmatch(name):
        return f"{what} {name!r} must be a non-empty policy name without commas or white space"
    return None


def key_problem(value, what, limits):
    """Why value is not a key of MinIO's accepted length, or None; the value itself is never named."""
    low, high = limits
    if not isinstance(value, str) or not low <= len(value) <= high:
        return f"{what} must be {low} to {high} characters long"
    return None


def parse_policy(value):
    """The policy document value (a dict, or a str of JSON) as a dict; ValueError says why it is not one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError(f"is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    statements = value.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise ValueError("must have a Statement list with at least one statement")
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            raise ValueError(f"Statement[{index}] must be a JSON object")
    return value


def canonical_policy(policy):
    """A policy in one spelling, for comparing what is wanted with what the server returns.

    MinIO stores a single string of Action/Resource (and of a condition's values) as a list,
    sorts those lists and drops empty elements such as a Sid of ""; the order of statements
    does not change what a policy allows.
    """
    def as_list(value):
        values = value if isinstance(value, list) else [value]
        return sorted(set(values), key=json.dumps)

    def condition_lists(conditions):
        if not isinstance(conditions, dict):
            return conditions
        return {name: as_list(values) for name, values in conditions.items()}

    def statement(value):
        result = {}
        for key, item in value.items():
            if item in ("", None, [], {}):
                continue
            if key in POLICY_LIST_KEYS:
                item = as_list(item)
            elif key == "Condition" and isinstance(item, dict):
                item = {operator: condition_lists(conditions) for operator, conditions in item.items()}
            result[key] = item
        return result

    canonical = {key: item for key, item in policy.items() if key != "Statement"}
    canonical["Statement"] = sorted((statement(item) for item in policy["Statement"]),
                                    key=lambda item: json.dumps(item, sort_keys=True))
    return canonical
