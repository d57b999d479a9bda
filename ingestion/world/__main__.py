"""python -m ingestion.world --out DIR --seed N --companies N --people N --days N --end-date YYYY-MM-DD"""

from __future__ import annotations

import argparse
import sys
import time

from ingestion.world import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.world", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=".devsignal/world", help="world folder (replaced if it holds a world)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--end-date", default=None, help="last day of the window (default: today, UTC)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)

    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    summary = generate(args.out, seed=args.seed, companies=args.companies, people=args.people, days=args.days,
                       end_date=args.end_date, progress=None if args.quiet else progress)
    print(f"{summary} — {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
