"""The lowest versions that pyproject.toml allows, as pip constraints: ``name==floor``, one a line.

``make test-floor`` installs the project with these constraints in a second venv and runs the
tests there, so every ``>=`` in pyproject.toml is a version the tests pass with. The constraints
are derived from pyproject.toml on every run, so the two cannot disagree. Each direct dependency
(of the project and of the extras named) must state a ``>=`` floor; one that does not is an error.

    python tools/floor_constraints.py --extra test > constraints.txt
    python tools/floor_constraints.py --extra test --check   # does this environment hold exactly them?
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# name, optional [extras], then the ">=" floor; further clauses (",<3") and markers are allowed after it
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def floors(pyproject: Path, extras: list[str]) -> dict[str, str]:
    """{distribution name: floor version} of the project's dependencies and of ``extras``."""
    import tomllib  # standard library from Python 3.11

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = sorted(set(extras) - set(optional))
    if unknown:
        raise SystemExit(f"{pyproject.name} has no extra {', '.join(unknown)}; it has {', '.join(sorted(optional))}")
    found = {}
    for line in project["dependencies"] + [line for extra in extras for line in optional[extra]]:
        match = REQUIREMENT.match(line)
        if match is None:
            raise SystemExit(f"{pyproject.name}: {line!r} states no '>=' floor; every direct dependency needs one")
        found[match.group(1)] = match.group(2)
    return found


def _release(version: str) -> tuple:
    """'2.13.0+cpu' -> (2, 13); '0.6' -> (0, 6): the public release, trailing zeros dropped."""
    parts = [int(p) if p.isdigit() else p for p in version.split("+")[0].split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def mismatches(wanted: dict[str, str]) -> list[str]:
    """One line per dependency whose installed version (in this interpreter) is not its floor."""
    lines = []
    for name, floor in wanted.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            lines.append(f"{name}: not installed (floor {floor})")
            continue
        if _release(installed) != _release(floor):
            lines.append(f"{name}: {installed} installed, floor {floor}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[], help="also the floors of this extra (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="instead of printing, exit 1 unless this environment holds exactly the floors")
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT)
    args = parser.parse_args(argv)
    wanted = floors(args.pyproject, args.extra)
    if not args.check:
        print("\n".join(f"{name}=={version}" for name, version in wanted.items()))
        return 0
    problems = mismatches(wanted)
    for line in problems:
        print(f"not at its floor: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
