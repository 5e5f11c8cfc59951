"""`user-service`: serve, consume order events, migrate, create an admin, rotate the signing key.

user-service [serve]                    run the HTTP service (port 8000, admin 9101) and,
                                        unless USER_ORDERS_CONSUMER_ENABLED=false, the
                                        orders.v1 consumer in the same process
user-service consume                    run only the orders.v1 consumer (admin 9104,
                                        USER_ORDERS_CONSUMER_ADMIN_PORT)
user-service migrate                    apply the database migrations
user-service create-admin --email E     create an admin (password: $USER_ADMIN_PASSWORD
                                        or typed at the prompt)
user-service rotate-key                 add a new signing key to USER_SIGNING_KEYS_DIR
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

import uvloop

from observability.settings import load_settings
from user_service.adapters.keys import new_signing_key, write_key
from user_service.adapters.migrations import upgrade_to_head
from user_service.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="user-service", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP service (and the consumer, unless disabled)")
    commands.add_parser("consume", help="run only the orders.v1 consumer, with its own admin port")
    commands.add_parser("migrate", help="apply the database migrations")
    admin = commands.add_parser("create-admin", help="create a user with the admin role")
    admin.add_argument("--email", required=True)
    admin.add_argument("--full-name", default="Administrator")
    commands.add_parser("rotate-key", help="add a new signing key; the newest one signs")
    args = parser.parse_args(argv)
    # Invalid or, in production, refused settings: exit 2 naming each variable, no traceback.
    settings = load_settings(Settings)
    match args.command:
        case None | "serve":
            from user_service.main import serve  # noqa: PLC0415 - keep other commands light

            uvloop.run(serve(settings))
        case "consume":
            from user_service.consumer_main import run_consumer  # noqa: PLC0415

            uvloop.run(run_consumer(settings))
        case "migrate":
            upgrade_to_head(settings.database_url.get_secret_value())
            print("users database: migrations applied")
        case "create-admin":
            password = os.environ.get("USER_ADMIN_PASSWORD") or getpass.getpass("password: ")
            from user_service.admin import create_admin  # noqa: PLC0415

            user_id = asyncio.run(
                create_admin(
                    settings, email=args.email, full_name=args.full_name, password=password
                )
            )
            print(f"admin created: {user_id}")
        case "rotate-key":
            key = new_signing_key()
            path = write_key(settings.signing_keys_dir, key)
            print(f"new signing key {key.kid} in {path.parent}; restart the service to use it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
