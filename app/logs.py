"""How the process logs: plain text (the default) or JSON lines (`SAMSKAPA_LOG_FORMAT=json`),
and what never reaches a log line in either.

One `logging` configuration for the app's own loggers and uvicorn's (its access log and
its WebSocket lines too), applied by `samskapa serve` and handed to uvicorn. A JSON line
carries `timestamp` (UTC), `level`, `logger`, `message`, and `room` and `instance` where
they are known, plus `exception` for a traceback and `method`, `path` and `status` for an
access line; no other field, so nothing a library attaches to a record leaks through.

- **room**: the room a request or a socket is about (`bind_room`, set by app/main.py for
  the request's task, by app/cluster.py for a relayed client's), or `extra={"room": ...}`.
- **instance**: this process's id on the bus (`set_instance`), as app/cluster.py names it.

Never logged, in either format (`Redact`, on every handler): a URL's query string (no
token is ever put in one, app/ws.py, but a client may put anything there; a fragment never
reaches a server), the parameters SQLAlchemy prints with a failed statement (a note's
text, a name), and the input pydantic repeats in a validation error. The app's own calls
log ids and counts only, never a token, a name or a note.

Must not import `app`: anything may log.
"""

from __future__ import annotations

import logging
import logging.config
import re
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

_room: ContextVar[str | None] = ContextVar("samskapa_log_room", default=None)
_instance: str | None = None


def bind_room(room_id: str | None) -> Token[str | None]:
    """Name the room in every line logged from this task (and what it starts) on."""
    return _room.set(room_id)


def unbind_room(token: Token[str | None]) -> None:
    _room.reset(token)


def set_instance(instance_id: str | None) -> None:
    global _instance
    _instance = instance_id


# ---------------------------------------------------------------- what never reaches a line

_QUERY = re.compile(r"(/[^\s\"?#]*)[?#][^\s\"]*")
# SQLAlchemy's "[parameters: (...)]", up to its "(Background on this error ...)" or the line's
# end, in a message or in repr() of the error (where the newline is written as \n).
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?(?=\\n\(Background on this error|$)", re.MULTILINE)
_PYDANTIC_INPUT = re.compile(r"input_value=.*?, input_type=", re.MULTILINE)


def scrub(text: str) -> str:
    """`text` without query strings, SQL parameters and repeated validation input."""
    if "?" in text or "#" in text:
        text = _QUERY.sub(r"\1?…", text)
    if "[parameters: " in text:
        text = _SQL_PARAMETERS.sub("[parameters: hidden]", text)
    if "input_value=" in text:
        text = _PYDANTIC_INPUT.sub("input_value=hidden, input_type=", text)
    return text


def _path_only(path: object) -> str:
    text = str(path)
    cut = min((at for at in (text.find("?"), text.find("#")) if at >= 0), default=-1)
    return text if cut < 0 else text[:cut] + "?…"


class Redact(logging.Filter):
    """On every handler: scrubs the record in place, and stamps `room` and `instance`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "room"):
            record.room = _room.get()
        record.instance = _instance
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn's access formatter reads the request from args: keep their shape.
            client, method, path, version, status = record.args
            record.args = (client, method, _path_only(path), version, status)
            record.method, record.path, record.status = method, _path_only(path), status
        else:
            record.msg = scrub(record.getMessage())
            record.args = ()
            # uvicorn's coloured copy of the message, with the unscrubbed arguments.
            record.__dict__.pop("color_message", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


# ---------------------------------------------------------------- JSON lines

_OPTIONAL_FIELDS = ("room", "instance", "method", "path", "status")


class JsonLines(JsonFormatter):
    """One JSON object per line, with only the fields named in the module docstring."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = scrub(record.getMessage())
        for name in _OPTIONAL_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                log_data[name] = value
        exception = record.exc_text or message_dict.get("exc_info")
        if exception:
            log_data["exception"] = scrub(str(exception))
        if record.stack_info:
            log_data["stack"] = record.stack_info


# ---------------------------------------------------------------- the configuration


def configure(log_format: LogFormat) -> None:
    """Log as `config` says; in JSON, Python's warnings too (as lines of the logger
    `py.warnings`), so that a JSON log holds nothing but JSON lines."""
    logging.config.dictConfig(config(log_format))
    logging.captureWarnings(log_format == "json")


TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


def config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the app and uvicorn (uvicorn's `log_config`)."""
    redact = {"redact": {"()": Redact}}
    if log_format == "json":
        return {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": redact,
            "formatters": {"json": {"()": JsonLines, "json_ensure_ascii": False}},
            "handlers": {
                "json": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "json",
                    "filters": ["redact"],
                }
            },
            "root": {"handlers": ["json"], "level": level},
            # uvicorn's loggers go through the root's one handler, as every other.
            "loggers": {
                "uvicorn": {"handlers": [], "level": level, "propagate": True},
                "uvicorn.error": {"level": level},
                "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            },
        }
    # Text: as before, the app's lines as "LEVEL logger: message", uvicorn's as uvicorn
    # prints them; only scrubbed.
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": redact,
        "formatters": {
            "app": {"format": TEXT_FORMAT},
            # uvicorn's own names: it sets their use_colors when told to.
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        },
        "handlers": {
            "app": {"class": "logging.StreamHandler", "formatter": "app", "filters": ["redact"]},
            "uvicorn": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["redact"],
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
                "filters": ["redact"],
            },
        },
        "root": {"handlers": ["app"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["uvicorn"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
        },
    }
