#!/usr/bin/env python3
"""Benchmark 2's other side: the growth figures leakcollect reports, computed the way a
careful Python script would, with prometheus-api-client (PyPI) and numpy.

It sends the same requests leakcollect sent (read from its JSON evidence: the runtime
detection series call, the scrape-interval probe, the range queries at its step and the
instant queries; 8 at once like leakcollect's default --concurrency) through
`PrometheusConnect.custom_query_range` / `custom_query`, and computes the window's growth
the way src/analysis/{growth,period,stats,restarts}.rs do:

  * heap series trimmed of the stale tail a range query repeats after a series ended
    (period.rs trim_stale_tails), clipped to the window, kept only with >= 3 samples
    spanning >= 2 steps;
  * each series cut into process lifetimes where process_start_time_seconds changes
    (else where process_cpu_seconds_total resets, else where kube-state-metrics' restart
    counter goes up);
  * per lifetime (>= 6 samples) the post-GC floor: the lowest sample in each of
    clamp(n/3, 6, 240) equal time bins; Theil-Sen slope of the floor and Sen's 95 % rank
    interval; slopes combined weighted by lifetime length;
  * the service figure: the median across instances weighted by hours observed
    (interpolated, stats.rs weighted_median); `_total` the sum scaled by each instance's
    share of the window; the interval the weighted medians of the bounds.

Not mirrored (not exercised by the synthetic data): merging HA-replica copies
(analysis/replicas.rs). The other answers (GC, limits, kube-state-metrics) are fetched and
parsed but not analysed. Prints one JSON object.

    pip install prometheus-api-client==0.7.2 numpy==2.4.6
    python3 scripts/bench_python.py EVIDENCE.json PROMETHEUS_URL
"""

import json
import math
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import numpy as np
from prometheus_api_client import PrometheusConnect

MIN_LIFETIME_POINTS = 6
MAX_FLOOR_POINTS = 240
LOOKBACK_SECONDS = 300.0
START_TIME_JITTER_SECONDS = 1.0
HOUR = 3600.0
IDENTITY_LABELS = ("instance", "pod", "namespace", "container")
_local = threading.local()


def prom(url):
    """One client (one requests session) per worker thread."""
    if not hasattr(_local, "prom"):
        _local.prom = PrometheusConnect(url=url, disable_ssl=True)
    return _local.prom


def fetch(url, query):
    p = prom(url)
    if query["kind"] == "range":
        return p.custom_query_range(
            query["promql"],
            start_time=datetime.fromtimestamp(query["start"], timezone.utc),
            end_time=datetime.fromtimestamp(query["end"], timezone.utc),
            step=str(query["step_seconds"]),
        )
    if query["kind"] == "instant":
        return p.custom_query(query["promql"], params={"time": query["time"]})
    # The series-API call of runtime detection (the client has no method for it), through
    # the client's own session.
    response = p._session.post(
        p.url + "/api/v1/series",
        data=[("match[]", m) for m in query["promql"].split(" ")]
        + [("start", query["start"]), ("end", query["end"])],
    )
    response.raise_for_status()
    return response.json()["data"]


# ---------------------------------------------------------------- statistics


def median(values):
    v = sorted(x for x in values if math.isfinite(x))
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2.0


def weighted_median(pairs):
    items = sorted(((v, w) for v, w in pairs if math.isfinite(v) and w > 0), key=lambda p: p[0])
    if not items:
        return None
    total = sum(w for _, w in items)
    acc = 0.0
    positioned = []
    for v, w in items:
        positioned.append(((acc + w / 2.0) / total, v))
        acc += w
    if 0.5 <= positioned[0][0]:
        return positioned[0][1]
    if 0.5 >= positioned[-1][0]:
        return positioned[-1][1]
    for (p0, v0), (p1, v1) in zip(positioned, positioned[1:]):
        if p0 <= 0.5 <= p1:
            return v0 + (v1 - v0) * (0.5 - p0) / (p1 - p0)
    return None


def theil_sen_interval(points):
    """Median pairwise slope with Sen's 95 % rank interval (growth.rs theil_sen_interval)."""
    if len(points) < 2:
        return None
    arr = np.asarray(points, dtype=float)
    i, j = np.triu_indices(len(arr), k=1)
    dx = arr[j, 0] - arr[i, 0]
    keep = (dx > 0) & np.isfinite(arr[i, 1]) & np.isfinite(arr[j, 1])
    slopes = (arr[j, 1] - arr[i, 1])[keep] / dx[keep]
    slopes = slopes[np.isfinite(slopes)]
    if slopes.size == 0:
        return None
    slopes.sort()
    count = slopes.size
    mid = count // 2
    slope = slopes[mid] if count % 2 else (slopes[mid - 1] + slopes[mid]) / 2.0
    n = float(len(points))
    spread = 1.96 * math.sqrt(n * (n - 1.0) * (2.0 * n + 5.0) / 18.0)
    lower = min(int(max(math.floor((count - spread) / 2.0), 0.0)), count - 1)
    upper = min(int(math.ceil((count + spread) / 2.0)), count - 1)
    return float(slope), float(slopes[lower]), float(slopes[upper])


