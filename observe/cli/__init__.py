"""The `observe` console script: serve, demo, topology, edit, compare, ui."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from observe.cli import compare, demo, edit, serve, snapshot, topology, ui
from observe.errors import ObserveError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="observe", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.register(commands)
    demo.register(commands)
    topology.register(commands)
    edit.register(commands)
    compare.register(commands)
    ui.register(commands)
    snapshot.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ObserveError as exc:
        print(f"observe: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
