"""The table `make verify` prints: one row per link, and a verdict."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from threadline_native.verify.checks import Result


def print_table(results: Sequence[Result]) -> None:
    width = shutil.get_terminal_size((140, 20)).columns
    check_w = max(len(r.check) for r in results)
    subject_w = min(max(len(r.subject) for r in results), 48)
    print(f"{'CHECK':<{check_w}}  {'SUBJECT':<{subject_w}}  {'RESULT':<6}  DETAIL")
    for result in results:
        mark = "ok" if result.ok else "BROKEN"
        line = f"{result.check:<{check_w}}  {result.subject[:subject_w]:<{subject_w}}  {mark:<6}  "
        print(line + result.detail[: max(width - len(line), 40)])
    broken = sum(not r.ok for r in results)
    print(
        f"\n{len(results) - broken}/{len(results)} links hold"
        + (f"; {broken} BROKEN" if broken else "; every link works")
    )
