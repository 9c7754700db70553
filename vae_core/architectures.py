"""Architecture names: the built-ins and those installed packages register, read without importing any of them.

A package adds an architecture through an entry point of the group ``vae_explorer.architectures``
(in its pyproject.toml)::

    [project.entry-points."vae_explorer.architectures"]
    leaky = "my_package.models:LeakyVAE"

Reading the names scans the installed packages' metadata and imports nothing, so ``vae-explorer --help``
and ``ModelConfig``'s validation stay fast; ``vae_core.models.registry`` imports a plugin the first time
its class is needed. The scan is done once per process (``refresh`` starts over).
"""

from __future__ import annotations

import functools
import re
from importlib import metadata

GROUP = "vae_explorer.architectures"
BUILTIN = ("mlp", "conv")  # vae_core.models.registry.BUILTIN_MODELS maps each to its class
# A plugin's name is part of its checkpoints' folder names and a CLI word: short, lower case, no separators.
NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")


def describe(entry_point: metadata.EntryPoint) -> str:
    """How messages name a plugin: 'leaky (entry point leaky = my_package.models:LeakyVAE)'."""
    return f"{entry_point.name!r} (entry point {entry_point.name} = {entry_point.value})"


@functools.cache
def _discover() -> tuple[dict[str, metadata.EntryPoint], tuple[str, ...]]:
    """(name -> entry point of each usable plugin name, one line per entry point skipped for its name)."""
    plugins: dict[str, metadata.EntryPoint] = {}
    problems = []
    for entry_point in sorted(metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        name = entry_point.name
        if not NAME.fullmatch(name):
            why = "its name must be 1 to 24 lower-case letters, digits or '_', starting with a letter"
        elif name in BUILTIN:
            why = f"{name!r} is a built-in architecture: rename the entry point"
        elif name in plugins:
            why = f"{describe(plugins[name])} already registers {name!r}: rename one of them"
        else:
            plugins[name] = entry_point
            continue
        problems.append(f"architecture plugin {describe(entry_point)} skipped: {why}")
    return plugins, tuple(problems)


def entry_points() -> dict[str, metadata.EntryPoint]:
    """name -> entry point of every plugin architecture (not imported)."""
    return dict(_discover()[0])


def names() -> tuple[str, ...]:
    """Every architecture name a config may use: the built-ins, then the plugins alphabetically."""
    return BUILTIN + tuple(_discover()[0])


def naming_problems() -> list[str]:
    """One line per entry point whose name cannot be used (malformed, a built-in's, a duplicate)."""
    return list(_discover()[1])


def problems() -> list[str]:
    """One line per plugin skipped, for its name, its import or its class. The plugins (and torch) are imported
    only when some are installed, so this is free where none are."""
    if not entry_points():
        return naming_problems()
    from .models.registry import problems as all_problems

    return all_problems()


def spelled(choices: tuple[str, ...]) -> str:
    """'mlp or conv', 'mlp, conv or leaky'."""
    return " or ".join(choices) if len(choices) <= 2 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def refresh() -> None:
    """Forget the scan (a package was installed, or a test put one on sys.path)."""
    _discover.cache_clear()
