# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluates all of a role's input checks on the controller in one task, and fails with every message."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """One task for all of a role's checks: each is evaluated like an assert's conditions, and
    the task fails with the message of every check that does not hold, not only the first."""

    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("checks",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        checks = self._task.args.get("checks")
        if not isinstance(checks, list) or not all(isinstance(check, dict) for check in checks):
            raise AnsibleActionFail("checks: a list of checks, each with `that` and `msg`, is required")
        failures = []
        for number, check in enumerate(checks, 1):
            if not {"that", "msg"} <= set(check) <= {"that", "msg", "when"}:
                raise AnsibleActionFail(f"checks[{number}]: give `that`, `msg` and, optionally, `when` "
                                        f"(got {', '.join(sorted(check))})")
            if self._holds(check.get("when", [])) and not self._holds(check["that"]):
                failures.append(str(check["msg"]).strip())
        result["changed"] = False
        result["failures"] = failures
        if failures:
            result["failed"] = True
            result["msg"] = "\n".join(failures)
        else:
            result["msg"] = f"All {len(checks)} checks passed"
        return result

    def _holds(self, conditions):
        """Whether the condition, or each of the list's, holds; the first that does not ends it."""
        conditions = conditions if isinstance(conditions, list) else [conditions]
        return all(self._templar.evaluate_conditional(conditional=condition) for condition in conditions)
