"""A Python process instrumented only with the OpenTelemetry Python SDK: the
system-metrics instrumentation's process and CPython metrics, served by the SDK's
Prometheus exporter (prometheus_client's HTTP server) on 127.0.0.1:$PORT/metrics.
With LEAK=1 it keeps ~80 KB of bytes objects per 100 ms in a module-level list, so
resident memory grows; without, it makes and drops the same garbage."""

import os
import time

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
from opentelemetry.metrics import set_meter_provider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import start_http_server

start_http_server(port=int(os.environ["PORT"]), addr="127.0.0.1")
resource = Resource.create({"service.name": os.environ.get("SERVICE", "api")})
set_meter_provider(MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()]))
SystemMetricsInstrumentor().instrument()

leak = os.environ.get("LEAK") == "1"
retained = []
while True:
    # 40 distinct 2 KB objects (80 KB, 800 KB/s): written to, so their pages are resident.
    batch = [bytes([i % 256]) * 2_000 for i in range(40)]
    if leak:
        retained.extend(batch)
    time.sleep(0.1)
