# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renders the files module's templates on the controller, then runs the module once."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core 2.18 trusts every template

    def trust_as_template(value):
        return value


class ActionModule(ActionBase):
    """Each file of `files` given as a `template` is rendered here, as ansible.builtin.template
    renders one, into its `content`; the module then writes the whole set in one run.

    The template lookup would do the same but copies every variable of the host, deeply, for each
    template (tens of milliseconds each, a few seconds a run); this layers the template's own
    variables over the task's instead."""

    _supports_check_mode = True
    _VALID_ARGS = frozenset(("directories", "files"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        files = self._task.args.get("files") or []
        if not isinstance(files, list):
            raise AnsibleActionFail("files: a list of files, each with `dest` and `content` or `template`")
        module_args = dict(self._task.args, files=[self._rendered(spec, task_vars) for spec in files])
        result.update(self._execute_module(module_name="selfhost.stack.files", module_args=module_args,
                                           task_vars=task_vars))
        return result

    def _rendered(self, spec, task_vars):
        """The file's spec, with its template (if any) rendered into its content."""
        if not isinstance(spec, dict) or not spec.get("template"):
            return spec
        spec = dict(spec)
        name = spec.pop("template")
        template_vars = spec.pop("template_vars", None) or {}
        if spec.get("content") is not None:
            raise AnsibleActionFail(f"files: {spec.get('dest')} takes `content` or `template`, not both")
        source = self._find_needle("templates", name)
        # Includes and imports resolve as ansible.builtin.template resolves them.
        searchpath = [*task_vars.get("ansible_search_path", []), self._loader.get_basedir(), os.path.dirname(source)]
        searchpath = [path for base in searchpath for path in (os.path.join(base, "templates"), base)]
        # The variables ansible.builtin.template adds (template_path, ansible_managed unless set).
        added = generate_ansible_template_vars(path=name, fullpath=source, dest_path=spec.get("dest"))
        if "ansible_managed" in task_vars:
            del added["ansible_managed"]
        variables = task_vars.copy()
        variables.update(added)
        variables.update(template_vars)
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        content = templar.template(trust_as_template(self._loader.get_text_file_contents(source)),
                                   escape_backslashes=False)
        spec["content"] = "" if content is None else str(content)
        return spec
