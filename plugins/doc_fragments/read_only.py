# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of the collection's modules that only read a host."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """extends_documentation_fragment: selfhost.stack.read_only"""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Reads the same in check mode; it never changes anything.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
"""
