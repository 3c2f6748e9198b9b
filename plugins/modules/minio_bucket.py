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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_content


def logic(module, connection, result):
    result["bucket"], deleted, result["diff"] = minio_content.keep_bucket(module, connection, result, module.params)
    if deleted is not None:
        result["objects_deleted"] = deleted


def main():
    argument_spec = dict(minio_content.BUCKET_SPEC)
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    minio_utils.check_input(module, minio_content.bucket_problems(module.params))
    result = dict(changed=False, actions=[], bucket={}, diff=dict(before={}, after={}))
    minio_utils.run(module, logic, result)


if __name__ == "__main__":
    main()
