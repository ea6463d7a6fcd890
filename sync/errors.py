"""The error tree. The CLI maps each to one line on stderr and an exit code; the worker logs them.

SyncError                    anything the job can explain to a person (exit 1)
 +-- ConfigError             a setting, a config file, a credential or a command-line value is wrong
 |    +-- UsageError        command-line flags that do not go together (exit 2, as argparse's own usage errors)
 +-- InputDataError          input files are missing, empty, or have too many bad lines
 +-- InvariantError          a computed table breaks a rule that must hold (e.g. the MRR identity)
 +-- PublishError            a sink could not write (Google Sheets refused, disk full, ...)
 |    +-- LimitError         a table is larger than the destination allows; nothing was sent
 +-- SourceAPIError          an HTTP source (the Lucca HR API) failed or answered something unreadable
 +-- GuardError              the run looks like bad data (input shrank, MRR collapsed): refused unless --force
 +-- LockedError             another run holds the lock (exit 3)
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class: the message is one line a person can act on."""

    exit_code = 1


class ConfigError(SyncError):
    pass


class UsageError(ConfigError):
    exit_code = 2


class InputDataError(SyncError):
    pass


class InvariantError(SyncError):
    pass


class PublishError(SyncError):
    pass


class LimitError(PublishError):
    pass


class SourceAPIError(SyncError):
    pass


class GuardError(SyncError):
    pass


class LockedError(SyncError):
    exit_code = 3
