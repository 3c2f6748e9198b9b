"""Checks of the MinIO role's inventory, with the same rules as the collection's MinIO modules."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.selfhost.stack.plugins.module_utils.minio_rules import (
    ACCESS_KEY_LENGTH, SECRET_KEY_LENGTH, bucket_name_problem, key_problem, parse_policy,
)

# The policies every MinIO server has without being told.
BUILT_IN_POLICIES = frozenset(("readonly", "readwrite", "writeonly", "diagnostics", "consoleAdmin"))
BUCKET_KEYS = frozenset(("name", "versioning", "object_lock"))
POLICY_KEYS = frozenset(("name", "policy"))
USER_KEYS = frozenset(("access_key", "secret_key", "policies"))


def _entries(value, variable, keys, errors):
    """The mappings of list `value`, with an error for each entry that is not one or has unknown keys."""
    if not isinstance(value, list):
        errors.append(f"{variable} must be a list")
        return []
    entries = []
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            errors.append(f"{variable}[{index}] must be a mapping")
            continue
        unknown = sorted(set(entry) - keys)
        if unknown:
            errors.append(f"{variable}[{index}] has unknown keys {unknown} (expected {sorted(keys)})")
        entries.append(entry)
    return entries


def _duplicates(names, variable, errors):
    seen = set()
    for name in names:
        if name in seen:
            errors.append(f"{variable}: {name!r} is given twice")
        seen.add(name)


def minio_content_errors(buckets, policies, users):
    """Sentences naming the variable and the entry, one per problem of the buckets, policies and
    users the role is to apply; an empty list when there is none. No secret is ever repeated."""
    errors = []
    bucket_entries = _entries(buckets, "minio_buckets", BUCKET_KEYS, errors)
    for entry in bucket_entries:
        problem = bucket_name_problem(entry.get("name"))
        if problem:
            errors.append(f"minio_buckets: {problem}")
        if entry.get("versioning") not in (None, "enabled", "suspended"):
            errors.append(f"minio_buckets: {entry.get('name')!r} versioning must be enabled or suspended")
        if not isinstance(entry.get("object_lock", False), bool):
            errors.append(f"minio_buckets: {entry.get('name')!r} object_lock must be true or false")
    _duplicates([entry.get("name") for entry in bucket_entries], "minio_buckets", errors)

    policy_entries = _entries(policies, "minio_policies", POLICY_KEYS, errors)
    for entry in policy_entries:
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            errors.append("minio_policies: every policy needs a name")
            continue
        try:
            parse_policy(entry.get("policy"))
        except ValueError as error:
            errors.append(f"minio_policies: {entry['name']!r} policy {error}")
    policy_names = [entry.get("name") for entry in policy_entries]
    _duplicates(policy_names, "minio_policies", errors)

    user_entries = _entries(users, "minio_users", USER_KEYS, errors)
    for entry in user_entries:
        access_key = entry.get("access_key")
        problem = key_problem(access_key, f"minio_users: access_key {access_key!r}", ACCESS_KEY_LENGTH)
        if problem:
            errors.append(problem)
        problem = key_problem(entry.get("secret_key"), f"minio_users: {access_key!r} secret_key", SECRET_KEY_LENGTH)
        if problem:
            errors.append(problem)
        unknown = sorted(set(entry.get("policies", [])) - set(policy_names) - BUILT_IN_POLICIES)
        if unknown:
            errors.append(f"minio_users: {access_key!r} names policies {unknown} that minio_policies does not define")
    _duplicates([entry.get("access_key") for entry in user_entries], "minio_users", errors)
    return errors


class FilterModule:
    """selfhost.stack MinIO filters."""

    def filters(self):
        return {"minio_content_errors": minio_content_errors}
