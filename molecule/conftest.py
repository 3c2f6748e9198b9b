"""Lets every scenario's tests import the shared helpers of tests/lab/scenario.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))
