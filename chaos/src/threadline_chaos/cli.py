"""`python -m threadline_chaos`: list, run and judge the chaos drills.

python -m threadline_chaos list              every drill with its one-line hypothesis
python -m threadline_chaos run NAME          run one drill: verdict printed, report written
python -m threadline_chaos all               the whole catalogue, one drill after another
python -m threadline_chaos gameday --seed N  a seeded random schedule of faults under load

Exit status: 0 passed, 1 failed or aborted, 2 bad input (unknown drill, invalid experiment,
stack not up, a fault target the stack does not have): then nothing was injected.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import yaml

from threadline_chaos import gameday, preflight
from threadline_chaos.catalogue import Drill, DrillError, drills, find, validate
from threadline_chaos.record import DrillRun, DrillStatus
from threadline_chaos.runner import print_verdict, reports_root, run_drill

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
# Between drills of `all`: the steady-state SLIs look back 30 s.
SETTLE_SECONDS = 35


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="threadline_chaos", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every drill with its hypothesis")
    run = sub.add_parser("run", help="run one drill")
    run.add_argument("name")
    sub.add_parser("all", help="run every drill")
    day = sub.add_parser("gameday", help="a seeded random schedule of faults under load")
    day.add_argument("--seed", type=int, required=True)
    day.add_argument("--faults", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "run":
            return _run([find(args.name)])
        if args.command == "all":
            return _run(drills())
        return _gameday(args.seed, args.faults)
    except DrillError as error:
        print(f"chaos: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _list() -> int:
    catalogue = drills()
    width = max(len(d.name) for d in catalogue)
    print("Drills (make chaos DRILL=name):\n")
    for drill in catalogue:
        print(f"  {drill.name.ljust(width)}  {drill.hypothesis}")
    return EXIT_PASSED


def _ready(drill: Drill) -> None:
    """Refuse to start (DrillError) when anything the drill needs is missing."""
    validate(drill)
    if down := preflight.missing():
        raise DrillError(f"the stack is not up ({', '.join(down)} not ready): run `make up`")
    if problems := preflight.fault_target_problems(drill.experiment):
        raise DrillError(f"{drill.name}: " + "; ".join(problems))


def _run(catalogue: list[Drill]) -> int:
    for drill in catalogue:
        _ready(drill)
    runs: list[DrillRun] = []
    for index, drill in enumerate(catalogue):
        if index:
            time.sleep(SETTLE_SECONDS)
        run = run_drill(drill)
        print_verdict(run)
        runs.append(run)
    if len(runs) > 1:
        print("\nsummary:")
        for run in runs:
            status = run.status.value if run.status else "?"
            print(f"  {run.drill:<28} {status}")
    passed = all(run.status is DrillStatus.PASSED for run in runs)
    return EXIT_PASSED if passed else EXIT_FAILED


def _gameday(seed: int, faults: int) -> int:
    try:
        document = gameday.experiment(seed, faults=faults)
    except ValueError as error:
        raise DrillError(str(error)) from error
    name = f"gameday-{seed}"
    # The schedule is data like any drill: written out, validated, run by `chaos run`.
    path = reports_root() / name / "experiment.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    drill = Drill(name=name, path=path, experiment=document)
    _ready(drill)
    print(f"game day {seed}:")
    for step in gameday.schedule(seed, faults=faults):
        print(f"  after {step.wait_before_s:>2}s of steady load: {step.fault} for {step.hold_s}s")
    run = run_drill(drill)
    print_verdict(run)
    return EXIT_PASSED if run.status is DrillStatus.PASSED else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
