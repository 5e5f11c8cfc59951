"""Test support: a fake user service (JWKS + account state) and helpers for running the server.

Used by the order service's own tests; nothing here runs in production.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from observability import Telemetry, setup
from order_service.adapters.circuit_breaker import CircuitBreaker
from order_service.adapters.metrics import OrderMetrics
from order_service.adapters.tokens import JwksTokenVerifier
from order_service.adapters.user_directory import PEER, HttpUserDirectory
from order_service.main import OrderApp
from order_service.settings import Settings
from threadline_contracts.order.v1 import order_pb2_grpc

ISSUER = "threadline-user"
AUDIENCE = "threadline"


@dataclass
class FakeUserService:
    """The user service as far as the order service can tell: JWKS and account state."""

    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    inactive: set[uuid.UUID] = field(default_factory=set)
    # Status codes to answer the next account checks with, before answering normally.
    failures: list[int] = field(default_factory=list)
    jwks_requests: int = 0
    user_requests: int = 0

    def __post_init__(self) -> None:
        self.rotate()

    @property
    def active_kid(self) -> str:
        return max(self.keys)

    def rotate(self) -> str:
        kid = f"k{len(self.keys) + 1:03d}"
        self.keys[kid] = Ed25519PrivateKey.generate()
        return kid

    def token(self, user_id: uuid.UUID | None = None, **overrides: Any) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id or uuid.uuid4()),
            "role": "user",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            **overrides,
        }
        kid = overrides.pop("kid", None) or self.active_kid
        claims.pop("kid", None)
        return jwt.encode(claims, self.keys[kid], algorithm="EdDSA", headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        def jwk(kid: str, key: Ed25519PrivateKey) -> dict[str, str]:
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA"}

        return {"keys": [jwk(kid, key) for kid, key in self.keys.items()]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwks.json":
            self.jwks_requests += 1
            return httpx.Response(200, json=self.jwks())
        if request.url.path.startswith("/v1/users/"):
            self.user_requests += 1
            if self.failures:
                return httpx.Response(self.failures.pop(0))
            user_id = uuid.UUID(request.url.path.rsplit("/", 1)[1])
            return httpx.Response(
                200, json={"id": str(user_id), "is_active": user_id not in self.inactive}
            )
        return httpx.Response(404)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url="http://user.test", transport=httpx.MockTransport(self.handle)
        )


def in_memory_telemetry() -> tuple[Telemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    telemetry = setup(
        Settings(traces_sampler="always_on", admin_enabled=False),
        span_exporter=exporter,
        registry=CollectorRegistry(),
        set_global=False,
        configure_logs=False,
    )
    return telemetry, exporter


def directory_for(
    client: httpx.AsyncClient, metrics: OrderMetrics, *, threshold: int = 5, reset: float = 5.0
) -> HttpUserDirectory:
    return HttpUserDirectory(
        client,
        breaker=CircuitBreaker(
            PEER, failure_threshold=threshold, reset_seconds=reset, observer=metrics
        ),
        metrics=metrics,
        attempts=3,
        attempt_timeout_seconds=0.5,
        backoff_initial_seconds=0.001,
        backoff_max_seconds=0.005,
        backoff_jitter_seconds=0.001,
    )


def verifier_for(client: httpx.AsyncClient) -> JwksTokenVerifier:
    return JwksTokenVerifier(
        client,
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=5,
        ttl_seconds=300,
        min_refetch_seconds=1,
    )


@dataclass
class RunningOrders:
    app: OrderApp
    channel: grpc.aio.Channel
    stub: order_pb2_grpc.OrderServiceStub
    telemetry: Telemetry
    spans: InMemorySpanExporter
    settings: Settings
    user_service: FakeUserService

    def auth(self, user_id: uuid.UUID) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.user_service.token(user_id)}"),)


# --- E2E: services as real processes ----------------------------------------------------------


@dataclass
class ServiceProcess:
    """One service run as `python -m <module> serve`, restartable on the same ports."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 40.0) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.log_path.parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited during start-up:\n{self.log()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.ready_url, timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{self.name} did not become ready:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def metric(self, name: str, **labels: str) -> float:
        """One sample from the admin port's exposition (0 when absent)."""
        admin = self.ready_url.rsplit("/", 1)[0]
        for line in httpx.get(f"{admin}/metrics", timeout=5).text.splitlines():
            if not line.startswith((name + "{", name + " ")):
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(key) == value for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_module(module: str, *args: str, env: dict[str, str], cwd: Path) -> None:
    """Run ``python -m module args`` to completion (migrations); fail loudly with its output."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
