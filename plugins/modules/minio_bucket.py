#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a bucket of a MinIO server: its existence, versioning and object lock."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_bucket
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep a bucket of a MinIO server, its versioning and object lock
description:
  - Makes or removes one bucket of a MinIO (or S3-compatible) server, and keeps its versioning.
  - Reads the bucket's state first and changes only what differs.
  - Object lock can only be turned on when a bucket is made, and never off. Asking for
    O(object_lock=true) on an existing bucket without it (or V(false) on one with it) fails
    and changes nothing.
  - A bucket is removed only when it is empty, unless O(force=true); the module never deletes
    objects without that option.
  - The name is checked against S3's rules before the module connects.
options:
  name:
    description:
      - The bucket's name. 3 to 63 lower-case letters, digits, dots or hyphens, starting and
        ending with a letter or digit, no dot next to a dot or hyphen, not an IP address, not
        starting with C(xn--) or C(sthree-), not ending with C(-s3alias) or C(--ol-s3).
    type: str
    required: true
  state:
    description: Whether the bucket exists.
    type: str
    choices: [present, absent]
    default: present
  versioning:
    description:
      - V(enabled) keeps every version of every object; V(suspended) stops making new versions
        (the old ones stay).
      - Left as it is when not given; a new bucket is then unversioned (versioned when
        O(object_lock=true), which needs versioning).
      - V(suspended) together with O(object_lock=true) is refused.
    type: str
    choices: [enabled, suspended]
  object_lock:
    description:
      - Whether the bucket has object lock (write-once retention), which only making the
        bucket can turn on.
      - Left unchecked when not given; a new bucket then has none.
    type: bool
  force:
    description:
      - With O(state=absent), delete every object and version in the bucket, then the bucket.
        Without it, a bucket that holds anything is not removed and the module fails.
    type: bool
    default: false
extends_documentation_fragment:
  - selfhost.stack.minio
attributes:
  check_mode:
    description: Only reads; reports the actions it would take.
    support: full
  diff_mode:
    description: Shows the bucket's state, versioning and object lock before and after.
    support: full
"""

EXAMPLES = r"""
- name: Keep the backups bucket, versioned and with object lock
  selfhost.stack.minio_bucket:
    name: backups
    versioning: enabled
    object_lock: true
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
    ca_file: /etc/ssl/selfhost/ca.pem

- name: Remove a scratch bucket and everything in it
  selfhost.stack.minio_bucket:
    name: scratch
    state: absent
    force: true
    endpoint: http://127.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
"""

RETURN = r"""
bucket:
  description: The bucket after the run (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    name:
      description: The bucket's name.
      type: str
      sample: backups
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    versioning:
      description: V(enabled), V(suspended), or V(unversioned) for a bucket whose versioning was never set; null when absent.
      type: str
      sample: enabled
    object_lock:
      description: Whether the bucket has object lock; null when absent.
      type: bool
      sample: true
actions:
  description: What the run did, or in check mode would do, in order.
  returned: always
  type: list
  elements: str
  sample: ["make bucket backups with object lock", "enable versioning of bucket backups"]
objects_deleted:
  description: How many object versions O(force=true) deleted (in check mode, would delete).
  returned: when O(state=absent)
  type: int
  sample: 0
"""

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules

VERSIONING_STATUS = {"enabled": "Enabled", "suspended": "Suspended"}
# S3's answer when a bucket has no object lock configuration.
NO_OBJECT_LOCK = "ObjectLockConfigurationNotFoundError"


def validate(params):
    """Every problem of the module's own input, as messages."""
    errors = [problem for problem in [minio_rules.bucket_name_problem(params["name"])] if problem]
    if params["state"] == "present" and params["object_lock"] and params["versioning"] == "suspended":
        errors.append("versioning: suspended is impossible with object_lock: true (object lock needs versioning)")
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


def plan_present(params, current):
    """The steps that make the bucket as wanted, and the bucket after them; Failure when impossible."""
    name, want_lock, want_versioning = params["name"], params["object_lock"], params["versioning"]
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


def logic(module, connection, result):
    params = module.params
    name = params["name"]
    current = read_bucket(connection, name)
    result["diff"]["before"] = current
    if params["state"] == "present":
        planned, after = plan_present(params, current)
    else:
        planned, after = [], dict(name=name, state="absent", versioning=None, object_lock=None)
        result["objects_deleted"] = 0
        if current["state"] == "present":
            objects = object_versions(connection, name, limit=None if params["force"] else 1)
            if objects and not params["force"]:
                raise minio_utils.Failure(f"bucket {name} is not empty; nothing was removed; set force: true to "
                                          "delete its objects (every version) with it")
            if objects:
                planned.append((f"delete the {len(objects)} object versions of bucket {name}",
                                ("delete_objects", objects)))
                result["objects_deleted"] = len(objects)
            planned.append((f"remove bucket {name}", ("remove", None)))
    result["bucket"] = result["diff"]["after"] = after
    minio_utils.apply(module, connection,
                      [(description, step_function(connection, name, step)) for description, step in planned], result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        versioning=dict(type="str", choices=["enabled", "suspended"]),
        object_lock=dict(type="bool"),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    minio_utils.check_input(module, validate(module.params))
    result = dict(changed=False, actions=[], bucket={}, diff=dict(before={}, after={}))
    minio_utils.run(module, logic, result)


if __name__ == "__main__":
    main()
