"""Offline stand-in for the get-pip.py script that ansible-test downloads to put pip into each
sanity test's virtualenv. These machines cannot reach that script's site, so tests/run.sh saves
this file in its place, next to the same pip release downloaded from PyPI, and it installs pip
from that wheel. ansible-test runs it as: python get_pip_X_Y.py [pip options] pip==X.Y
"""

import glob
import os
import runpy
import sys

CACHE = os.path.dirname(os.path.abspath(__file__))
VERSION = os.path.basename(__file__)[len("get_pip_"):-len(".py")].replace("_", ".")
WHEEL = glob.glob(os.path.join(CACHE, f"pip-{VERSION}-*.whl"))[0]

# get-pip.py's own options, which pip itself does not know.
OPTIONS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", "--no-index", "--find-links", CACHE, *OPTIONS]
sys.path.insert(0, WHEEL)
runpy.run_module("pip", run_name="__main__", alter_sys=True)
