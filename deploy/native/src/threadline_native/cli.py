"""`stack`: run Threadline's stack with Docker compose or as local processes, with one interface.

stack up [NAME...] [--mode auto|native|compose]   start and wait until healthy
stack down                                        stop what `up` started
stack ps                                          every component, its address and state
stack logs [NAME] [--follow] [--lines N]          recent log lines
stack signal NAME SIG                             send SIG (KILL, TERM, STOP, CONT...) to NAME
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from threadline_native import compose
from threadline_native.component import StackError
from threadline_native.component_control import control_for, parse_signal
from threadline_native.stack import (
    State,
    Status,
    ensure_up,
    load_context,
    select,
    status,
    stop_components,
)

_COLOURS = {
    State.RUNNING: "32",
    State.REUSED: "32",
    State.STARTING: "33",
    State.STOPPED: "90",
    State.PORT_TAKEN: "31",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack and wait until it is healthy")
    up.add_argument("names", nargs="*", help="only these components")
    up.add_argument("--mode", choices=["auto", "native", "compose"], default=None)
    down = sub.add_parser("down", help="stop what `up` started")
    down.add_argument("names", nargs="*", help="only these components")
    sub.add_parser("ps", help="show every component with its address and state")
    logs = sub.add_parser("logs", help="show recent log lines")
    logs.add_argument("names", nargs="*")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.add_argument("--lines", "-n", type=int, default=40)
    kill = sub.add_parser("signal", help="send a signal to one component (the chaos drills' kill)")
    kill.add_argument("name")
    kill.add_argument("signal", help="e.g. SIGKILL, TERM, STOP, CONT or 9")
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except StackError as error:
        print(f"\033[31merror:\033[0m {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _mode_file() -> os.PathLike[str]:
    return load_context().layout.state_dir / "mode"


def _chosen_mode(requested: str | None) -> str:
    mode = requested or os.environ.get("THREADLINE_MODE", "auto")
    if mode == "auto":
        mode = "compose" if compose.engine_available() else "native"
    return mode


def _recorded_mode() -> str:
    try:
        with open(_mode_file()) as handle:
            return handle.read().strip() or "native"
    except OSError:
        return "native"


def cmd_up(args: argparse.Namespace) -> int:
    context = load_context()
    mode = _chosen_mode(args.mode)
    context.layout.state_dir.mkdir(parents=True, exist_ok=True)
    components = select(context, args.names)
    began = time.monotonic()
    if mode == "compose":
        print("Docker engine found: starting the stack with docker compose", flush=True)
        code = compose.run(context.layout, ["up", "--detach", "--wait", *args.names])
        if code != 0:
            return code
    else:
        print("No Docker engine: starting the stack as local processes", flush=True)
        ensure_up(components)
    with open(_mode_file(), "w") as handle:
        handle.write(mode + "\n")
    print(f"\nUp in {time.monotonic() - began:.1f}s ({mode} mode).\n")
    _print_table([status(c) for c in components], mode)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    context = load_context()
    if _recorded_mode() == "compose":
        return compose.run(context.layout, ["stop", *args.names] if args.names else ["down"])
    stopped = stop_components(select(context, args.names))
    print("stopped: " + (", ".join(c.name for c in stopped) or "nothing (none was started by us)"))
    return 0


def cmd_ps(_: argparse.Namespace) -> int:
    context = load_context()
    statuses = [status(c) for c in select(context)]
    _print_table(statuses, _recorded_mode())
    return 0 if all(s.state in (State.RUNNING, State.REUSED) for s in statuses) else 3


def cmd_logs(args: argparse.Namespace) -> int:
    context = load_context()
    if _recorded_mode() == "compose":
        extra = ["--follow"] if args.follow else []
        return compose.run(context.layout, ["logs", f"--tail={args.lines}", *extra, *args.names])
    files = [str(context.layout.log_file(c.name)) for c in select(context, args.names)]
    files = [f for f in files if os.path.exists(f)]
    if not files:
        print("no logs yet: run `make up`")
        return 0
    return subprocess.run(
        ["tail", f"-n{args.lines}", *(["-F"] if args.follow else []), *files], check=False
    ).returncode


def _print_table(statuses: Sequence[Status], mode: str) -> None:
    rows = [("COMPONENT", "WHAT", "ADDRESS", "STATE", "PID / NOTE")]
    for item in statuses:
        state = item.state.value
        if item.state is State.REUSED:
            state = "running (compose)" if mode == "compose" else "running (reused)"
        note = str(item.pid) if item.pid else item.detail
        rows.append((item.component.name, item.component.title, item.component.url, state, note))
    details = [
        (item.component.name, lines)
        for item in statuses
        if item.state in (State.RUNNING, State.REUSED) and (lines := item.component.status_lines())
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    colour = sys.stdout.isatty()
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        if colour and index:
            code = _COLOURS[statuses[index - 1].state]
            cells[3] = f"\033[{code}m{cells[3]}\033[0m"
        print("  ".join(cells).rstrip())
    for name, lines in details:
        print(f"\n{name}:")
        for line in lines:
            print(f"  {line}")


def cmd_signal(args: argparse.Namespace) -> int:
    control_for(load_context()).signal(args.name, parse_signal(args.signal))
    return 0


_COMMANDS = {"up": cmd_up, "down": cmd_down, "ps": cmd_ps, "logs": cmd_logs, "signal": cmd_signal}

if __name__ == "__main__":
    sys.exit(main())
