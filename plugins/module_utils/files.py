# Copyright: selfhost.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File writes shared by the collection's modules."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path, text, mode, uid=None, gid=None):
    """Writes text to path so that a reader sees the old file or the new one, never half of
    either. The temporary file is mode 0600 from its first byte (mkstemp), so a private key
    is never readable by others, not even for a moment; it gets mode (and uid and gid, when
    given) before it takes path's place. The directory is made (0755) when missing."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".selfhost-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        if uid is not None:
            os.chown(temporary, uid, gid)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
