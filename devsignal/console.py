"""Output a person reads: one console, short progress lines, tables."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

# piped output (make, CI logs) gets a readable width instead of rich's 80 columns
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


@contextmanager
def step(label: str):
    """Print `label …` then its duration (or the failure) on the same line."""
    started = time.monotonic()
    console.print(f"[bold]›[/bold] {label} …")
    try:
        yield
    except BaseException:
        console.print(f"  [red]✗ {label} failed after {time.monotonic() - started:.1f}s[/red]")
        raise
    console.print(f"  [green]✓[/green] {label} [dim]({time.monotonic() - started:.1f}s)[/dim]")


def table(title: str, columns: list[str], rows: list[list], justify_right: set[str] = frozenset()) -> None:
    out = Table(title=title, title_justify="left", header_style="bold")
    for name in columns:
        out.add_column(name, justify="right" if name in justify_right else "left")
    for row in rows:
        out.add_row(*["" if v is None else str(v) for v in row])
    console.print(out)
