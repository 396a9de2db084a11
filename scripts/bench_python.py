#!/usr/bin/env python3
"""Benchmark 2's other side: the figure leakcollect reports, computed the way a careful
Python script would, with prometheus-api-client (PyPI) and numpy.

It sends the same queries leakcollect sent (read from its JSON evidence, 8 at once like
leakcollect's default --concurrency) and computes the window's headline growth with the
same method: per instance, lifetimes cut where process_start_time_seconds changes, the
post-GC floor (lowest sample in up to 240 equal time bins), a Theil-Sen slope per
lifetime weighted by its length, then a median across instances weighted by observed
hours. It prints the growth in bytes per hour as JSON.

    pip install prometheus-api-client==0.7.2 numpy==2.4.6
    python3 scripts/bench_python.py EVIDENCE.json PROMETHEUS_URL
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import numpy as np
from prometheus_api_client import PrometheusConnect

IDENTITY = ("instance", "pod", "namespace", "container")
MIN_LIFETIME_POINTS = 6
MAX_FLOOR_POINTS = 240


def fetch(prom, query):
    if query["kind"] == "range":
        return prom.custom_query_range(
            query["promql"],
            start_time=datetime.fromtimestamp(query["start"], timezone.utc),
            end_time=datetime.fromtimestamp(query["end"], timezone.utc),
            step=str(query["step_seconds"]),
        )
    if query["kind"] == "instant":
        return prom.custom_query(query["promql"], params={"time": query["time"]})
    # The series-API call of runtime detection, through the client's own session.
    response = prom._session.post(
        prom.url + "/api/v1/series",
        data=[("match[]", m) for m in query["promql"].split(" ")]
        + [("start", query["start"]), ("end", query["end"])],
    )
    response.raise_for_status()
    return response.json()["data"]


def key(labels):
    return tuple((name, labels.get(name)) for name in IDENTITY if name in labels)


def points(series):
    values = np.array([(float(t), float(v)) for t, v in series["values"]])
    return values[np.isfinite(values[:, 1])] if len(values) else values


def boundaries(start_times):
    out = []
    for (t0, v0), (t1, v1) in zip(start_times[:-1], start_times[1:]):
        if abs(v1 - v0) > 1.0:
            out.append(v1 if t0 < v1 <= t1 else t1)
    return out


def floor(lifetime):
    if len(lifetime) < 2 * MIN_LIFETIME_POINTS:
        return lifetime
    bins = min(max(len(lifetime) // 3, MIN_LIFETIME_POINTS), MAX_FLOOR_POINTS)
    start, span = lifetime[0, 0], lifetime[-1, 0] - lifetime[0, 0]
    if span <= 0:
        return lifetime
    index = np.minimum(((lifetime[:, 0] - start) / span * bins).astype(int), bins - 1)
    kept = []
    for b in range(bins):
        in_bin = lifetime[index == b]
        if len(in_bin):
            kept.append(in_bin[np.argmin(in_bin[:, 1])])
    return np.array(kept)


def theil_sen(xy):
    i, j = np.triu_indices(len(xy), k=1)
    dx = xy[j, 0] - xy[i, 0]
    ok = dx > 0
    return float(np.median((xy[j, 1] - xy[i, 1])[ok] / dx[ok])) if ok.any() else None


def instance_growth(heap, cuts):
    pieces = np.split(heap, np.searchsorted(heap[:, 0], cuts, side="left"))
    weighted = seconds_total = 0.0
    for lifetime in pieces:
        if len(lifetime) < MIN_LIFETIME_POINTS:
            continue
        seconds = lifetime[-1, 0] - lifetime[0, 0]
        slope = theil_sen(floor(lifetime)) if seconds > 0 else None
        if slope is None:
            continue
        weighted += slope * seconds
        seconds_total += seconds
    return weighted / seconds_total * 3600 if seconds_total else None


def weighted_median(pairs):
    pairs = sorted((v, w) for v, w in pairs if w > 0)
    total = sum(w for _, w in pairs)
    acc, positioned = 0.0, []
    for v, w in pairs:
        positioned.append(((acc + w / 2) / total, v))
        acc += w
    if 0.5 <= positioned[0][0]:
        return positioned[0][1]
    if 0.5 >= positioned[-1][0]:
        return positioned[-1][1]
    for (p0, v0), (p1, v1) in zip(positioned[:-1], positioned[1:]):
        if p0 <= 0.5 <= p1:
            return v0 + (v1 - v0) * (0.5 - p0) / (p1 - p0)


def main():
    evidence = json.load(open(sys.argv[1]))
    prom = PrometheusConnect(url=sys.argv[2], disable_ssl=True)
    queries = evidence["queries"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip((q["id"] for q in queries), pool.map(lambda q: fetch(prom, q), queries)))
    starts = {key(s["metric"]): points(s) for s in answers.get("process_start", [])}
    growths = []
    for series in answers["heap_used"]:
        heap = points(series)
        if len(heap) < 2:
            continue
        start = starts.get(key(series["metric"]))
        cuts = boundaries(start.tolist()) if start is not None and len(start) else []
        growth = instance_growth(heap, cuts)
        if growth is not None:
            growths.append((growth, (heap[-1, 0] - heap[0, 0]) / 3600))
    print(json.dumps({"growth_bytes_per_hour": weighted_median(growths), "instances": len(growths)}))


if __name__ == "__main__":
    main()
