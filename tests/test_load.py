"""The short version of benchmarks/load_test.py: a real `streamlit run` with several chromium pages at once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM
from tests.conftest import missing_prerequisite

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REPO = Path(__file__).resolve().parent.parent


def load_benchmark():
    spec = importlib.util.spec_from_file_location("load_test", REPO / "benchmarks" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_three_concurrent_visitors_see_no_error_and_live_digits(shipped_root, tmp_path):
    if not CHROMIUM.exists():
        missing_prerequisite(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    tally, peak, wall = load_benchmark().load_test(shipped_root, pages=3, seconds=20, log_dir=tmp_path)
    assert tally.failed_loads == [] and tally.exceptions == []
    assert tally.loads >= 7 and tally.latencies, "every visitor should have opened pages and moved a slider"
    assert peak < 3 * 2**30, f"the server grew to {peak / 2**30:.1f} GiB"
    assert wall < 20 + 120  # bounded: the last round finishes within its waits
