"""The controller imports the collection's filter files in every task's worker process (to find
a filter by its name), so no filter file may import a client library: importing minio and
psycopg there cost a third of a no-change run's controller CPU."""

from __future__ import annotations

import os
import subprocess
import sys

CLIENT_LIBRARIES = ("minio", "psycopg", "urllib3", "Crypto", "Cryptodome")

IMPORT_EVERY_FILTER = """
import importlib, pkgutil, sys
import ansible_collections.selfhost.stack.plugins.filter as filters
for module in pkgutil.iter_modules(filters.__path__):
    importlib.import_module(f"{filters.__name__}.{module.name}")
print(" ".join(sorted(name for name in sys.argv[1:] if name in sys.modules)))
"""


def test_importing_every_filter_imports_no_client_library():
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    imported = subprocess.run([sys.executable, "-c", IMPORT_EVERY_FILTER, *CLIENT_LIBRARIES], env=environment,
                              capture_output=True, text=True, check=True).stdout.split()
    assert imported == []
