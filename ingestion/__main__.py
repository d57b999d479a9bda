"""`python -m ingestion <source> [--since YYYY-MM-DD] [--refresh]`: load one source (or `all`)
and print what it loaded."""

from __future__ import annotations

import argparse
import logging
import sys

from ingestion.pipelines import SOURCES, run_timed
from ingestion.sources._common import SourceInputError


def format_summary(source: str, summary: dict[str, dict[str, int]], seconds: float) -> str:
    width = max([len("table")] + [len(t) for t in summary])
    lines = [f"raw_{source}  ({seconds:.1f}s)", f"  {'table':<{width}}  {'loaded':>10}  {'total':>10}"]
    for table, counts in summary.items():
        lines.append(f"  {table:<{width}}  {counts['loaded']:>10,}  {counts['total']:>10,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__)
    parser.add_argument("source", choices=[*SOURCES, "all"])
    parser.add_argument("--since", help="npm: first day of the download series (YYYY-MM-DD)")
    parser.add_argument("--refresh", action="store_true", help="drop the source's tables and state first")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    names = list(SOURCES) if args.source == "all" else [args.source]
    for name in names:
        kwargs = {"refresh": "drop_sources"} if args.refresh else {}
        if args.since and name == "npm":
            kwargs["start_date"] = args.since
        try:
            summary, seconds = run_timed(name, **kwargs)
        except SourceInputError as error:  # a setting or a file to fix: the message says which
            print(f"{name}: {error}", file=sys.stderr)
            return 2
        print(format_summary(name, summary, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
