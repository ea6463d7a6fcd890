"""Logging: one line per event, human-readable or JSON lines, with every secret removed.

Human (default):  2024-05-01T06:00:00Z INFO  worker: run published 12 tabs to xlsx:out/kpis.xlsx
JSON lines:       {"time": "2024-05-01T06:00:00Z", "level": "info", "logger": "kpi_sync.worker", "message": "..."}

Redaction happens in the handler, after the message is formatted and after a traceback is
rendered, so nothing reaches the stream unredacted: not a message, not an argument, not an
exception text, not a `--debug` traceback. What is removed:

- every credential the environment holds (Settings.secrets), except names that only identify
  something (the spreadsheet id, the Lucca base URL, the key file's path);
- the key material of a Google service-account key (from GOOGLE_SERVICE_ACCOUNT_JSON, plain or
  base64, or from the file GOOGLE_SERVICE_ACCOUNT_FILE names): private_key in its PEM and
  JSON-escaped forms, and private_key_id;
- anything shaped like a credential even when we never saw its value: PEM private-key blocks,
  `lucca application=...` headers, bearer tokens, JWTs, and `"private_key"`-like JSON fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sync.settings import Secrets, Settings

LOGGER = "kpi_sync"
LogFormat = Literal["human", "json"]
LOG_FORMATS: tuple[str, ...] = ("human", "json")
REDACTED = "[redacted]"

# Secrets.NAMES whose values identify a resource without granting access: shown in logs as they are.
NOT_CREDENTIALS = frozenset({"KPI_SYNC_SPREADSHEET_ID", "LUCCA_BASE_URL", "GOOGLE_SERVICE_ACCOUNT_FILE"})
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would blank out ordinary text

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A PEM private key, whole or cut short (a truncated message may lack the END line).
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
     "[redacted private key]"),
    # The Lucca header: Authorization: lucca application=<key>
    (re.compile(r"(?i)(lucca\s+application\s*=\s*)[^\s,;'\"}]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    # JSON / form fields that hold credentials.
    (re.compile(r"(?i)(\"?(?:private_key_id|private_key|client_secret|access_token|refresh_token|id_token|assertion|"
                r"api_key|apikey)\"?\s*[:=]\s*\"?)([^\"\s&,}]+)"), r"\1" + REDACTED),
    # Signed JWTs (the service-account assertion, id tokens).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # Google OAuth access tokens.
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), REDACTED),
)


class Redactor:
    """Removes known secret values and credential-shaped text from any string."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret containing another is removed whole.
        self._values = sorted(values, key=len, reverse=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls(secret_values(settings.secrets))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Redactor:
        from sync.settings import Secrets

        return cls(secret_values(Secrets(environ)))

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"


def secret_values(secrets: Secrets) -> list[str]:
    """Every value that must never be shown: credentials from the environment and the key material they hold."""
    out: list[str] = []
    for name in type(secrets).NAMES:
        value = secrets.get(name)
        if not value:
            continue
        if name == "GOOGLE_SERVICE_ACCOUNT_FILE":
            if _looks_like_key_text(value):  # the key itself was pasted where its path belongs
                out.extend([value, *_key_material(value)])
            else:
                out.extend(_key_material(_read_small(value)))
            continue
        if name in NOT_CREDENTIALS:
            continue
        out.append(value)
        out.extend(_key_material(value))
    return out


def _looks_like_key_text(value: str) -> bool:
    return value.lstrip().startswith("{") or "PRIVATE KEY" in value or len(value) > 1024


def _read_small(path: str) -> str:
    try:
        file = Path(path)
        if file.is_file() and file.stat().st_size < 1_000_000:
            return file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return ""


def clip(text: str, size: int) -> str:
    """At most `size` characters of a text that was redacted first (cutting first could leave half a secret)."""
    return text if len(text) <= size else text[: max(0, size - 3)] + "..."


def decode_base64_text(text: str) -> str | None:
    """Base64 of UTF-8 text as people paste it (wrapped lines, URL-safe alphabet, padding dropped), decoded; or None.

    The one decoding both the key loader (sync.sinks.gsheet) and the redactor use, so every key shape the job
    accepts is also one the redactor learns key material from."""
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    if not compact:
        return None
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _key_material(text: str) -> list[str]:
    """The secret parts of a service-account key given as JSON or base64 of JSON (any shape the key loader
    accepts); [] for anything else."""
    if not text:
        return []
    candidates = [text]
    decoded = decode_base64_text(text) if not text.lstrip().startswith("{") else None
    if decoded is not None:
        candidates.append(decoded)
        # a wrapped base64 value: each of its lines is a secret too
        candidates_lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 16]
    else:
        candidates_lines = []
    out: list[str] = list(candidates_lines)
    for candidate in candidates:
        try:
            info = json.loads(candidate, strict=False)  # strict=False: the loader accepts raw newlines too
        except ValueError:
            continue
        if not isinstance(info, dict):
            continue
        out.append(candidate)
        for key in ("private_key", "private_key_id", "client_secret", "refresh_token"):
            value = info.get(key)
            if isinstance(value, str) and value:
                out.append(value)
                out.append(json.dumps(value)[1:-1])  # as it appears inside JSON text: \n escaped
                out.extend(line for line in value.splitlines() if len(line) >= 16 and "-----" not in line)
    return out


