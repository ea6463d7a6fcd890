"""kpi-sync: every side effect of the job (loading, configuration, sinks, CLI, scheduler)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kpi-sync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

import kpi  # noqa: E402,F401  (keeps pandas' own string storage with pyarrow installed: see kpi/__init__.py)
