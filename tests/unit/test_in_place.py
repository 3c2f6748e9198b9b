"""The checkout resolves as selfhost.stack in place, through ansible.cfg and the setup's link."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ansible_doc_finds_the_filter_in_place():
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "filter", "--json", "selfhost.stack.topology_errors"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    doc = json.loads(result.stdout)["selfhost.stack.topology_errors"]["doc"]
    assert doc["short_description"] == "List what is inconsistent in a platform inventory"
    assert doc["collection"] == "selfhost.stack"


def test_every_role_is_listed_in_place():
    result = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "role", "--list", "--json", "selfhost.stack"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    listed = {name.split(".")[-1] for name in json.loads(result.stdout)}
    assert listed == {p.name for p in (REPO / "roles").iterdir() if p.is_dir()}
