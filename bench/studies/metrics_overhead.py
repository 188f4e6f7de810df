"""What /metrics costs the service: the per-request recording and one scrape, in-process.

    python -m bench.studies.metrics_overhead [--number 10000] [--repeat 5]

Times `ServiceMetrics.observe` (what every request pays after its response is built) and
`exposition` (what a scrape pays, with every route and status already recorded), minimum of
`repeat` runs of `number` calls each, median over five such rounds: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import timeit

from bench.studies.common import cpu_description
from service import routes
from service.admission import Admission
from service.lifecycle import ServiceState
from service.metrics import ServiceMetrics

TIMINGS_MS = {"queue": 0.02, "tokenize": 0.7, "inference": 30.0, "decode": 0.5, "total": 32.0}
ROUTES = (
    (routes.PREDICT, 200),
    (routes.PREDICT, 422),
    (routes.PREDICT, 503),
    (routes.HEALTH, 200),
    (routes.READY, 200),
)


def measure(number: int, repeat: int, rounds: int = 5) -> dict[str, float]:
    metrics = ServiceMetrics(
        ServiceState("model", "rev"), Admission(2, 4, 1.0), runtime="onnx", precision="fp32"
    )
    for route, code in ROUTES:
        metrics.observe(route, code, TIMINGS_MS, 1 if route == routes.PREDICT else None)

    def best(fn, n: int) -> float:
        return min(timeit.repeat(fn, number=n, repeat=repeat)) / n

    observe = [
        best(lambda: metrics.observe(routes.PREDICT, 200, TIMINGS_MS, 2), number) for _ in range(rounds)
    ]
    scrape = [best(metrics.exposition, max(number // 50, 1)) for _ in range(rounds)]
    return {
        "observe_us": round(statistics.median(observe) * 1e6, 2),
        "scrape_ms": round(statistics.median(scrape) * 1e3, 3),
        "scrape_bytes": len(metrics.exposition()[0]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.metrics_overhead", description=__doc__)
    parser.add_argument("--number", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps({**measure(args.number, args.repeat), "cpu": cpu_description().get("Model name", "")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
