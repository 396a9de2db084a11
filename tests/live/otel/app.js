// A Node.js process instrumented only with the OpenTelemetry JS SDK: the runtime-node
// instrumentation's V8 metrics, served by the SDK's Prometheus exporter on
// 127.0.0.1:$PORT/metrics. With LEAK=1 it keeps ~40 KB of strings per 100 ms in a
// module-level array; without, it makes and drops the same garbage.
'use strict';
const { MeterProvider } = require('@opentelemetry/sdk-metrics');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { RuntimeNodeInstrumentation } = require('@opentelemetry/instrumentation-runtime-node');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const exporter = new PrometheusExporter({ port: Number(process.env.PORT), host: '127.0.0.1' });
const provider = new MeterProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.SERVICE || 'api' }),
  readers: [exporter],
});
const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: 1000 });
runtime.setMeterProvider(provider);
runtime.enable();

const leak = process.env.LEAK === '1';
const retained = [];
setInterval(() => {
  const batch = [];
  for (let i = 0; i < 40; i++) batch.push(`${Date.now()}-${i}-${'x'.repeat(1000)}`);
  if (leak) retained.push(...batch);
}, 100);
