"""The window's Database menu: SQLite, the lab's own PostgreSQL cluster, or a server's URL,
and Django's connection pool on or off.

The site's settings are read once, when Django is set up, so the choice is stored
(QSettings) and applied when the lab next starts: ``apply_saved`` runs before ``Lab.prepare``
and does what ``--db``/``--pool`` do on the command line.  A saved database that cannot be
reached falls back to SQLite, and the menu says why.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

ORGANISATION, APPLICATION = "DjangoAsyncExplorer", "Explorer"
KIND_KEY, URL_KEY, POOL_KEY = "database/kind", "database/url", "database/pool"
SQLITE, PRIVATE, SERVER = "sqlite", "postgres", "url"
# Why the saved database was not used at this start (shown in the menu), or None.
_fallback: str | None = None


def _settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def saved() -> tuple[str, str, bool]:
    s = _settings()
    return (
        str(s.value(KIND_KEY, SQLITE)),
        str(s.value(URL_KEY, "")),
        str(s.value(POOL_KEY, "false")).lower() in ("true", "1"),
    )


def apply_saved() -> None:
    """Point the site at the saved database before Django is set up (SQLite if none)."""
    global _fallback
    from embedded_site.datadir import SiteSetupError
    from engine.commands import database

    kind, url, pool = saved()
    if kind == SQLITE:
        return
    try:
        target = database.start_private_cluster() if kind == PRIVATE else url
        database.use_database(target, pool=pool)
    except SiteSetupError as exc:
        _fallback = f"{exc}; using SQLite"
        print(f"note: the saved database is not available: {_fallback}", file=sys.stderr, flush=True)


def describe_current() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "sqlite" in db["ENGINE"]:
        return "Now: SQLite" + (f" ({_fallback})" if _fallback else "")
    pool = "pool on" if db["OPTIONS"].get("pool") else f"CONN_MAX_AGE {db['CONN_MAX_AGE']}"
    return f"Now: PostgreSQL at {db['HOST']}:{db['PORT'] or 5432}, {pool}"


def install(window: Any) -> None:
    """Add the Database menu to ``window``'s menu bar."""
    menu = window.menuBar().addMenu("&Database")
    now = menu.addAction(describe_current())
    now.setEnabled(False)
    menu.addSeparator()
    group = QActionGroup(menu)
    kind, url, pool = saved()
    choices = {
        SQLITE: "SQLite (in the data directory)",
        PRIVATE: "PostgreSQL: the lab's own cluster",
        SERVER: "PostgreSQL server…",
    }
    window.database_actions = {}
    for key, text in choices.items():
        action = QAction(text, menu, checkable=True)
        action.setChecked(key == kind)
        action.triggered.connect(lambda _c=False, k=key: _choose(window, k))
        group.addAction(action)
        menu.addAction(action)
        window.database_actions[key] = action
    menu.addSeparator()
    pool_action = QAction("Django's connection pool (PostgreSQL)", menu, checkable=True)
    pool_action.setChecked(pool)
    pool_action.toggled.connect(lambda on: _set_pool(window, on))
    menu.addAction(pool_action)
    window.database_actions["pool"] = pool_action


def _choose(window: Any, kind: str) -> None:
    s = _settings()
    if kind == SERVER:
        url, ok = QInputDialog.getText(
            window,
            "PostgreSQL server",
            "postgres://USER:PASSWORD@HOST:PORT/NAME",
            QLineEdit.EchoMode.Normal,
            str(s.value(URL_KEY, "")),
        )
        if not ok or not url.strip():
            window.database_actions[saved()[0]].setChecked(True)
            return
        from embedded_site.dbconfig import DatabaseURLError, parse_url

        try:
            parse_url(url.strip())
        except DatabaseURLError as exc:
            QMessageBox.warning(window, "PostgreSQL server", str(exc))
            window.database_actions[saved()[0]].setChecked(True)
            return
        s.setValue(URL_KEY, url.strip())
    s.setValue(KIND_KEY, kind)
    _restart_note(window)


def _set_pool(window: Any, on: bool) -> None:
    _settings().setValue(POOL_KEY, "true" if on else "false")
    _restart_note(window)


def _restart_note(window: Any) -> None:
    window.statusBar().showMessage(
        "The database setting is saved: it takes effect when the lab is next started "
        "(Django reads its database once, at start-up).",
        15000,
    )
