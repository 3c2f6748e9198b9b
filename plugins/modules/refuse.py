#!/usr/bin/python
# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the refuse action (plugins/action/refuse.py): it runs on the controller only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: refuse
version_added: 0.1.0
author: selfhost.stack contributors (@selfhost-stack)
short_description: Check a role's input in one task and name every variable that is wrong
description:
  - Evaluates each check of O(checks) on the controller, like the conditions of
    M(ansible.builtin.assert), and fails with the message of every check that does not hold, each
    on its own line. A user who got three variables wrong learns of all three in one run.
  - One task for all of a role's checks, instead of an assert per check, so that a run that finds
    nothing wrong pays for one task.
  - Messages are rendered before the checks are evaluated, so each must render whatever the
    input (use C(default) for a value that may be missing). Messages never hold secrets, and the
    result never holds the values checked.
options:
  checks:
    description: The checks, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      that:
        description:
          - A condition, or a list of conditions, written as for C(when). The check holds when all
            hold; they are evaluated in order, and the first that does not hold ends the check, so
            a later one may rely on an earlier.
        type: list
        elements: str
        required: true
      msg:
        description: What is wrong and how to fix it, starting with the variable's name.
        type: str
        required: true
      when:
        description:
          - A condition, or a list of conditions, for the check to apply at all, as for a task's
            C(when); without it the check always applies.
        type: list
        elements: str
attributes:
  action:
    description: Runs on the controller; the host is not contacted.
    support: full
  check_mode:
    description: Evaluates the checks in check mode too.
    support: full
  diff_mode:
    description: Changes nothing, so has no diff.
    support: none
"""

EXAMPLES = r"""
- name: Refuse bad input before any change
  selfhost.stack.refuse:
    checks:
      - that: postgresql_major | int >= 13
        msg: "postgresql_version: from 13 on (got {{ postgresql_version }})."
      - that:
          - postgresql_users | map(attribute='name') | reject('match', '^[a-z][a-z0-9_]*$') | list | length == 0
        msg: "postgresql_users: names must be lower-case letters, digits and underscores."
"""

RETURN = r"""
failures:
  description: The messages of the checks that do not hold.
  returned: always
  type: list
  elements: str
  sample: ["postgresql_version: from 13 on (got 12)."]
"""