def floor_points(points):
    finite = [p for p in points if math.isfinite(p[1])]
    if len(finite) < 2 * MIN_LIFETIME_POINTS:
        return finite
    bins = min(max(len(finite) // 3, MIN_LIFETIME_POINTS), MAX_FLOOR_POINTS)
    start = finite[0][0]
    span = finite[-1][0] - start
    if span <= 0:
        return finite
    floor = [None] * bins
    for t, v in finite:
        index = min(int(math.floor((t - start) / span * bins)), bins - 1)
        slot = floor[index]
        if slot is None or v < slot[1]:
            floor[index] = (t, v)
    return [p for p in floor if p is not None]


def split_lifetimes(points, boundaries):
    lifetimes = [[]]
    nxt = 0
    for p in points:
        while nxt < len(boundaries) and p[0] >= boundaries[nxt]:
            nxt += 1
            if lifetimes[-1]:
                lifetimes.append([])
        lifetimes[-1].append(p)
    return [l for l in lifetimes if l]


def instance_growth(points, boundaries):
    weighted = low_w = high_w = total = 0.0
    fitted = 0
    for lifetime in split_lifetimes(points, boundaries):
        if len(lifetime) < MIN_LIFETIME_POINTS:
            continue
        seconds = lifetime[-1][0] - lifetime[0][0]
        if seconds <= 0:
            continue
        fit = theil_sen_interval(floor_points(lifetime))
        if fit is None:
            continue
        slope, low, high = fit
        weighted += slope * seconds
        low_w += low * seconds
        high_w += high * seconds
        total += seconds
        fitted += 1
    if not fitted:
        return None
    return (weighted / total * HOUR, low_w / total * HOUR, high_w / total * HOUR, fitted)


# ---------------------------------------------------------------- restarts


def instance_key(labels):
    parts = ['%s="%s"' % (n, labels[n]) for n in IDENTITY_LABELS if n in labels]
    if parts:
        return ",".join(parts)
    return ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()) if k != "__name__")


def boundaries_from_start_times(points):
    out = []
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if math.isfinite(v0) and math.isfinite(v1) and abs(v1 - v0) > START_TIME_JITTER_SECONDS:
            out.append(v1 if t0 < v1 <= t1 else t1)
    return out


def boundaries_from_counter_resets(points):
    return [b[0] for a, b in zip(points, points[1:]) if b[1] < a[1]]


def boundaries_from_counter_increments(points):
    return [b[0] for a, b in zip(points, points[1:]) if b[1] > a[1]]


def trim_stale_tail(points, window_end, step):
    """period.rs trim_stale_tails for one level gauge series."""
    if not points:
        return points
    last_t, last_v = points[-1]
    if last_t >= window_end - step / 2.0:
        return points
    run_start = 0
    for i in range(len(points) - 1, -1, -1):
        if points[i][1] != last_v:
            run_start = i + 1
            break
    return [p for i, p in enumerate(points) if i <= run_start or p[0] <= last_t - LOOKBACK_SECONDS]


# ---------------------------------------------------------------- main


def main():
    evidence = json.load(open(sys.argv[1]))
    url = sys.argv[2]
    queries = evidence["queries"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip((q["id"] for q in queries),
                           pool.map(lambda q: fetch(url, q), queries)))
    heap_query = next(q for q in queries if q["id"] == "heap_used")
    start, end, step = heap_query["start"], heap_query["end"], heap_query["step_seconds"]

    def series(query_id):
        return [(s["metric"], [(float(t), float(v)) for t, v in s["values"]])
                for s in answers.get(query_id) or []]

    heap = [(labels, trim_stale_tail(points, end, step)) for labels, points in series("heap_used")]
    starts = {instance_key(l): p for l, p in series("process_start")}
    resets = {instance_key(l): p for l, p in series("cpu_seconds")}
    k8s = series("k8s_restarts")

    def boundaries_for(labels):
        key = instance_key(labels)
        if key in starts:
            return boundaries_from_start_times(starts[key]), True
        if key in resets:
            return boundaries_from_counter_resets(resets[key]), True
        pod = labels.get("pod")
        if pod is not None:
            for kl, kp in k8s:
                if (kl.get("pod") == pod and kl.get("namespace") == labels.get("namespace")
                        and ("container" not in labels or kl.get("container") == labels["container"])):
                    return boundaries_from_counter_increments(kp), False
        return [], False

    hours = (end - start) / HOUR
    growths, intervals = [], []
    restarts = 0
    for labels, points in heap:
        points = [(t, v) for t, v in points if start <= t <= end and math.isfinite(v)]
        if not (len(points) >= 3 and points[-1][0] - points[0][0] >= 2.0 * step - 1e-9):
            continue
        cut, from_process = boundaries_for(labels)
        if from_process:
            restarts += sum(1 for b in cut if start < b <= end)
        g = instance_growth(points, cut)
        if g:
            observed = (points[-1][0] - points[0][0]) / HOUR
            growths.append((g[0], observed))
            intervals.append(((g[1], g[2]), observed))
    total = sum(g * min(h / hours, 1.0) for g, h in growths) if growths and hours > 0 else None
    interval = None
    if intervals:
        interval = [weighted_median([(lo, w) for (lo, _), w in intervals]),
                    weighted_median([(hi, w) for (_, hi), w in intervals])]
    print(json.dumps({
        "growth_bytes_per_hour": weighted_median(growths),
        "growth_bytes_per_hour_total": total,
        "growth_interval_bytes_per_hour": interval,
        "instances": len(growths),
        "restarts": restarts,
        "requests": len(queries),
    }))


if __name__ == "__main__":
    main()
