# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A MinIO server's canned policies, users and buckets, each read, compared with what is wanted
and changed where it differs. The modules minio_policy, minio_user and minio_bucket keep one
each; minio_content keeps many in one module run, over one connection.

Each `*_problems` function lists what is wrong with one item's input, naming the option through
`label` (the option's own name, or its place in a list); each `keep_*` function makes one item
as wanted through minio.apply (so check mode only reads) and returns its diff."""

from __future__ import annotations

import functools
import json

from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules

NO_SUCH_POLICY = "XMinioAdminNoSuchPolicy"
NO_SUCH_USER = "XMinioAdminNoSuchUser"
# The S3 answers to a request signed with a secret that is not the user's.
SECRET_DIFFERS = ("SignatureDoesNotMatch", "InvalidAccessKeyId")
VERSIONING_STATUS = {"enabled": "Enabled", "suspended": "Suspended"}
# S3's answer when a bucket has no object lock configuration.
NO_OBJECT_LOCK = "ObjectLockConfigurationNotFoundError"


# The options of one policy, user and bucket: minio_policy, minio_user and minio_bucket take them
# (with the connection's), minio_content takes lists of them.
PRESENT_ABSENT = dict(type="str", choices=["present", "absent"], default="present")
POLICY_SPEC = dict(name=dict(type="str", required=True), policy=dict(type="raw"), state=PRESENT_ABSENT)
USER_SPEC = dict(
    access_key=dict(type="str", required=True, no_log=False),
    secret_key=dict(type="str", no_log=True),
    policies=dict(type="list", elements="str"),
    enabled=dict(type="bool", default=True),
    update_secret=dict(type="str", choices=["always", "on_create"], default="always"),
    state=PRESENT_ABSENT,
)
BUCKET_SPEC = dict(
    name=dict(type="str", required=True),
    versioning=dict(type="str", choices=["enabled", "suspended"]),
    object_lock=dict(type="bool"),
    state=PRESENT_ABSENT,
    force=dict(type="bool", default=False),
)


def own_name(option):
    """The label of a module's own option: its name."""
    return option


# ---------------------------------------------------------------------------------------------
# Canned policies.

def policy_problems(spec, label=own_name):
    """The wanted policy (canonical, or None when absent) and every problem of the item's input."""
    errors = [problem for problem in [minio_rules.policy_name_problem(spec["name"], label("name"))] if problem]
    wanted = None
    if spec["state"] == "present":
        if spec["policy"] is None:
            errors.append(f"{label('policy')} is required with state: present")
        else:
            try:
                wanted = minio_rules.canonical_policy(minio_rules.parse_policy(spec["policy"]))
            except ValueError as error:
                errors.append(f"{label('policy')} {error}")
    return wanted, errors


def read_policy(connection, name):
    """The server's policy document, canonical, or None when it has no such policy."""
    answer = connection.admin_json(f"read policy {name}", connection.admin.policy_info, name,
                                   absent_codes=(NO_SUCH_POLICY,))
    if answer is None:
        return None
    # Older servers answer with the document itself; newer ones wrap it with its name and dates.
    document = answer.get("Policy", answer) if "Statement" not in answer else answer
    try:
        return minio_rules.canonical_policy(minio_rules.parse_policy(document))
    except ValueError:
        return document


def policy_text(policy):
    """A policy as text for the diff, keys sorted; empty when there is none."""
    return "" if policy is None else json.dumps(policy, indent=2, sort_keys=True) + "\n"


def keep_policy(module, connection, result, name, wanted):
    """Adds, replaces or removes (wanted None) policy `name`; its diff."""
    current = read_policy(connection, name)
    steps = []
    if wanted is not None and wanted != current:
        verb = "add" if current is None else "replace"
        steps.append((f"{verb} policy {name}", functools.partial(connection.admin.policy_add, name, policy=wanted)))
    elif wanted is None and current is not None:
        steps.append((f"remove policy {name}", functools.partial(connection.admin.policy_remove, name)))
    minio_utils.apply(module, connection, steps, result)
    return dict(before=policy_text(current), after=policy_text(wanted))


# ---------------------------------------------------------------------------------------------
# Users.

def user_problems(spec, login_access_key, label=own_name):
    """Every problem of one user's input; a secret is never quoted."""
    errors = [problem for problem in [
        minio_rules.key_problem(spec["access_key"], f"{label('access_key')} {spec['access_key']!r}",
                                minio_rules.ACCESS_KEY_LENGTH)] if problem]
    if spec["access_key"] == login_access_key:
        errors.append(f"{label('access_key')} must not be login_access_key: the module does not manage the user "
                      "it signs in as")
    if spec["state"] == "present":
        if spec["secret_key"] is None:
            errors.append(f"{label('secret_key')} is required with state: present")
        else:
            errors += [problem for problem in [
                minio_rules.key_problem(spec["secret_key"], label("secret_key"), minio_rules.SECRET_KEY_LENGTH)]
                if problem]
    for index, name in enumerate(spec["policies"] or []):
        errors += [problem for problem in [minio_rules.policy_name_problem(name, f"{label('policies')}[{index}]")]
                   if problem]
    return errors


def read_user(connection, access_key):
    """The user as it is: state, enabled, policies."""
    info = connection.admin_json(f"read user {access_key}", connection.admin.user_info, access_key,
                                 absent_codes=(NO_SUCH_USER,))
    if info is None:
        return dict(access_key=access_key, state="absent", enabled=None, policies=None)
    policies = sorted(name for name in (info.get("policyName") or "").split(",") if name)
    return dict(access_key=access_key, state="present", enabled=info.get("status") == "enabled", policies=policies)


def secret_is_current(connection, access_key, secret_key):
    """Whether secret_key is the user's, found by listing the buckets with the user's keys."""
    what = f"check the secret key of user {access_key} (list the buckets with its keys)"
    unused, error = connection.attempt(what, connection.s3_client(access_key, secret_key).list_buckets)
    if error is None or minio_utils.error_code(error) == "AccessDenied":
        return True
    if minio_utils.error_code(error) in SECRET_DIFFERS:
        return False
    raise connection.failure(what, error) from error


def check_policies_exist(connection, names, coming=()):
    """Fails, before any change, when a policy to attach does not exist, nor is among `coming`
    (those the same module run adds first, which check mode only reports)."""
    names = sorted(set(names) - set(coming))
    if not names:
        return
    existing = connection.admin_json("list the policies", connection.admin.policy_list)
    missing = sorted(set(names) - set(existing))
    if missing:
        raise minio_utils.Failure(f"policies {', '.join(missing)} do not exist on {connection.endpoint}; add them "
                                  "first (policies of selfhost.stack.minio_content, or "
                                  "selfhost.stack.minio_policy); nothing was changed")


def policy_steps(connection, access_key, current, wanted):
    """The attach and detach steps that give the user exactly the wanted policies."""
    admin, steps = connection.admin, []
    attach, detach = sorted(set(wanted) - set(current)), sorted(set(current) - set(wanted))
    if attach:
        steps.append((f"attach policies {', '.join(attach)} to user {access_key}",
                      functools.partial(admin.attach_policy, attach, user=access_key)))
    if detach:
        steps.append((f"detach policies {', '.join(detach)} from user {access_key}",
                      functools.partial(admin.detach_policy, detach, user=access_key)))
    return steps


def present_user(module, connection, result, spec, current, coming):
    """Makes the user as wanted; returns it as it is after the run."""
    admin = connection.admin
    access_key, secret_key, enabled = spec["access_key"], spec["secret_key"], spec["enabled"]
    wanted_policies = (current["policies"] or []) if spec["policies"] is None else sorted(set(spec["policies"]))
    check_policies_exist(connection, sorted(set(wanted_policies) - set(current["policies"] or [])), coming)
    after = dict(access_key=access_key, state="present", enabled=enabled, policies=wanted_policies, secret="set")
    add_user = functools.partial(admin.user_add, access_key, secret_key)
    if current["state"] == "absent":
        # A new user is enabled; MinIO attaches policies to enabled users only, so disable it last.
        steps = [(f"add user {access_key}", add_user)] + policy_steps(connection, access_key, [], wanted_policies)
        if not enabled:
            steps.append((f"disable user {access_key}", functools.partial(admin.user_disable, access_key)))
        minio_utils.apply(module, connection, steps, result)
        return after

    policies_change = wanted_policies != current["policies"]
    is_enabled = current["enabled"]
    if not is_enabled and (enabled or policies_change):
        reason = "" if enabled else " to change its policies (MinIO changes only an enabled user's)"
        minio_utils.apply(module, connection,
                          [(f"enable user {access_key}{reason}", functools.partial(admin.user_enable, access_key))],
                          result)
        is_enabled = not module.check_mode
    steps = []
    if spec["update_secret"] == "on_create":
        after["secret"] = "unchecked"
    elif not is_enabled:
        after["secret"] = "unchecked"
        module.warn(f"the secret key of user {access_key} was not checked: MinIO authenticates no request of a "
                    "disabled user" + (" (check mode)" if enabled or policies_change else ""))
    elif secret_is_current(connection, access_key, secret_key):
        after["secret"] = "current"
    else:
        # Setting the secret enables the user too; a user to disable is disabled below.
        steps.append((f"set the secret key of user {access_key}", add_user))
    steps += policy_steps(connection, access_key, current["policies"], wanted_policies)
    if not enabled and (current["enabled"] or steps or policies_change):
        steps.append((f"disable user {access_key}", functools.partial(admin.user_disable, access_key)))
    minio_utils.apply(module, connection, steps, result)
    return after


def keep_user(module, connection, result, spec, coming=()):
    """Makes or removes the user of spec; returns the user after the run (never its secret) and its diff."""
    access_key = spec["access_key"]
    current = read_user(connection, access_key)
    if spec["state"] == "present":
        after = present_user(module, connection, result, spec, current, coming)
    else:
        after = dict(access_key=access_key, state="absent", enabled=None, policies=None, secret=None)
        if current["state"] == "present":
            minio_utils.apply(module, connection, [(f"remove user {access_key}", functools.partial(
                connection.admin.user_remove, access_key))], result)
    return after, dict(before=current, after={key: value for key, value in after.items() if key != "secret"})


# ---------------------------------------------------------------------------------------------
# Buckets.

def bucket_problems(spec, label=own_name):
    """Every problem of one bucket's input."""
    problem = minio_rules.bucket_name_problem(spec["name"])
    errors = [problem if label is own_name else f"{label('name')}: {problem}"] if problem else []
    if spec["state"] == "present" and spec["object_lock"] and spec["versioning"] == "suspended":
        errors.append(f"{label('versioning')}: suspended is impossible with {label('object_lock')}: true (object "
                      "lock needs versioning)")
    return errors


def read_bucket(connection, name):
    """The bucket as it is: state, versioning and object lock."""
    s3 = connection.s3
    if not connection.call(f"check whether bucket {name} exists", s3.bucket_exists, name):
        return dict(name=name, state="absent", versioning=None, object_lock=None)
    status = connection.call(f"read the versioning of bucket {name}", s3.get_bucket_versioning, name).status
    object_lock = connection.read(f"read the object lock of bucket {name}", (NO_OBJECT_LOCK,),
                                  s3.get_object_lock_config, name) is not None
    versioning = {value: key for key, value in VERSIONING_STATUS.items()}.get(status, "unversioned")
    return dict(name=name, state="present", versioning=versioning, object_lock=object_lock)


def object_versions(connection, name, limit=None):
    """The bucket's object versions and delete markers (the first `limit` of them), as DeleteObject."""
    listing = connection.s3.list_objects(name, recursive=True, include_version=True)
    return [minio_utils.DeleteObject(item.object_name, item.version_id)
            for item in connection.call(f"list the objects of bucket {name}", list_some, listing, limit)]


def list_some(iterator, limit):
    """The first `limit` items of iterator (all when limit is None); the listing requests run here."""
    items = []
    for item in iterator:
        items.append(item)
        if limit is not None and len(items) >= limit:
            break
    return items


def delete_all(connection, name, objects):
    """Deletes objects from the bucket, in batches; the first refusal (a retention, say) fails."""
    for error in connection.s3.remove_objects(name, objects):
        raise minio_utils.Failure(f"deleting {error.name} (version {error.version_id}) from bucket {name} "
                                  f"failed: {error.code}: {error.message}")


def plan_present(spec, current):
    """The steps that make the bucket as wanted, and the bucket after them; Failure when impossible."""
    name, want_lock, want_versioning = spec["name"], spec["object_lock"], spec["versioning"]
    steps, after = [], dict(current, state="present")
    if current["state"] == "absent":
        lock = bool(want_lock)
        steps.append((f"make bucket {name}" + (" with object lock" if lock else ""), ("make", lock)))
        after.update(object_lock=lock, versioning="enabled" if lock else "unversioned")
    elif want_lock is not None and want_lock != current["object_lock"]:
        raise minio_utils.Failure(
            f"bucket {name} exists {'without' if want_lock else 'with'} object lock, which can only be set when a "
            f"bucket is made and never removed; make a new bucket with object_lock: {str(want_lock).lower()} and copy "
            f"the objects, or change object_lock to {str(current['object_lock']).lower()}; nothing was changed")
    if want_versioning and want_versioning != after["versioning"]:
        if after["object_lock"] and want_versioning == "suspended":
            raise minio_utils.Failure(f"bucket {name} has object lock, whose versioning cannot be suspended; "
                                      "nothing was changed")
        verb = "enable" if want_versioning == "enabled" else "suspend"
        steps.append((f"{verb} versioning of bucket {name}", ("versioning", want_versioning)))
        after["versioning"] = want_versioning
    return steps, after


def step_function(connection, name, step):
    """The call that makes one planned step."""
    kind, value = step
    s3 = connection.s3
    if kind == "make":
        return functools.partial(s3.make_bucket, name, object_lock=value)
    if kind == "versioning":
        return functools.partial(s3.set_bucket_versioning, name,
                                 minio_utils.VersioningConfig(VERSIONING_STATUS[value]))
    if kind == "delete_objects":
        return functools.partial(delete_all, connection, name, value)
    return functools.partial(s3.remove_bucket, name)


def keep_bucket(module, connection, result, spec):
    """Makes or removes the bucket of spec; returns the bucket after the run, the number of object
    versions deleted (None unless removed), and its diff."""
    name = spec["name"]
    current = read_bucket(connection, name)
    deleted = None
    if spec["state"] == "present":
        planned, after = plan_present(spec, current)
    else:
        planned, after, deleted = [], dict(name=name, state="absent", versioning=None, object_lock=None), 0
        if current["state"] == "present":
            objects = object_versions(connection, name, limit=None if spec["force"] else 1)
            if objects and not spec["force"]:
                raise minio_utils.Failure(f"bucket {name} is not empty; nothing was removed; set force: true to "
                                          "delete its objects (every version) with it")
            if objects:
                planned.append((f"delete the {len(objects)} object versions of bucket {name}",
                                ("delete_objects", objects)))
                deleted = len(objects)
            planned.append((f"remove bucket {name}", ("remove", None)))
    minio_utils.apply(module, connection,
                      [(description, step_function(connection, name, step)) for description, step in planned], result)
    return after, deleted, dict(before=current, after=after)
