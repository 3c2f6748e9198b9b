# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL identifiers the collection composes into SQL, checked without psycopg: shared
by the PostgreSQL modules and the tenant checks of the postgresql role's inventory filter, which
the controller imports in every task's worker and so must stay cheap to import."""

from __future__ import annotations

import re

# The identifiers these modules compose into SQL: lower case, so that they never need quoting
# to mean what they say, and at most NAMEDATALEN - 1 bytes, beyond which PostgreSQL would
# silently truncate them.
IDENTIFIER_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
IDENTIFIER_FORM = "a lower-case letter followed by lower-case letters, digits or underscores (^[a-z][a-z0-9_]*$)"
IDENTIFIER_MAX_BYTES = 63


def identifier_problem(value, what):
    """Why value cannot be used as the identifier `what`, or None when it can."""
    # fullmatch: with match, $ would let a trailing newline through.
    if not isinstance(value, str) or not IDENTIFIER_PATTERN.fullmatch(value):
        return f"{what} {value!r} must be {IDENTIFIER_FORM}"
    if len(value.encode("utf-8")) > IDENTIFIER_MAX_BYTES:
        return f"{what} {value!r} must be at most {IDENTIFIER_MAX_BYTES} bytes long"
    return None
