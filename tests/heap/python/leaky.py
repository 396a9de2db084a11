"""A small "service" that leaks by construction, for Scalene (tests/it/heap_sources.rs).

    scalene run -o profile.json leaky.py [N]

Every request calls enqueue(), which keeps one OrderContext with a 100 KB payload in the
module-level `pending` dict and never deletes it; scratch() makes a list per request and
drops it at once (a line that allocates, not a leak).
"""

import sys

pending = {}


class OrderContext:
    def __init__(self, order_id):
        self.order_id = order_id
        self.payload = bytearray(100_000)


def enqueue(order_id):
    ctx = OrderContext(order_id)
    pending[order_id] = ctx
    return ctx


def scratch(order_id):
    tmp = [order_id] * 1000
    return len(tmp)


def serve(n):
    total = 0
    for order_id in range(n):
        enqueue(order_id)
        total += scratch(order_id)
    return total


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
