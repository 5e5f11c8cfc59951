"""The generated code is exactly what `make proto` writes from the .proto files today."""

from __future__ import annotations

import runpy
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[2]
PACKAGE = CONTRACTS / "src" / "threadline_contracts"


def generated_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix in {".py", ".pyi"}
        and path.parent != root
    }


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    generator = runpy.run_path(str(CONTRACTS / "generate.py"))
    generator["generate"](tmp_path)
    fresh, committed = generated_files(tmp_path), generated_files(PACKAGE)
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, f"generated code is stale, run `make proto`: {stale}"


def test_the_event_contract_round_trips() -> None:
    from threadline_contracts.events.v1 import order_events_pb2  # noqa: PLC0415

    event = order_events_pb2.OrderEvent(event_id="e", order_id="o", user_id="u")
    event.cancelled.total_minor_units = 1990
    decoded = order_events_pb2.OrderEvent.FromString(event.SerializeToString())
    assert decoded.WhichOneof("payload") == "cancelled"
    assert decoded.cancelled.total_minor_units == 1990
