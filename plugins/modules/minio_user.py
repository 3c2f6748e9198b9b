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

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils import minio as minio_utils
from ansible_collections.selfhost.stack.plugins.module_utils import minio_rules

NO_SUCH_USER = "XMinioAdminNoSuchUser"
# The S3 answers to a request signed with a secret that is not the user's.
SECRET_DIFFERS = ("SignatureDoesNotMatch", "InvalidAccessKeyId")


def validate(params):
    """Every problem of the module's own input; a secret is never quoted."""
    errors = [problem for problem in [
        minio_rules.key_problem(params["access_key"], f"access_key {params['access_key']!r}",
                                minio_rules.ACCESS_KEY_LENGTH)] if problem]
    if params["access_key"] == params["login_access_key"]:
        errors.append("access_key must not be login_access_key: the module does not manage the user it signs in as")
    if params["state"] == "present":
        if params["secret_key"] is None:
            errors.append("secret_key is required with state: present")
        else:
            errors += [problem for problem in [
                minio_rules.key_problem(params["secret_key"], "secret_key", minio_rules.SECRET_KEY_LENGTH)] if problem]
    for index, name in enumerate(params["policies"] or []):
        errors += [problem for problem in [minio_rules.policy_name_problem(name, f"policies[{index}]")] if problem]
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


def check_policies_exist(connection, names):
    """Fails, before any change, when a policy to attach does not exist."""
    if not names:
        return
    existing = connection.admin_json("list the policies", connection.admin.policy_list)
    missing = sorted(set(names) - set(existing))
    if missing:
        raise minio_utils.Failure(f"policies {', '.join(missing)} do not exist on {connection.endpoint}; add them "
                                  "first (selfhost.stack.minio_policy); nothing was changed")


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


def present(module, connection, result, current):
    """Makes the user as wanted; fills result["user"]."""
    params, admin = module.params, connection.admin
    access_key, secret_key, enabled = params["access_key"], params["secret_key"], params["enabled"]
    wanted_policies = (current["policies"] or []) if params["policies"] is None else sorted(set(params["policies"]))
    check_policies_exist(connection, sorted(set(wanted_policies) - set(current["policies"] or [])))
    after = dict(access_key=access_key, state="present", enabled=enabled, policies=wanted_policies, secret="set")
    result["user"] = after
    add_user = functools.partial(admin.user_add, access_key, secret_key)
    if current["state"] == "absent":
        # A new user is enabled; MinIO attaches policies to enabled users only, so disable it last.
        steps = [(f"add user {access_key}", add_user)] + policy_steps(connection, access_key, [], wanted_policies)
        if not enabled:
            steps.append((f"disable user {access_key}", functools.partial(admin.user_disable, access_key)))
        minio_utils.apply(module, connection, steps, result)
        return

    policies_change = wanted_policies != current["policies"]
    is_enabled = current["enabled"]
    if not is_enabled and (enabled or policies_change):
        reason = "" if enabled else " to change its policies (MinIO changes only an enabled user's)"
        minio_utils.apply(module, connection,
                          [(f"enable user {access_key}{reason}", functools.partial(admin.user_enable, access_key))],
                          result)
        is_enabled = not module.check_mode
    steps = []
    if params["update_secret"] == "on_create":
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


def logic(module, connection, result):
    access_key = module.params["access_key"]
    current = read_user(connection, access_key)
    result["diff"] = dict(before=dict(current))
    if module.params["state"] == "present":
        present(module, connection, result, current)
    else:
        result["user"] = dict(access_key=access_key, state="absent", enabled=None, policies=None, secret=None)
        if current["state"] == "present":
            minio_utils.apply(module, connection, [(f"remove user {access_key}", functools.partial(
                connection.admin.user_remove, access_key))], result)
    result["diff"]["after"] = {key: value for key, value in result["user"].items() if key != "secret"}


def main():
    argument_spec = dict(
        access_key=dict(type="str", required=True, no_log=False),
        secret_key=dict(type="str", no_log=True),
        policies=dict(type="list", elements="str"),
        enabled=dict(type="bool", default=True),
        update_secret=dict(type="str", choices=["always", "on_create"], default="always"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    argument_spec.update(minio_utils.connection_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    minio_utils.check_input(module, validate(module.params))
    result = dict(changed=False, actions=[], user={})
    minio_utils.run(module, logic, result)


if __name__ == "__main__":
    main()
