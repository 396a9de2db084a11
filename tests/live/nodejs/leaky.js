// Leaks on purpose: keeps ~40 KB of strings per 100 ms in a module-level array, and
// serves prom-client's default metrics on 127.0.0.1:$PORT/metrics.
'use strict';
const http = require('http');
const client = require('prom-client');

client.collectDefaultMetrics();
const requests = new client.Counter({ name: 'http_requests_total', help: 'Requests served', labelNames: ['code'] });

const retained = [];
setInterval(() => {
  for (let i = 0; i < 40; i++) retained.push(`${Date.now()}-${i}-${'x'.repeat(1000)}`);
  requests.inc({ code: '200' }, 10);
}, 100);

const port = Number(process.env.PORT);
http
  .createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', client.register.contentType);
      res.end(await client.register.metrics());
    } else {
      res.statusCode = 404;
      res.end();
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
