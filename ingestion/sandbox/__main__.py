"""`python -m ingestion.sandbox --world DIR --port N`: serve a world in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .server import PREFIXES, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.sandbox", description=__doc__)
    parser.add_argument("--world", default=".devsignal/world", help="world folder (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--rate-limit", type=int, default=5000, help="GitHub requests per window per client")
    parser.add_argument("--rate-limit-window", type=float, default=3600.0, help="seconds")
    parser.add_argument("--secondary-every", type=int, default=500,
                        help="every Nth GitHub request of a client hits the secondary limit (0 = never)")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of the secondary limit")
    parser.add_argument("--secondary-status", type=int, choices=(403, 429), default=403)
    parser.add_argument("--faults", metavar="FILE",
                        help="JSON file: a list of faults in force from the start (see faults.py)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    faults = json.loads(open(args.faults).read()) if args.faults else None

    started = time.perf_counter()
    try:
        sandbox = serve(args.world, host=args.host, port=args.port, rate_limit=args.rate_limit,
                        rate_limit_window=args.rate_limit_window, secondary_every=args.secondary_every,
                        secondary_retry_after=args.retry_after, secondary_status=args.secondary_status,
                        verbose=args.verbose, faults=faults)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"DevSignal sandbox serving {args.world} at {sandbox.url} "
          f"(started in {time.perf_counter() - started:.2f} s)")
    for prefix, (imitates, _) in PREFIXES.items():
        print(f"  {sandbox.url}/{prefix:<14} {imitates}")
    print("settings:")
    for name, value in sandbox.settings().items():
        print(f"  export {name}={value}")
    print("stats: " + sandbox.url + "/_sandbox/stats   faults: /_sandbox/faults   requests: /_sandbox/requests"
          "   (Ctrl-C to stop)", flush=True)
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
