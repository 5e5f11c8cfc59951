"""The native stack's components, in start order."""

from __future__ import annotations

from threadline_native.component import Component
from threadline_native.components.alert_recorder import AlertRecorder
from threadline_native.components.alertmanager import Alertmanager
from threadline_native.components.generated import generated_services
from threadline_native.components.jaeger import Jaeger
from threadline_native.components.kafka import Kafka
from threadline_native.components.order import OrderService
from threadline_native.components.order_relay import OrderRelay
from threadline_native.components.otel_collector import OtelCollector
from threadline_native.components.postgres import Postgres
from threadline_native.components.prometheus import Prometheus
from threadline_native.components.redis import Redis
from threadline_native.components.toxiproxy import Toxiproxy
from threadline_native.components.user import UserService
from threadline_native.components.user_consumer import UserConsumer
from threadline_native.components.victorialogs import VictoriaLogs

ALL: tuple[type[Component], ...] = (
    Postgres,
    Redis,
    Kafka,
    # Observability backends: the stores first, then Alertmanager, then the collector that
    # feeds Jaeger, VictoriaLogs and Prometheus, so no export is refused while they start.
    # (Loki and Tempo run under compose only: they are AGPL, and nothing here builds them.)
    VictoriaLogs,
    Jaeger,
    Prometheus,
    AlertRecorder,
    Alertmanager,
    OtelCollector,
    Toxiproxy,
    # Threadline services last: they need PostgreSQL and Kafka, and export to the collector.
    # The user service before the order service, which calls it to check users.
    UserService,
    OrderService,
    # The relay and the consumer after their service, whose component migrates the database.
    OrderRelay,
    UserConsumer,
    # Services made by `make new-service` (deploy/services.yaml), after the two they may call.
    *generated_services(),
)
