"""Requests per region: what `make bench URL=https://DOMAIN` adds when the answers name their
region (X-Instance-Region, set by each region's Cloud Run service)."""

from __future__ import annotations

import dataclasses

from bench import records as rec
from bench.load import LoadConfig, run_load
from bench.report import build_report
from bench.report_markdown import render_markdown

US, EU = "us-central1", "europe-west4"


def answered(seq: int, latency: float, region: str, status: int = 200) -> rec.RequestRecord:
    return rec.RequestRecord(
        seq=seq,
        scheduled_s=seq * 0.1,
        sent_s=seq * 0.1,
        outcome=rec.OK if status == 200 else rec.HTTP_ERROR,
        status=status,
        latency_ms=latency,
        instance_id=f"{region or 'none'}-1",
        instance_region=region,
    )


def two_regions() -> list[rec.RequestRecord]:
    rows = [answered(i, latency, US) for i, latency in enumerate((10.0, 20.0, 30.0, 40.0))]
    rows.append(answered(4, 5.0, US, status=503))  # answered, not ok: no share, no latency
    rows += [answered(5, 100.0, EU), answered(6, 200.0, EU)]
    rows.append(answered(7, 50.0, ""))  # an answer without the header
    rows.append(rec.RequestRecord(seq=8, scheduled_s=0.8, sent_s=0.8, outcome=rec.TIMEOUT))  # no answer
    return rows


def test_the_report_counts_requests_per_region():
    # Nearest rank: us-central1's 4 ok latencies → p50 rank 2 = 20, p99 rank 4 = 40.
    assert build_report(two_regions())["regions"] == [
        {
            "region": US,
            "answered": 5,
            "ok": 4,
            "share_pct": 57.1,
            "p50_latency_ms": 20.0,
            "p99_latency_ms": 40.0,
        },
        {
            "region": EU,
            "answered": 2,
            "ok": 2,
            "share_pct": 28.6,
            "p50_latency_ms": 100.0,
            "p99_latency_ms": 200.0,
        },
        {
            "region": "",
            "answered": 1,
            "ok": 1,
            "share_pct": 14.3,
            "p50_latency_ms": 50.0,
            "p99_latency_ms": 50.0,
        },
    ]


def test_the_markdown_shows_the_table():
    text = render_markdown(build_report(two_regions()))
    assert "### Requests per region (X-Instance-Region)" in text
    assert "| us-central1 | 5 | 4 | 57.1 | 20.0 | 40.0 |" in text
    assert "| europe-west4 | 2 | 2 | 28.6 | 100.0 | 200.0 |" in text
    assert "| (no header) | 1 | 1 | 14.3 | 50.0 | 50.0 |" in text


def test_without_the_header_the_report_is_what_it_was():
    with_regions = build_report(two_regions())
    without = build_report([dataclasses.replace(r, instance_region="") for r in two_regions()])
    assert "regions" not in without
    assert without == {k: v for k, v in with_regions.items() if k != "regions"}
    assert "per region" not in render_markdown(without)


def test_the_region_survives_requests_csv(tmp_path):
    path = tmp_path / "requests.csv"
    rec.write_csv(path, two_regions())
    assert [r.instance_region for r in rec.read_csv(path)] == [US] * 5 + [EU] * 2 + ["", ""]
    # A requests.csv written before the column existed still reads, with no region.
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cut = header.index("instance_region")
    older = [",".join(v for i, v in enumerate(line.split(",")) if i != cut) for line in lines]
    path.write_text("\n".join(older) + "\n", encoding="utf-8")
    assert {r.instance_region for r in rec.read_csv(path)} == {""}


def test_a_load_run_keeps_the_region_each_answer_named(stub_server):
    # Round robin over 3 instances, the third back in the first region: 2 of every 3 answers are US.
    stub = stub_server(instances=3, regions=[US, EU])
    payload = {"context": "Roses are red.", "question": "What is red?"}
    result = run_load(
        LoadConfig(url=stub.url, duration_s=30, concurrency=1, max_requests=12, payloads=[payload]),
        progress=False,
    )
    regions = {row["region"]: row["ok"] for row in build_report(result.records)["regions"]}
    assert regions == {US: 8, EU: 4}
