"""Which statements a query template may hold: the allowed statement kinds, and the functions
and relations that would reach beyond the one query (session state, the server's files,
other connections).

Checked on the lexer's code tokens (engines/sql_gateway/templates.scan_sql), so names inside string
literals and comments do not count, and quoted identifiers are compared case-insensitively
(refusing `"SET_CONFIG"` too, which is the safe side). The database enforces READ ONLY and the
role's privileges in any case; these checks keep session-altering SQL out of the pool at
registration, where the author can be told why.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["READ_KINDS", "WRITE_KINDS", "statement_problems"]

READ_KINDS = frozenset({"select", "with", "values", "table"})
WRITE_KINDS = frozenset({"insert", "update", "delete", "merge"})
# `SELECT ... FOR UPDATE` / `FOR NO KEY UPDATE` lock rows; the READ ONLY transaction refuses them.
_LOCK_PREFIXES = frozenset({"for", "key"})

# Exact names, then prefixes. Each changes state that outlives the statement, reads or writes
# the server's files, runs SQL text out of sight of these checks, or acts on other sessions.
_DENIED_NAMES = {
    "set_config": "changes session settings",
    "pg_settings": "writing it changes session settings",
    "pg_notify": "sends notifications to other sessions",
    "pg_read_file": "reads the database server's files",
    "pg_read_binary_file": "reads the database server's files",
    "pg_stat_file": "reads the database server's files",
    "loread": "uses large objects",
    "lowrite": "uses large objects",
    "pg_terminate_backend": "acts on other sessions",
    "pg_cancel_backend": "acts on other sessions",
    "pg_reload_conf": "changes the server's configuration",
    "pg_rotate_logfile": "acts on the server",
    "pg_switch_wal": "acts on the server",
    "pg_promote": "acts on the server",
    "pg_import_system_collations": "changes the catalog",
    "pg_log_backend_memory_contexts": "acts on other sessions",
}
_DENIED_PREFIXES = (
    ("pg_advisory_", "takes advisory locks that outlive the query"),
    ("pg_try_advisory_", "takes advisory locks that outlive the query"),
    ("dblink", "opens connections to other databases"),
    ("lo_", "uses large objects (server files and session state)"),
    ("pg_ls_", "lists the database server's files"),
    ("pg_file_", "writes the database server's files"),
    ("query_to_xml", "runs SQL text"),
    ("cursor_to_xml", "reads cursors"),
    ("table_to_xml", "reads tables by name"),
    ("schema_to_xml", "reads schemas by name"),
    ("database_to_xml", "reads the whole database"),
    ("pg_logical_", "acts on replication"),
    ("pg_replication_", "acts on replication"),
    ("pg_create_", "acts on replication or the server"),
    ("pg_drop_replication", "acts on replication"),
    ("pg_backup_", "acts on the server"),
    ("pg_start_backup", "acts on the server"),
    ("pg_stop_backup", "acts on the server"),
    ("pg_stat_reset", "resets statistics"),
    ("pg_wal_replay_", "acts on the server"),
)


def _denied(name: str) -> str | None:
    if name in _DENIED_NAMES:
        return _DENIED_NAMES[name]
    for prefix, why in _DENIED_PREFIXES:
        if name.startswith(prefix):
            return why
    return None


def _kind(tokens: Sequence[str]) -> str:
    for token in tokens:
        if token != "(":
            return token
    return ""


def statement_problems(tokens: Sequence[str], read_only: bool) -> list[str]:
    """Why the statement made of `tokens` cannot be a template (empty when it can).

    Read-only templates: SELECT, WITH, VALUES or TABLE, without data-modifying parts.
    Read-write templates: additionally INSERT, UPDATE, DELETE or MERGE. Never a utility
    statement (SET, PREPARE, COPY, CREATE, DO, ...), `SELECT ... INTO` (which creates a table),
    or a denied function or relation."""
    allowed = READ_KINDS if read_only else READ_KINDS | WRITE_KINDS
    kind = _kind(tokens)
    if kind not in allowed:
        shown = kind.lstrip('"').upper() or "(nothing)"
        kinds = ", ".join(sorted(k.upper() for k in allowed))
        if kind in WRITE_KINDS:
            hint = "a template that writes must set read_only: false"
        else:
            hint = "utility statements such as SET, PREPARE, COPY or CREATE are refused"
        return [f"must be a {kinds} statement, not {shown} ({hint})"]
    problems: list[str] = []
    previous = ""
    for token in tokens:
        name = token.lstrip('"')
        why = _denied(name)
        if why is not None:
            problems.append(f"uses {name}, which {why}")
        elif name == "into" and previous not in ("insert", "merge"):
            problems.append("uses SELECT ... INTO, which creates a table")
        elif read_only and name in WRITE_KINDS and not (
            name == "update" and previous in _LOCK_PREFIXES
        ):
            problems.append(
                f"is read-only and contains {name.upper()} (a data-modifying part); "
                "a template that writes must set read_only: false"
            )
        previous = name
    return list(dict.fromkeys(problems))
