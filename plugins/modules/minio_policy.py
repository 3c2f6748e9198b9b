#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a canned (named) IAM policy of a MinIO server."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_policy
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep a canned IAM policy of a MinIO server
description:
  - Adds, replaces or removes one canned policy, the named policy documents that users and
    groups are given.
  - The policy the server has is compared with O(policy) by meaning, not by text. A single
    string for C(Action), C(Resource) (and their C(Not) forms) or a condition's value is the
    same as a list of that string, lists are compared as sets, empty elements (C(Sid) of
    V("")) are ignored and so is the order of statements. So a second run reports no change.
  - O(policy) is checked before the module connects.
  - MinIO refuses to remove a policy that a user or group still has; the module then fails
    naming the server's reason.
options:
  name:
    description: The policy's name; no comma (MinIO lists a user's policies comma-separated) and no white space.
    type: str
    required: true
  policy:
    description:
      - The policy document, a JSON object (a YAML mapping) or a string of JSON, with a
        C(Statement) list of at least one statement. Required with O(state=present).
      - MinIO also requires C(Version), normally V(2012-10-17), and checks the actions and
        condition keys itself.
    type: raw
  state:
    description: Whether the policy exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - selfhost.stack.minio
attributes:
  check_mode:
    description: Only reads; reports the action it would take.
    support: full
  diff_mode:
    description: Shows the policy document before and after, in the normalised form compared.
    support: full
"""

EXAMPLES = r"""
- name: Let the application read and write its bucket
  selfhost.stack.minio_policy:
    name: app-readwrite
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
          Resource: ["arn:aws:s3:::app/*"]
        - Effect: Allow
          Action: ["s3:ListBucket", "s3:GetBucketLocation"]
          Resource: ["arn:aws:s3:::app"]
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"

- name: Take a policy from a file
  selfhost.stack.minio_policy:
    name: backup-writer
    policy: "{{ lookup('ansible.builtin.file', 'policies/backup-writer.json') }}"
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
"""

RETURN = r"""
policy:
  description: The policy document after the run (in check mode, as it would be), normalised; null when absent.
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::app/*"]}]}
actions:
  description: What the run did, or in check mode would do.
  returned: always
  type: list
  elements: str
  sample: ["add policy app-readwrite"]
"""

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_content


def logic(module, connection, result, wanted):
    result["policy"] = wanted
    result["diff"] = minio_content.keep_policy(module, connection, result, module.params["name"], wanted)


def main():
    argument_spec = dict(minio_content.POLICY_SPEC)
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted, errors = minio_content.policy_problems(module.params)
    minio_utils.check_input(module, errors)
    result = dict(changed=False, actions=[], policy=None)
    minio_utils.run(module, functools.partial(logic, wanted=wanted), result)


if __name__ == "__main__":
    main()
