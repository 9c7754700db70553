"""The errors a user can cause (a bad value, missing data, an unwritable folder, a diverged run).

Each carries a one-line message that names the fix; the CLI prints it and exits with status 2,
the dashboard's worker shows it as the failed job's message. Imported lazily, so neither pays
for torch before it needs it.
"""

from __future__ import annotations


def expected_errors() -> tuple[type[Exception], ...]:
    """The exception types whose message is shown as it is, in one line, instead of a traceback."""
    from .atomic import SaveError
    from .config import ConfigError
    from .data import DataUnavailableError
    from .exports import ExportError
    from .importing import ImportRefused
    from .jobs import QueueError
    from .store import CheckpointError
    from .train import TrainingDiverged

    return (ConfigError, DataUnavailableError, CheckpointError, SaveError, TrainingDiverged, ExportError,
            QueueError, ImportRefused)
