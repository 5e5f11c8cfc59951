"""`order-service`: serve, run the outbox relay alone, or migrate.

order-service [serve]    run the gRPC service (port 50051, admin 9102) and, unless
                         ORDER_RELAY_ENABLED=false, the outbox relay in the same process
order-service relay      run only the outbox relay (admin 9103, ORDER_RELAY_ADMIN_PORT)
order-service migrate    apply the database migrations (and seed the product catalog)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from observability.settings import load_settings
from order_service.adapters.migrations import upgrade_to_head
from order_service.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="order-service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the gRPC service (and the relay, unless disabled)")
    commands.add_parser("relay", help="run only the outbox relay, with its own admin port")
    commands.add_parser("migrate", help="apply the database migrations")
    args = parser.parse_args(argv)
    # Invalid or, in production, refused settings: exit 2 naming each variable, no traceback.
    settings = load_settings(Settings)
    match args.command:
        case None | "serve":
            import uvloop  # noqa: PLC0415 - keep `migrate` light

            from order_service.main import serve  # noqa: PLC0415

            # uvloop: grpc.aio, asyncpg, httpx and aiokafka all run on any asyncio loop, and a
            # grpc.aio call costs about a tenth less CPU on it (docs/benchmarks/order.md).
            uvloop.run(serve(settings))
        case "relay":
            import uvloop  # noqa: PLC0415 - keep `migrate` light

            from order_service.relay_main import run_relay  # noqa: PLC0415

            uvloop.run(run_relay(settings))
        case "migrate":
            upgrade_to_head(settings.database_url.get_secret_value())
            print("orders database: migrations applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