class RedactingFormatter(logging.Formatter):
    """Formats a record (human or JSON), then removes every secret from the whole line."""

    def __init__(self, fmt: LogFormat = "human", redactor: Redactor | None = None):
        super().__init__()
        self.kind = fmt
        self.redactor = redactor or Redactor()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        import time

        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z"

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the event
            message = f"{record.msg} {record.args}"
        details = ""
        if record.exc_info:
            details = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            details = record.exc_text
        if record.stack_info:
            details = (details + "\n" + record.stack_info).strip()
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        redact = self.redactor
        # Redact the raw texts first (JSON escaping would hide a value's literal form), then the whole line.
        message, details = redact(message), redact(details)
        fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        if self.kind == "json":
            payload: dict[str, Any] = {
                "time": self.formatTime(record),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": message,
            }
            for key, value in fields.items():
                payload.setdefault(key, value)
            if details:
                payload["traceback"] = details
            return redact(json.dumps(payload, ensure_ascii=False, default=str))
        line = f"{self.formatTime(record)} {record.levelname:<7} {_short_name(record.name)}: {message}"
        if fields:
            line += " " + " ".join(f"{k}={_human_value(v)}" for k, v in fields.items())
        if details:
            line += " | " + details
        return redact(one_line(line))


def one_line(text: str) -> str:
    """Every line break turned into ' | ', so one event stays one line (Heroku splits log lines)."""
    return " | ".join(part.rstrip() for part in text.splitlines() if part.strip()) if "\n" in text or "\r" in text else text


def _short_name(name: str) -> str:
    return name.removeprefix(LOGGER + ".") if name != LOGGER else "kpi-sync"


def _human_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (not text or any(c.isspace() for c in text)) else text


class _Handler(logging.StreamHandler):  # type: ignore[type-arg, unused-ignore]
    """A stream handler that finds the stream at emit time (pytest's capsys swaps sys.stderr)."""

    def __init__(self, stream: IO[str] | None):
        super().__init__(stream or sys.stderr)
        self._fixed = stream is not None

    def emit(self, record: logging.LogRecord) -> None:
        if not self._fixed:
            self.stream = sys.stderr
        super().emit(record)


_installed: list[logging.Handler] = []


def setup_logging(
    fmt: str = "human",
    *,
    redactor: Redactor | None = None,
    debug: bool = False,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every log record (ours and the libraries') through one redacting handler on stderr.

    Our loggers (`kpi_sync.*`) log at INFO (DEBUG with `debug`); other libraries at WARNING (their DEBUG
    output is noise here, and the place where request headers would show).
    Calling it again replaces the handler it installed before (e.g. once the secrets are known).
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(LOG_FORMATS)}")
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    _installed.clear()
    handler = _Handler(stream)
    handler.setFormatter(RedactingFormatter(fmt, redactor))  # type: ignore[arg-type]
    root.addHandler(handler)
    _installed.append(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER).setLevel(logging.DEBUG if debug else logging.INFO)
    logging.captureWarnings(True)
    return handler


def current_redactor() -> Redactor:
    """The redactor of the installed handler (an empty one when logging is not set up)."""
    for handler in _installed:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            return formatter.redactor
    return Redactor()


def current_format() -> str:
    for handler in _installed:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            return formatter.kind
    return "human"


def format_exception(exc: BaseException, redactor: Redactor | None = None) -> str:
    """A traceback as text, with secrets removed (for `--debug`)."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (redactor or current_redactor())(text)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER}.{name}")
