"""Shared test settings: quiet progress bars, few threads (tests run 2-way parallel)."""

import os

os.environ.setdefault("NOISYHW_QUIET", "1")

import torch

torch.set_num_threads(1)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A loud line when an optional extra's tests were skipped for want of the extra."""
    import importlib.util

    try:
        missing = importlib.util.find_spec("ray") is None
    except (ImportError, ValueError):  # sys.modules["ray"] = None also means "not importable"
        missing = True
    if missing:
        terminalreporter.write_line(
            "WARNING: Ray is not installed, the Ray executor tests were skipped: "
            "pip install -e .[ray] (make test installs it)",
            yellow=True,
            bold=True,
        )
