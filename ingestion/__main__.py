"""`python -m ingestion <source> [--since YYYY-MM-DD] [--refresh] [--wait SECONDS]`: load one source
(or `all`) and print what it loaded.

Exit codes: 0 loaded; 2 a setting or input file to fix; 3 an upstream API failed (retries spent,
401/403, or a changed field type) and nothing of the run was loaded; 4 another run of the same
pipeline is in progress (nothing was done)."""

from __future__ import annotations

import argparse
import logging
import sys

from ingestion.pipelines import SOURCES, PipelineBusy, run_timed
from ingestion.sources._common import SourceInputError, UpstreamError

EXIT_INPUT, EXIT_UPSTREAM, EXIT_BUSY = 2, 3, 4


def format_summary(source: str, summary: dict[str, dict], seconds: float) -> str:
    width = max([len("table")] + [len(t) for t in summary])
    lines = [f"raw_{source}  ({seconds:.1f}s)", f"  {'table':<{width}}  {'loaded':>10}  {'total':>10}"]
    for table, counts in summary.items():
        line = f"  {table:<{width}}  {counts['loaded']:>10,}  {counts['total']:>10,}"
        if counts.get("new_columns"):
            line += f"  new columns: {', '.join(counts['new_columns'])}"
        lines.append(line)
    return "\n".join(lines)


def _message(error: BaseException) -> str:
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", choices=[*SOURCES, "all"])
    parser.add_argument("--since", help="npm: first day of the download series (YYYY-MM-DD)")
    parser.add_argument("--refresh", action="store_true", help="drop the source's tables and state first")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for a run of the same pipeline to finish (default: refuse at once)")
    parser.add_argument("--pipeline-name", help="run side by side with the default pipeline (default: the source)")
    parser.add_argument("--dataset", help="dataset to load (default: raw_<source>)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    names = list(SOURCES) if args.source == "all" else [args.source]
    for name in names:
        kwargs: dict = {"refresh": "drop_sources"} if args.refresh else {}
        if args.wait:
            kwargs["wait_for_lock"] = args.wait
        if args.pipeline_name:
            kwargs["pipeline_name"] = args.pipeline_name if len(names) == 1 else f"{args.pipeline_name}_{name}"
        if args.dataset:
            kwargs["dataset_name"] = args.dataset if len(names) == 1 else f"{args.dataset}_{name}"
        if args.since and name == "npm":
            kwargs["start_date"] = args.since
        try:
            summary, seconds = run_timed(name, **kwargs)
        except SourceInputError as error:  # a setting or a file to fix: the message says which
            print(f"{name}: {_message(error)}", file=sys.stderr)
            return EXIT_INPUT
        except UpstreamError as error:  # retries spent, 401/403, a changed type: nothing loaded
            print(f"{name}: {_message(error)}", file=sys.stderr)
            return EXIT_UPSTREAM
        except PipelineBusy as error:
            print(f"{name}: {error}", file=sys.stderr)
            return EXIT_BUSY
        print(format_summary(name, summary, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
