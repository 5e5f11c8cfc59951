"""What `make verify` prints: one row per link, a verdict, then the links to open per journey."""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from collections.abc import Sequence

from threadline_native.verify.journeys import Journey
from threadline_native.verify.links import Link
from threadline_native.verify.result import Result, State


def print_table(results: Sequence[Result]) -> None:
    width = shutil.get_terminal_size((160, 20)).columns
    check_w = max(len(r.check) for r in results)
    subject_w = min(max(len(r.subject) for r in results), 52)
    state_w = max(len(state) for state in State)
    print(f"{'CHECK':<{check_w}}  {'SUBJECT':<{subject_w}}  {'RESULT':<{state_w}}  DETAIL")
    for result in results:
        line = (
            f"{result.check:<{check_w}}  {result.subject[:subject_w]:<{subject_w}}  "
            f"{result.state:<{state_w}}  "
        )
        print(line + result.detail[: max(width - len(line), 60)])
    print("\n" + verdict(results))
    print_broken(results, width)


def print_broken(results: Sequence[Result], width: int) -> None:
    """Each BROKEN row's detail in full: the table cuts details at the terminal's width."""
    broken = [result for result in results if result.broken]
    if not broken:
        return
    print("\nBROKEN, in full:")
    for result in broken:
        print(f"\n  {result.check} — {result.subject}")
        for line in textwrap.wrap(result.detail, width=max(width - 4, 60)):
            print(f"    {line}")


def verdict(results: Sequence[Result]) -> str:
    counts = Counter(result.state for result in results)
    held = f"{counts[State.OK]}/{len(results)} links hold"
    others = [
        f"{counts[state]} {state}" for state in State if state is not State.OK and counts[state]
    ]
    if not counts[State.BROKEN]:
        others.append("no link is broken")
    return "; ".join([held, *others])


def print_links(journey_links: Sequence[tuple[Journey, Sequence[Link]]]) -> None:
    if not journey_links:
        return
    print("\nLinks to open, per journey:")
    label_w = max(len(link.label) for _, links in journey_links for link in links)
    for journey, links in journey_links:
        print(f"\n  {journey.name}  (trace {journey.trace_id})")
        for link in links:
            print(f"    {link.label:<{label_w}}  {link.target}")
