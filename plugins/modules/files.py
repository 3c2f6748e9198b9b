#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes a set of small text files and their directories in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: files
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Write a set of small text files and their directories in one module run
description:
  - Makes each directory of O(directories) and writes each file of O(files) whose content,
    owner, group or mode differ from what is on the host, making its directory (mode 0755) when
    missing; removes each file given as absent; leaves the others alone. What
    M(ansible.builtin.copy) and M(ansible.builtin.template) do for one file with two module runs
    (a stat, then a write or an attribute check), this does for all of a task's files with one.
  - A file given as a O(files[].template) is rendered on the controller, as
    M(ansible.builtin.template) renders one, into its content.
  - Each file is written atomically (a temporary file in its directory, given its owner, group
    and mode before it takes the file's place), after O(files[].validate) accepts it.
  - It reports one change for the task; notify the handler that the set's files share.
options:
  directories:
    description: Directories to create (with their parents) or to give their owner, group and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      owner:
        description: Its owner.
        type: str
        default: root
      group:
        description: Its group.
        type: str
        default: root
      mode:
        description: Its mode, in octal.
        type: str
        default: "0755"
  files:
    description: Files to write, after the directories are made.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: The file.
        type: path
        required: true
      content:
        description:
          - Its whole content; this or O(files[].template) unless O(files[].state=absent). The
            result's arguments show its size only; a file that holds a secret is written by a task
            with C(no_log), which hides its diff too.
        type: str
      template:
        description:
          - A template of the role's C(templates) directory (or a path), rendered on the controller
            with the task's variables into the file's content.
        type: str
      template_vars:
        description: Variables of the O(files[].template) only, over the task's.
        type: dict
      state:
        description:
          - V(absent) removes the file where it exists (a drop-in that no longer applies); its
            other options are ignored.
        type: str
        choices: [present, absent]
        default: present
      owner:
        description: Its owner.
        type: str
        default: root
      group:
        description: Its group.
        type: str
        default: root
      mode:
        description: Its mode, in octal.
        type: str
        default: "0644"
      validate:
        description:
          - A command that must accept the new content before it takes the file's place, with
            C(%s) standing for the path of the new content, such as C(/usr/sbin/sshd -t -f %s).
        type: str
      keep_when_matches:
        description:
          - A regular expression (Python's, with C(^) and C($) matching at each line). While the
            file's current content matches it, the file is left as it is, content, owner and mode. For a file
            the role writes once, replacing the package's, and the program rewrites from then on
            (Redis's C(redis.conf), Sentinel's C(sentinel.conf)).
        type: str
attributes:
  action:
    description: Renders the templates on the controller, then runs the module on the host once.
    support: full
  check_mode:
    description: Reports what it would change and changes nothing; O(files[].validate) does not run.
    support: full
  diff_mode:
    description: Each changed file's content before and after.
    support: full
"""

EXAMPLES = r"""
- name: Configure chrony
  selfhost.stack.files:
    directories:
      - path: /etc/systemd/system/chrony.service.d
    files:
      - dest: /etc/chrony/sources.d/selfhost.sources
        template: chrony.sources.j2
      - dest: /etc/systemd/system/chrony.service.d/selfhost.conf
        content: |
          [Service]
          ExecStart=
          ExecStart=/usr/sbin/chronyd -x $DAEMON_OPTS
  notify: Restart chrony
"""

RETURN = r"""
changed_paths:
  description: The directories and files it created or changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/chrony/sources.d/selfhost.sources]
"""

import grp
import os
import pwd
import re
import shlex
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.selfhost.stack.plugins.module_utils.files import atomic_write

# A file larger than this is not shown in a diff.
DIFF_LIMIT = 128 * 1024


def identity(module, owner, group):
    """The uid and gid of owner and group. A name the host does not know fails the module, except
    in check mode, where the run would create it first (a package's system user): then (-1, -1),
    which no file has, so the file shows as one that would change."""
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError as error:
        if module.check_mode:
            return -1, -1
        module.fail_json(msg=f"unknown owner or group on this host: {owner}:{group} ({error})")
        raise  # not reached: fail_json exits


def octal(module, text):
    """A mode given in octal, such as 0644."""
    try:
        return int(text, 8)
    except (TypeError, ValueError):
        module.fail_json(msg=f"mode {text!r} is not an octal mode such as 0644")
        raise


def attributes_differ(status, uid, gid, mode):
    """Whether a stat result has another owner, group or mode."""
    return (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) != (uid, gid, mode)


def ensure_directory(module, spec):
    """Makes or fixes one directory; returns whether it changed (or would)."""
    path = spec["path"]
    uid, gid = identity(module, spec["owner"], spec["group"])
    mode = octal(module, spec["mode"])
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISDIR(status.st_mode):
        module.fail_json(msg=f"{path} exists and is not a directory")
    if status is not None and not attributes_differ(status, uid, gid, mode):
        return False
    if not module.check_mode:
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    return True


def shown(data):
    """Bytes as a diff shows them."""
    return data.decode("utf-8", "replace") if len(data) <= DIFF_LIMIT else "(too large to show)\n"


def current_content(path):
    """The file's bytes and its stat result, or (None, None) when it is absent."""
    try:
        with open(path, "rb") as existing:
            return existing.read(), os.fstat(existing.fileno())
    except FileNotFoundError:
        return None, None


def check_with(module, command, text, directory):
    """Runs the validate command on text in a temporary file; fails the module when it refuses."""
    if "%s" not in command:
        module.fail_json(msg=f"validate: {command!r} must name the new content's path as %s")
    temporary = os.path.join(directory, f".selfhost-validate-{os.getpid()}")
    atomic_write(temporary, text, 0o600)
    try:
        rc, out, err = module.run_command(shlex.split(command.replace("%s", temporary)))
    finally:
        os.unlink(temporary)
    if rc != 0:
        module.fail_json(msg=f"validate refused the new content: {command} exited {rc}", stdout=out, stderr=err)


def remove_file(module, path, diffs):
    """Removes one file where it exists; returns whether it changed (or would)."""
    before, _status = current_content(path)
    if before is None:
        return False
    if module._diff:
        diffs.append({"before_header": path, "after_header": path, "before": shown(before), "after": ""})
    if not module.check_mode:
        os.unlink(path)
    return True


def write_file(module, spec, diffs):
    """Writes, fixes or removes one file; returns whether it changed (or would)."""
    path = spec["dest"]
    if spec["state"] == "absent":
        return remove_file(module, path, diffs)
    uid, gid = identity(module, spec["owner"], spec["group"])
    mode = octal(module, spec["mode"])
    wanted = spec["content"].encode("utf-8")
    before, status = current_content(path)
    if before is not None and spec["keep_when_matches"] \
            and re.search(spec["keep_when_matches"], before.decode("utf-8", "replace"), re.MULTILINE):
        return False
    if before == wanted and not attributes_differ(status, uid, gid, mode):
        return False
    if module._diff and before != wanted:
        diffs.append({"before_header": path, "after_header": path,
                      "before": shown(before) if before is not None else "", "after": shown(wanted)})
    if module.check_mode:
        return True
    if before == wanted:
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        return True
    if spec["validate"]:
        check_with(module, spec["validate"], spec["content"], os.path.dirname(path) or ".")
    atomic_write(path, spec["content"], mode, uid, gid)
    return True


def main():
    directory_spec = {"path": {"type": "path", "required": True},
                      "owner": {"type": "str", "default": "root"},
                      "group": {"type": "str", "default": "root"},
                      "mode": {"type": "str", "default": "0755"}}
    file_spec = {"dest": {"type": "path", "required": True},
                 "content": {"type": "str"},
                 "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                 "owner": {"type": "str", "default": "root"},
                 "group": {"type": "str", "default": "root"},
                 "mode": {"type": "str", "default": "0644"},
                 "validate": {"type": "str"},
                 "keep_when_matches": {"type": "str"},
                 # Rendered into content by the action of the same name before the module runs.
                 "template": {"type": "str"},
                 "template_vars": {"type": "dict"}}
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": directory_spec},
            "files": {"type": "list", "elements": "dict", "default": [], "options": file_spec,
                      "required_if": [("state", "present", ("content", "template"), True)]},
        },
        supports_check_mode=True,
    )
    # The result's invocation shows a content's size, never the content: no_log would also blank
    # every diff that shows it. A file that holds a secret is written by a task with no_log.
    wanted_files = module.params["files"]
    for spec in wanted_files:
        if spec["template"] is not None:
            module.fail_json(msg=f"{spec['dest']}: its template is rendered by the action selfhost.stack.files, "
                                 "which runs the module itself")
    module.params["files"] = [dict(spec, content=f"({len(spec['content'] or '')} characters)") for spec in wanted_files]
    changed_paths, diffs = [], []
    for spec in module.params["directories"]:
        if ensure_directory(module, spec):
            changed_paths.append(spec["path"])
    for spec in wanted_files:
        if write_file(module, spec, diffs):
            changed_paths.append(spec["dest"])
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
