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
import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules

NO_SUCH_POLICY = "XMinioAdminNoSuchPolicy"


def validate(params):
    """The wanted policy (canonical, or None when absent) and every problem of the module's input."""
    errors = [problem for problem in [minio_rules.policy_name_problem(params["name"], "name")] if problem]
    wanted = None
    if params["state"] == "present":
        if params["policy"] is None:
            errors.append("policy is required with state: present")
        else:
            try:
                wanted = minio_rules.canonical_policy(minio_rules.parse_policy(params["policy"]))
            except ValueError as error:
                errors.append(f"policy {error}")
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


def logic(module, connection, result, wanted):
    name = module.params["name"]
    current = read_policy(connection, name)
    result["diff"] = dict(before=policy_text(current), after=policy_text(wanted))
    result["policy"] = wanted
    steps = []
    if wanted is not None and wanted != current:
        verb = "add" if current is None else "replace"
        steps.append((f"{verb} policy {name}", functools.partial(connection.admin.policy_add, name, policy=wanted)))
    elif wanted is None and current is not None:
        steps.append((f"remove policy {name}", functools.partial(connection.admin.policy_remove, name)))
    minio_utils.apply(module, connection, steps, result)


def policy_text(policy):
    """A policy as text for the diff, keys sorted; empty when there is none."""
    return "" if policy is None else json.dumps(policy, indent=2, sort_keys=True) + "\n"


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        policy=dict(type="raw"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted, errors = validate(module.params)
    minio_utils.check_input(module, errors)
    result = dict(changed=False, actions=[], policy=None)
    minio_utils.run(module, functools.partial(logic, wanted=wanted), result)


if __name__ == "__main__":
    main()
