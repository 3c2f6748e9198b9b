#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keeps a user of a MinIO server: its secret, its policies and whether it is enabled."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: minio_user
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Keep a user of a MinIO server, its secret key and policies
description:
  - Adds or removes one user of MinIO's built-in identity provider, keeps its canned policies
    (attached and detached one by one, the others left alone) and whether it is enabled.
  - The admin API never returns a user's secret key. With O(update_secret=always) the module
    finds out whether O(secret_key) is current by signing one cheap S3 request (listing the
    buckets) with the user's keys; the server's answer tells a wrong secret
    (C(SignatureDoesNotMatch)) from a right one (success, or C(AccessDenied) for a user not
    allowed to list buckets). It sets the secret only when it differs, so a second run
    reports no change.
  - MinIO authenticates no request of a disabled user, so the secret of a user that is and
    stays disabled cannot be checked; it is left as it is, with a warning.
  - MinIO changes the policies of enabled users only. To change those of a user that stays
    disabled, the module enables it, changes them and disables it again.
  - Every input is checked, and every policy to attach is looked up, before anything changes.
options:
  access_key:
    description:
      - The user's access key (its name), 3 to 20 characters. It cannot be O(login_access_key).
    type: str
    required: true
  secret_key:
    description:
      - The user's secret key, 8 to 40 characters. Required with O(state=present).
    type: str
  policies:
    description:
      - The canned policies the user has, exactly; the ones it has and are not listed are
        detached. Each must exist (see M(selfhost.stack.minio_policy)).
      - The user's policies are left as they are when not given; V([]) detaches them all.
    type: list
    elements: str
  enabled:
    description: Whether the user may sign in.
    type: bool
    default: true
  update_secret:
    description:
      - V(always) checks the secret of an existing user and sets it when it differs.
      - V(on_create) sets the secret only when making the user; later runs never check it.
    type: str
    choices: [always, on_create]
    default: always
  state:
    description: Whether the user exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - selfhost.stack.minio
attributes:
  check_mode:
    description:
      - Only reads (the secret check included); reports the actions it would take. The secret
        of a disabled user that the run would enable cannot be checked in check mode.
    support: full
  diff_mode:
    description: Shows the user's state, whether it is enabled, and its policies before and after; never the secret.
    support: full
"""

EXAMPLES = r"""
- name: Keep the application's user
  selfhost.stack.minio_user:
    access_key: app
    secret_key: "{{ vault_minio_app_secret }}"
    policies: [app-readwrite]
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"

- name: Lock a user out, keeping it
  selfhost.stack.minio_user:
    access_key: contractor
    secret_key: "{{ vault_minio_contractor_secret }}"
    enabled: false
    endpoint: https://10.0.0.1:9000
    login_access_key: "{{ minio_root_user }}"
    login_secret_key: "{{ minio_root_password }}"
"""

RETURN = r"""
user:
  description: The user after the run (in check mode, as it would be); never its secret.
  returned: always
  type: dict
  contains:
    access_key:
      description: The user's access key.
      type: str
      sample: app
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    enabled:
      description: Whether the user is enabled; null when absent.
      type: bool
      sample: true
    policies:
      description: The user's policies, sorted; null when absent.
      type: list
      elements: str
      sample: [app-readwrite]
    secret:
      description:
        - V(set) when the run set the secret (or in check mode would), V(current) when it was
          checked and is right, V(unchecked) when it was not checked (O(update_secret=on_create),
          a disabled user, check mode), null when absent.
      type: str
      sample: current
actions:
  description: What the run did, or in check mode would do, in order.
  returned: always
  type: list
  elements: str
  sample: ["add user app", "attach policies app-readwrite to user app"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_content


def logic(module, connection, result):
    result["user"], result["diff"] = minio_content.keep_user(module, connection, result, module.params)


def main():
    argument_spec = dict(minio_content.USER_SPEC)
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    minio_utils.check_input(module, minio_content.user_problems(module.params, module.params["login_access_key"]))
    result = dict(changed=False, actions=[], user={})
    minio_utils.run(module, logic, result)


if __name__ == "__main__":
    main()
