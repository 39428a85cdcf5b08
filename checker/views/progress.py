"""A progress bar for long `ligging check` runs: shown on a terminal, silent when piped.

The bar goes to stderr, so it never mixes with findings on stdout, and only when stderr
is a terminal and the run covers enough cases to be worth watching; CI logs and pipes
stay clean. The bar is transient: it disappears when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
MIN_CASES = 5


def wants_progress(stream: TextIO, total: int, minimum: int = MIN_CASES) -> bool:
    """Tell whether to show a bar: `stream` is a terminal and the run has at least `minimum` cases."""
    isatty = getattr(stream, "isatty", None)
    try:
        interactive = bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        interactive = False
    return interactive and total >= minimum


def track(items: Iterable[T], total: int, stream: TextIO, label: str = "checking",
          weight: Callable[[T], int] | None = None) -> Iterator[T]:
    """Yield `items` unchanged, advancing a bar on `stream` when `wants_progress` says so (by `weight(item)` cases each)."""
    if not wants_progress(stream, total):
        yield from items
        return
    # rich's progress machinery is imported only when a bar is shown: a piped batch never pays for it
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=stream)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task, 1 if weight is None else weight(item))
