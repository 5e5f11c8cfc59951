"""Threadline's load test: `locust -f` this file (`make load`, `make load-ui` and `make bench` do).

Users: `NewCustomer` (one, paced: sign-up), `AccountHolder` (HTTP, profile) and `Shopper`
(gRPC, orders), the last two in equal numbers. Shapes are separate files (the `shapes`
package) added with `-f locustfile.py,shapes/ramp.py`; without one the run is steady.
"""

from __future__ import annotations

from threadline_loadtests import hooks
from threadline_loadtests.grpc_user import Shopper
from threadline_loadtests.http_user import AccountHolder, NewCustomer

__all__ = ["AccountHolder", "NewCustomer", "Shopper", "hooks"]
