// Two routes, one leaking on purpose: every POST /api/upload keeps an array of 2,500
// numbers (about 20 KB on the V8 heap: 8 bytes an element) for good; GET /api/items
// builds and drops as much garbage. (Not strings: V8 shares the parts of repeated and
// concatenated strings, so their size is not what they read.) prom-client counts
// requests by method, route and status as express middlewares do
// (http_requests_total{method,route,status_code}); its default metrics give the heap.
// Serves on 127.0.0.1:$PORT; the test drives the load.
'use strict';
const http = require('http');
const client = require('prom-client');

client.collectDefaultMetrics();
const requests = new client.Counter({
  name: 'http_requests_total',
  help: 'Requests served',
  labelNames: ['method', 'route', 'status_code'],
});

const retained = [];
let sink = 0;

const routes = {
  'POST /api/upload': () => {
    retained.push(new Array(2500).fill(retained.length));
  },
  'GET /api/items': () => {
    const garbage = new Array(2500).fill(sink);
    sink += garbage.length;
  },
};

const port = Number(process.env.PORT);
http
  .createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', client.register.contentType);
      res.end(await client.register.metrics());
      return;
    }
    const route = `${req.method} ${req.url}`;
    const handler = routes[route];
    req.resume();
    req.on('end', () => {
      if (handler) handler();
      res.statusCode = handler ? 200 : 404;
      requests.inc({ method: req.method, route: req.url, status_code: String(res.statusCode) });
      res.end('ok');
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
