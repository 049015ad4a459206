"""Terminal subcommands beyond ``list``/``serve``/``run``, one module each.

Like uvicorn's name tables: ``COMMANDS`` maps a subcommand's name to the module that
implements it.  Each module has ``add_parser(sub, parser_class) -> None`` (it adds its
subparser to ``sub``) and ``run(args) -> int`` (its exit status; 2 for bad input, after one
line on standard error).  Adding a command is one module and one line here.

``RUN_OPTIONS`` names modules that add options to the ``run`` command: each has
``add_run_options(run_parser) -> None``.  The ``run`` command reads them back from its
namespace.
"""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {}

RUN_OPTIONS: list[str] = [
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


def configure(args: argparse.Namespace) -> None:
    """Let every option module act on its options before Django is set up (a module that
    needs to, e.g. to choose the database, has ``configure(args)``)."""
    for path in RUN_OPTIONS:
        module = importlib.import_module(path)
        if hasattr(module, "configure"):
            module.configure(args)
