"""Terminal subcommands beyond ``list``/``serve``/``run``, one module each.

Like uvicorn's name tables: ``COMMANDS`` maps a subcommand's name to the module that
implements it.  Each module has ``add_parser(sub, parser_class) -> None`` (it adds its
subparser to ``sub``) and ``run(args) -> int`` (its exit status; 2 for bad input, after one
line on standard error).  Adding a command is one module and one line here.

``RUN_OPTIONS`` names modules that add options to the ``run`` command: each has
``add_run_options(run_parser) -> None``.  The ``run`` command reads them back from its
namespace; a module may also have ``after_run(args, record) -> int | None``, called once the
run's summary and exports are out (a status it returns becomes the command's, if worse).
"""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {
    "history": "engine.commands.history_cmd",
    "show": "engine.commands.show",
    "compare": "engine.commands.compare_cmd",
    "export": "engine.commands.export",
}

RUN_OPTIONS: list[str] = [
    "engine.commands.project",
    "engine.commands.save",
    "engine.commands.view_option",
    "engine.commands.database",
    "engine.commands.servers",
]


def command_module(name: str) -> ModuleType:
    """The module that implements subcommand ``name``."""
    return importlib.import_module(COMMANDS[name])


def add_all(sub: argparse._SubParsersAction, parser_class: type[argparse.ArgumentParser]) -> None:
    """Let every registered command add its subparser."""
    for name in COMMANDS:
        command_module(name).add_parser(sub, parser_class)


def add_run_options(run: argparse.ArgumentParser) -> None:
    """Let every registered module add its options to ``run``."""
    for path in RUN_OPTIONS:
        importlib.import_module(path).add_run_options(run)


def after_run(args: argparse.Namespace, record: object) -> int | None:
    """Let every ``RUN_OPTIONS`` module act on the finished run; the worst status returned."""
    statuses = []
    for path in RUN_OPTIONS:
        hook = getattr(importlib.import_module(path), "after_run", None)
        if hook is not None:
            status = hook(args, record)
            if status is not None:
                statuses.append(status)
    return max(statuses, default=None)


def configure(args: argparse.Namespace) -> None:
    """Let every option module act on its options before Django is set up (a module that
    needs to, e.g. to choose the database, has ``configure(args)``)."""
    for path in RUN_OPTIONS:
        module = importlib.import_module(path)
        if hasattr(module, "configure"):
            module.configure(args)
