"""The peer study's report: one file name per CPU, auto judged against every full-precision peer."""

from bench.studies import peers_report


def _row(side, klass, small, medium, large, *, start=1.0, rss=500.0, **extra):
    return {
        "side": side,
        "class": klass,
        "p50_ms": {"small": small, "medium": medium, "large": large},
        "start_s_median": start,
        "peak_rss_mb": {"worker_mb": rss},
        **extra,
    }


def test_the_result_file_is_named_after_the_cpu():
    cpu = {"model": "AMD EPYC", "family": 26, "model_number": 2}
    assert peers_report.result_stem(cpu) == "peers-amd-epyc-f26m2"
    intel = {"model": "INTEL(R) XEON(R) PLATINUM 8581C CPU @ 2.10GHz", "family": 6, "model_number": 207}
    assert peers_report.result_stem(intel) == "peers-intel-r-xeon-r-platinum-8581c-cpu-2-10ghz-f6m207"
    assert peers_report.result_stem({"model": "AMD EPYC"}) == "peers-amd-epyc"


def test_auto_is_held_to_the_best_full_precision_peer_and_int8_to_its_own():
    rows = {
        "project openvino auto": _row("project", "auto", 20, 180, 1900),
        "project openvino int8": _row("project", "int8", 11, 70, 700),
        "peer default (bf16)": _row("peer", "default", 22, 290, 2700),
        "peer f32": _row("peer", "fp32", 21, 182, 1906),
        "peer int8": _row("peer", "int8", 10, 78, 747),
    }
    targets = peers_report.check_targets(rows, {}, None)
    auto = {k: v for k, v in targets.items() if k.startswith("project openvino auto: p50")}
    # the best of the bf16 and f32 peers at each size: 21, 182 and 1906 ms (the f32 peer)
    assert {k.split(": ")[1]: v["measured"] for k, v in auto.items()} == {
        "p50 small vs best default/fp32 peer": round(20 / 21, 2),
        "p50 medium vs best default/fp32 peer": round(180 / 182, 2),
        "p50 large vs best default/fp32 peer": round(1900 / 1906, 2),
    }
    assert all(v["met"] for v in auto.values())
    int8 = targets["project openvino int8: p50 small vs best int8 peer"]
    assert (int8["measured"], int8["met"]) == (1.1, False)


def test_the_table_names_the_cpu_and_how_auto_decided():
    choice = {"chosen": "bf16", "probe_ms": {"bf16": 8.0, "fp32": 24.0}, "rounds": 3}
    rows = {
        "project openvino auto": _row(
            "project",
            "auto",
            60,
            500,
            7000,
            start=4.5,
            ready={"precision_choice": choice},
            starts=[{"decide_ms": 400.0}, {"decide_ms": 300.0}, {"decide_ms": 500.0}],
        ),
        "project openvino bf16": _row("project", "default", 50, 500, 7000, start=4.0),
        "project openvino fp32": _row("project", "fp32", 100, 1000, 14000, start=4.2),
    }
    result = {
        "cpu": {"summary": "AMD EPYC (family 26 model 2; 2 CPUs; AVX-512; no AMX)"},
        "threads": 2,
        "load_average": [9.0],
        "rows": rows,
        "site_packages": {},
        "targets": {},
    }
    text = peers_report.render_markdown(result)
    assert text.startswith("CPU: AMD EPYC (family 26 model 2; 2 CPUs; AVX-512; no AMX), 2 threads.")
    assert (
        "* project openvino auto: ran **bf16** (probe, fastest pass of 3 rounds: bf16 8.0 ms, fp32 24.0 ms); "
        "deciding took 400 ms wall (median of 3 fresh starts)" in text
    )
    assert (
        "p50 against the faster fixed precision: small 1.20×, medium 1.00×, large 1.00×; "
        "start → first answer 4.50 s against 4.00 s, 4.20 s (fixed bf16, fp32)" in text
    )
