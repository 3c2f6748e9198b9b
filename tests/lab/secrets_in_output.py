"""Fails when a run's output shows any secret value of an inventory.

Usage: python3 tests/lab/secrets_in_output.py INVENTORY OUTPUT_FILE

The secrets are found by name, not listed by hand: every value, at any depth, of a variable or
field whose name says it holds a secret (password, passphrase, secret, token, a private key's
content, not a file's path). Templates are left out: what they render to is another variable's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

SECRET_NAME = re.compile(r"(password|passphrase|secret|token|private_key)$|^(secret|private)_key$", re.IGNORECASE)
NOT_A_SECRET = re.compile(r"_(file|path|dir)$", re.IGNORECASE)


def secrets(value, name="", found=None):
    """The secret strings in a variable's value, keyed by where they were found."""
    found = {} if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            secrets(item, f"{name}.{key}" if name else str(key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            secrets(item, f"{name}[{index}]", found)
    elif isinstance(value, str) and "{{" not in value:
        leaf = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", name)[-1]
        if SECRET_NAME.search(leaf) and not NOT_A_SECRET.search(leaf) and len(value) >= 6:
            found.setdefault(value, name)
    return found


def main(inventory, output_file):
    listed = json.loads(subprocess.run(["ansible-inventory", "-i", inventory, "--list"],
                                       capture_output=True, text=True, check=True).stdout)
    found = {}
    for host, variables in listed.get("_meta", {}).get("hostvars", {}).items():
        for name, value in variables.items():
            secrets(value, name, found)
    if not found:
        print(f"no secret values found in {inventory}: the check would prove nothing")
        return 1
    output = open(output_file, encoding="utf-8", errors="replace").read()
    shown = {value: where for value, where in found.items() if value in output}
    for value, where in sorted(shown.items(), key=lambda item: item[1]):
        print(f"the output shows the value of {where} {output.count(value)} times")
    print(f"{len(found)} secret values of {inventory} looked for in {len(output.splitlines())} lines of output: "
          f"{len(shown)} shown")
    return 1 if shown else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
