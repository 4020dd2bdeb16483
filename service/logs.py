"""Log set-up: one JSON object per line (default) or plain text for humans."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

__all__ = ["JsonFormatter", "configure_logging"]

_HANDLER_NAME = "integrations-service"


class JsonFormatter(logging.Formatter):
    """Renders a record as one JSON line; an RPC record's fields are flattened into it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rpc = getattr(record, "rpc", None)
        if isinstance(rpc, dict):
            entry.update(rpc)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger message key=value...` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rpc = getattr(record, "rpc", None)
        if isinstance(rpc, dict):
            line += " " + " ".join(f"{k}={v}" for k, v in rpc.items() if v not in ("", None))
        return line


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Routes the service's logs to stderr in `log_format` ("json" or "text")."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "text":
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own earlier handler: others (a test harness's capture) stay in place.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
