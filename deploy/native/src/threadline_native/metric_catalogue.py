"""Which series the native stack's Prometheus holds, with their labels, read from what makes them.

A dashboard query that names a metric nothing produces shows "No data" and nothing fails; these
functions say what does exist, so a unit test can hold every query to it:

- the services' own metrics: every prometheus-client registration in ``libs/*/src`` and
  ``services/*/src`` (read from the source, not imported), plus the scrape's target labels;
- span metrics: the collector's spanmetrics connector, as its remote-write exporter names them;
- recording rules and ``ALERTS`` from the rule files;
- Prometheus' own series per scrape target (``up``, ``scrape_*``).

The client library's built-ins (``process_*``, ``python_gc_*``) and the services' resource
attributes come from the libraries themselves, so the caller passes them in. Under compose,
Tempo's metrics-generator adds the service graph: `tempo_service_graph_series`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Series",
    "catalogue",
    "code_registered_series",
    "merge",
    "rule_series",
    "scrape_series",
    "spanmetrics_series",
    "tempo_service_graph_series",
]

# What Prometheus attaches to every scraped series itself.
TARGET_LABELS = frozenset({"job", "instance"})
# prometheus-client metric constructors and the observability library's helpers around them.
_KINDS = {
    "Counter": "counter",
    "CounterMetricFamily": "counter",
    "counter": "counter",
    "Gauge": "gauge",
    "GaugeMetricFamily": "gauge",
    "gauge": "gauge",
    "Histogram": "histogram",
    "HistogramMetricFamily": "histogram",
    "histogram": "histogram",
    "_histogram": "histogram",
}
# The spanmetrics connector's own dimensions on every series (OTel names, as exported).
_SPANMETRICS_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")
_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds"}
_RECORDED_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+")


@dataclass(frozen=True)
class Series:
    """A metric name as queried (``_total``, ``_bucket`` included), its labels, who makes it."""

    name: str
    labels: frozenset[str]
    source: str


def merge(*groups: Iterable[Series]) -> dict[str, Series]:
    """One entry per name; a name made in two places carries the labels of both."""
    merged: dict[str, Series] = {}
    for series in (s for group in groups for s in group):
        known = merged.get(series.name)
        labels = known.labels | series.labels if known else series.labels
        merged[series.name] = Series(series.name, labels, known.source if known else series.source)
    return merged


def catalogue(
    root: Path, *, resource_attributes: Iterable[str], client_library: Iterable[Series]
) -> dict[str, Series]:
    """Every series the native stack's Prometheus holds, by name."""
    compose = root / "deploy" / "compose"
    jobs = yaml.safe_load((compose / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    service_names = {path.name for path in (root / "services").iterdir() if path.is_dir()}
    service_target = TARGET_LABELS | {
        label
        for job in jobs
        if job["job_name"] in service_names
        for static in job.get("static_configs", [])
        for label in static.get("labels", {})
    }
    sources = sorted((root / "libs").glob("*/src")) + sorted((root / "services").glob("*/src"))
    collector = yaml.safe_load((compose / "otel-collector" / "config.yaml").read_text())
    return merge(
        code_registered_series(sources, target_labels=service_target),
        (Series(s.name, s.labels | service_target, s.source) for s in client_library),
        spanmetrics_series(collector, resource_attributes=resource_attributes),
        rule_series(sorted((compose / "prometheus" / "rules").glob("*.rules.yml"))),
        scrape_series(jobs),
    )


def code_registered_series(
    source_dirs: Iterable[Path], *, target_labels: frozenset[str]
) -> Iterator[Series]:
    """The series of every metric registered in these source trees with a literal name."""
    for source_dir in source_dirs:
        for path in sorted(source_dir.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and (found := _registration(node)):
                    kind, name, labels = found
                    where = f"{path.relative_to(source_dir.parents[2])}:{node.lineno}"
                    yield from _exposed(kind, name, labels | target_labels, where)


def _registration(call: ast.Call) -> tuple[str, str, frozenset[str]] | None:
    """(kind, name, label names) when ``call`` declares a metric, else None."""
    func = call.func
    callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if callee not in _KINDS or not call.args:
        return None
    name = call.args[0]
    # collections.Counter and the helpers' own bodies pass no literal name: not registrations.
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    label_node = call.args[2] if len(call.args) > 2 else None
    for keyword in call.keywords:
        if keyword.arg in ("labelnames", "labels"):
            label_node = keyword.value
    labels: frozenset[str] = frozenset()
    if isinstance(label_node, ast.Tuple | ast.List):
        labels = frozenset(
            str(element.value) for element in label_node.elts if isinstance(element, ast.Constant)
        )
    return _KINDS[callee], name.value, labels


def _exposed(kind: str, name: str, labels: frozenset[str], source: str) -> Iterator[Series]:
    """The names a metric is scraped under, as prometheus-client exposes them."""
    if kind == "counter":
        yield Series(name.removesuffix("_total") + "_total", labels, source)
    elif kind == "histogram":
        yield Series(f"{name}_bucket", labels | {"le"}, source)
        yield Series(f"{name}_sum", labels, source)
        yield Series(f"{name}_count", labels, source)
    else:
        yield Series(name, labels, source)


def spanmetrics_series(
    collector: dict[str, Any], *, resource_attributes: Iterable[str]
) -> Iterator[Series]:
    """The spanmetrics connector's series, as the prometheusremotewrite exporter names them."""
    connector = collector["connectors"]["spanmetrics"]
    exporter = collector["exporters"]["prometheusremotewrite"]
    # The defaults of both changed across releases; the config must say what it relies on.
    if "namespace" not in connector:
        raise ValueError("spanmetrics has no explicit namespace: its metric names are unknown")
    if exporter.get("add_metric_suffixes") is False or "translation_strategy" in exporter:
        raise ValueError("prometheusremotewrite names metrics in a way this catalogue ignores")
    if not _pipes_spans_to_remote_write(collector["service"]["pipelines"]):
        return
    prefix = _prometheus_name(connector["namespace"])
    unit = _UNIT_WORDS[connector.get("histogram", {}).get("unit", "ms")]
    dimensions = [*_SPANMETRICS_DIMENSIONS, *(d["name"] for d in connector.get("dimensions", []))]
    # The exporter makes job and instance from service.name and service.instance.id.
    labels = TARGET_LABELS | {_prometheus_name(d) for d in dimensions}
    if exporter.get("resource_to_telemetry_conversion", {}).get("enabled"):
        labels |= {_prometheus_name(attribute) for attribute in resource_attributes}
    source = "otel-collector spanmetrics connector"
    yield Series(f"{prefix}_calls_total", labels, source)
    yield from _exposed("histogram", f"{prefix}_duration_{unit}", labels, source)


def _pipes_spans_to_remote_write(pipelines: dict[str, Any]) -> bool:
    """A traces pipeline feeds the connector and a metrics pipeline remote-writes its output."""
    fed = any(
        name.startswith("traces") and "spanmetrics" in pipeline.get("exporters", [])
        for name, pipeline in pipelines.items()
    )
    written = any(
        "spanmetrics" in pipeline.get("receivers", [])
        and "prometheusremotewrite" in pipeline.get("exporters", [])
        for pipeline in pipelines.values()
    )
    return fed and written


def rule_series(rule_files: Iterable[Path]) -> Iterator[Series]:
    """Recorded series and ``ALERTS``, labelled with the rules' labels.

    A rule without labels of its own keeps those of the recorded series it reads (the SLO
    rules join on (service, slo)); rules that aggregate raw metrics away would need more.
    """
    rules = [
        (path, rule)
        for path in rule_files
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]
    recorded: dict[str, set[str]] = {}
    for _, rule in rules:
        if "record" in rule:
            recorded.setdefault(rule["record"], set()).update(rule.get("labels", {}))
    changed = True
    while changed:
        changed = False
        for _, rule in rules:
            if "record" in rule:
                inherited = _labels_read(rule["expr"], recorded)
                if not inherited <= recorded[rule["record"]]:
                    recorded[rule["record"]] |= inherited
                    changed = True
    for _, rule in rules:
        if "record" in rule:
            continue
        alert_labels = set(rule.get("labels", {})) | _labels_read(rule["expr"], recorded)
        yield Series("ALERTS", frozenset(alert_labels | {"alertname", "alertstate"}), "alerts")
        yield Series("ALERTS_FOR_STATE", frozenset(alert_labels | {"alertname"}), "alerts")
    for name, labels in recorded.items():
        yield Series(name, frozenset(labels), "recording rule")


def _labels_read(expr: str, recorded: dict[str, set[str]]) -> set[str]:
    return {label for name in _RECORDED_NAME.findall(expr) for label in recorded.get(name, ())}


def scrape_series(jobs: Iterable[dict[str, Any]]) -> Iterator[Series]:
    """The series Prometheus writes for each scrape target itself."""
    names = (
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    )
    for job in jobs:
        static = {label for s in job.get("static_configs", []) for label in s.get("labels", {})}
        for name in names:
            yield Series(name, TARGET_LABELS | static, f"scrape job {job['job_name']}")


def tempo_service_graph_series(tempo: dict[str, Any]) -> Iterator[Series]:
    """The service-graph series Tempo's metrics-generator remote-writes, if it is enabled."""
    processors = tempo["overrides"]["defaults"]["metrics_generator"]["processors"]
    if "service-graphs" not in processors:
        return
    generator = tempo["metrics_generator"]
    config = generator.get("processor", {}).get("service_graphs", {})
    dimensions = {_prometheus_name(d) for d in config.get("dimensions", [])}
    if config.get("enable_client_server_prefix"):
        dimensions = {f"{side}_{d}" for d in dimensions for side in ("client", "server")}
    labels = frozenset({"client", "server", "connection_type"} | dimensions)
    labels |= frozenset(generator.get("registry", {}).get("external_labels", {}))
    source = "Tempo metrics-generator service-graphs"
    yield Series("traces_service_graph_request_total", labels, source)
    yield Series("traces_service_graph_request_failed_total", labels, source)
    histograms = ["server", "client"]
    if config.get("enable_messaging_system_latency_histogram"):
        histograms.append("messaging_system")
    for histogram in histograms:
        name = f"traces_service_graph_request_{histogram}_seconds"
        yield from _exposed("histogram", name, labels, source)


def _prometheus_name(otel_name: str) -> str:
    """An OTel attribute or metric name as a Prometheus label or metric name."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", otel_name)
