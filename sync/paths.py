"""Input and config paths as a reader of the workbook should see them (sync/ decides; kpi/ only shows them)."""

from __future__ import annotations

import dataclasses
import os.path

from kpi.tables import InputFile
from sync.sources.loaded import Loaded


def shown_path(path: object, config_path: str) -> object:
    """An input file as a reader of the workbook should see it: relative to the config file's folder, as a
    [sources] entry names it ("../data/sample/payments/invoices.json"), never an absolute machine path (which
    shows the home directory); the file name alone when there is no config or no relative way there (another
    drive). Anything not an absolute path is returned as it is."""
    if not isinstance(path, str) or not os.path.isabs(path):
        return path
    if config_path and os.path.isabs(config_path):
        try:
            return os.path.relpath(path, os.path.dirname(config_path))
        except ValueError:  # another drive than the config's
            pass
    return os.path.basename(path) or path


def shown_inputs(loaded: Loaded, config_path: str) -> tuple[Loaded, tuple[InputFile, ...]]:
    """The loaded dataset with its issues' files, and its input files, named by `shown_path`."""
    files = loaded.issues["file"].map(lambda f: shown_path(f, config_path), na_action="ignore")
    inputs = tuple(dataclasses.replace(f, path=str(shown_path(f.path, config_path))) for f in loaded.inputs)
    dropped = tuple((str(shown_path(f, config_path)), n) for f, n in loaded.dropped)
    return dataclasses.replace(loaded, issues=loaded.issues.assign(file=files), inputs=inputs, dropped=dropped), inputs
