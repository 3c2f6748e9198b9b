#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a MinIO server's canned policies, users and buckets in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_content
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep a MinIO server's canned policies, users and buckets in one module run
description:
  - Does for every policy, user and bucket given what M(selfhost.stack.minio_policy),
    M(selfhost.stack.minio_user) and M(selfhost.stack.minio_bucket) do for one, with the same
    options, over one connection and in one module run, whatever their number. A run that
    finds everything as wanted changes nothing.
  - In this order, so that each step finds what it needs, policies added or replaced; users;
    buckets; then policies removed (MinIO refuses to remove a policy a user still has).
  - Every item's input is checked, and no two items of a list may share a name, before the
    module connects. It stops at the first request the server refuses, naming it; what was
    done before it is in RV(actions).
options:
  policies:
    description: Canned policies, as O(selfhost.stack.minio_policy#module:name) and the options beside it.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The policy's name; no comma and no white space.
        type: str
        required: true
      policy:
        description: The policy document, a JSON object (a YAML mapping) or a string of JSON. Required with O(policies[].state=present).
        type: raw
      state:
        description: Whether the policy exists.
        type: str
        choices: [present, absent]
        default: present
  users:
    description: Users of MinIO's built-in identity provider, as M(selfhost.stack.minio_user) keeps one.
    type: list
    elements: dict
    default: []
    suboptions:
      access_key:
        description: The user's access key (its name), 3 to 20 characters; not O(login_access_key).
        type: str
        required: true
      secret_key:
        description: The user's secret key, 8 to 40 characters. Required with O(users[].state=present).
        type: str
      policies:
        description:
          - The canned policies the user has, exactly. Each must exist or be among O(policies).
          - Left as they are when not given; V([]) detaches them all.
        type: list
        elements: str
      enabled:
        description: Whether the user may sign in.
        type: bool
        default: true
      update_secret:
        description: V(always) checks the secret of an existing user and sets it when it differs; V(on_create) never checks it.
        type: str
        choices: [always, on_create]
        default: always
      state:
        description: Whether the user exists.
        type: str
        choices: [present, absent]
        default: present
  buckets:
    description: Buckets, as M(selfhost.stack.minio_bucket) keeps one.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The bucket's name, by S3's rules (see M(selfhost.stack.minio_bucket)).
        type: str
        required: true
      versioning:
        description: V(enabled) or V(suspended); left as it is when not given.
        type: str
        choices: [enabled, suspended]
      object_lock:
        description: Whether the bucket has object lock, which only making it can turn on; unchecked when not given.
        type: bool
      state:
        description: Whether the bucket exists.
        type: str
        choices: [present, absent]
        default: present
      force:
        description: With O(buckets[].state=absent), delete every object and version in the bucket first.
        type: bool
        default: false
extends_documentation_fragment:
  - selfhost.stack.minio
attributes:
  check_mode:
    description:
      - Only reads; reports the actions it would take. A user may name a policy that the same
        run would add.
    support: full
  diff_mode:
    description: Each policy, user and bucket that differs, before and after; never a secret.
    support: full
"""

EXAMPLES = r"""
- name: Keep the application's policy, user and bucket
  selfhost.stack.minio_content:
    policies:
      - name: app-readwrite
        policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
              Resource: ["arn:aws:s3:::app", "arn:aws:s3:::app/*"]
    users:
      - {access_key: app, secret_key: "{{ vault_minio_app_secret }}", policies: [app-readwrite]}
    buckets:
      - {name: app, versioning: enabled}
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
"""

RETURN = r"""
policies:
  description: Each policy of O(policies) after the run (in check mode, as it would be), normalised; its C(policy) null when absent.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "app-readwrite", "policy": {"Version": "2012-10-17", "Statement": []}}]
users:
  description: Each user of O(users) after the run, as M(selfhost.stack.minio_user) returns it; never its secret.
  returned: always
  type: list
  elements: dict
  sample: [{"access_key": "app", "state": "present", "enabled": true, "policies": ["app-readwrite"], "secret": "current"}]
buckets:
  description:
    - Each bucket of O(buckets) after the run, as M(selfhost.stack.minio_bucket) returns it; with
      C(objects_deleted), the object versions deleted, when it was removed.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "app", "state": "present", "versioning": "enabled", "object_lock": false}]
actions:
  description: What the run did, or in check mode would do, in order.
  returned: always
  type: list
  elements: str
  sample: ["add policy app-readwrite", "add user app", "attach policies app-readwrite to user app", "make bucket app"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_content


def labeller(option, index):
    """The label of an item's option in the module's messages: policies[0].name, say."""
    return lambda suboption: f"{option}[{index}].{suboption}"


def duplicates(option, names):
    """A problem naming the names given twice in one list, or None."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    return f"{option}: {', '.join(repeated)} given more than once" if repeated else None


def validate(params):
    """The wanted policy documents (by index) and every problem of the module's input."""
    wanted, errors = {}, []
    for index, spec in enumerate(params["policies"]):
        wanted[index], problems = minio_content.policy_problems(spec, labeller("policies", index))
        errors += problems
    for index, spec in enumerate(params["users"]):
        errors += minio_content.user_problems(spec, params["login_access_key"], labeller("users", index))
    for index, spec in enumerate(params["buckets"]):
        errors += minio_content.bucket_problems(spec, labeller("buckets", index))
    errors += [problem for problem in [
        duplicates("policies", [spec["name"] for spec in params["policies"]]),
        duplicates("users", [spec["access_key"] for spec in params["users"]]),
        duplicates("buckets", [spec["name"] for spec in params["buckets"]])] if problem]
    return wanted, errors


def logic(module, connection, result, wanted):
    params, diffs = module.params, []
    policies = list(enumerate(params["policies"]))

    def keep_policies(state):
        for index, spec in policies:
            if spec["state"] == state:
                diff = minio_content.keep_policy(module, connection, result, spec["name"], wanted[index])
                result["policies"][index] = dict(name=spec["name"], policy=wanted[index])
                diffs.append(dict(diff, before_header=f"policy {spec['name']}", after_header=f"policy {spec['name']}"))

    keep_policies("present")
    coming = [spec["name"] for spec in params["policies"] if spec["state"] == "present"]
    for spec in params["users"]:
        user, diff = minio_content.keep_user(module, connection, result, spec, coming)
        result["users"].append(user)
        diffs.append(dict(diff, before_header=f"user {spec['access_key']}", after_header=f"user {spec['access_key']}"))
    for spec in params["buckets"]:
        bucket, deleted, diff = minio_content.keep_bucket(module, connection, result, spec)
        result["buckets"].append(bucket if deleted is None else dict(bucket, objects_deleted=deleted))
        diffs.append(dict(diff, before_header=f"bucket {spec['name']}", after_header=f"bucket {spec['name']}"))
    keep_policies("absent")
    result["diff"] = [diff for diff in diffs if diff["before"] != diff["after"]]


def main():
    argument_spec = dict(
        policies=dict(type="list", elements="dict", default=[], options=minio_content.POLICY_SPEC),
        users=dict(type="list", elements="dict", default=[], options=minio_content.USER_SPEC),
        buckets=dict(type="list", elements="dict", default=[], options=minio_content.BUCKET_SPEC),
    )
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted, errors = validate(module.params)
    minio_utils.check_input(module, errors)
    result = dict(changed=False, actions=[], policies=[None] * len(module.params["policies"]), users=[], buckets=[])
    minio_utils.run(module, lambda module, connection, result: logic(module, connection, result, wanted), result)


if __name__ == "__main__":
    main()
