"""Structured logs: one JSON object per line, carrying the request id of the request at hand;
and the CLI's log file, where a command's unexpected failure leaves its traceback."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fleet.core.config import get_settings
from fleet.core.i18n import Lang, texts_for

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# LogRecord's own attributes; anything else on a record was passed with extra= and is kept.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner may swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging() -> None:
    """Root logging to stderr: JSON lines (FLEET_LOG_JSON) at FLEET_LOG_LEVEL."""
    settings = get_settings()
    handler = _StderrHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if settings.log_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_fleet", False)]:
        root.removeHandler(old)
    handler._fleet = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())


# Words after which a command line carries a secret: the log keeps the option, not its value.
_SECRET_OPTIONS = ("password", "secret", "token", "key")


def _cli_log_path() -> Path:
    configured = get_settings().cli_log_file
    if configured is not None:
        return configured
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "fleet" / "cli.log"


def _masked(argv: list[str]) -> list[str]:
    shown, hide_next = [], False
    for word in argv:
        name = word.split("=", 1)[0].lower()
        secret = word.startswith("-") and any(s in name for s in _SECRET_OPTIONS)
        if hide_next:
            shown.append("***")
        elif secret and "=" in word:
            shown.append(f"{word.split('=', 1)[0]}=***")
        else:
            shown.append(word)
        hide_next = secret and "=" not in word
    return shown


def write_crash(exc: BaseException, argv: list[str]) -> Path | None:
    """Appends a command's unexpected failure, traceback and all, to the CLI's log file (see
    Settings.cli_log_file; the temporary folder when that cannot be written); where it went, or
    None when nowhere could take it."""
    entry = (
        f"--- {datetime.now(UTC).isoformat(timespec='seconds')} fleet "
        f"{' '.join(_masked(argv))}\n" + "".join(traceback.format_exception(exc))
    )
    for path in (_cli_log_path(), Path(tempfile.gettempdir()) / "fleet-cli.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log_file:
                log_file.write(entry)
            return path.resolve()
        except OSError:
            continue
    return None


def crash_line(exc: BaseException, where: Path | None, lang: Lang) -> str:
    """The one line a user sees for a command's unexpected failure, in `lang`."""
    texts = texts_for(lang)
    if where is None:
        return texts.gettext(
            "error: the command failed unexpectedly ({kind}), and no log file could be "
            "written (set FLEET_CLI_LOG_FILE to a writable file)",
            kind=type(exc).__name__,
        )
    return texts.gettext(
        "error: the command failed unexpectedly ({kind}); the details are in {log} "
        "(set FLEET_CLI_LOG_FILE to write them elsewhere)",
        kind=type(exc).__name__,
        log=str(where),
    )
