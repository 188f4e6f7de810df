"""What a report says it measured: CPU from /proc/cpuinfo text, runtime/precision from /ready."""

import http.server
import json
import threading

import pytest

from bench import target

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 9B14
flags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16
processor\t: 1
model name\t: AMD EPYC 9B14
flags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16
"""


def test_cpu_description_names_the_model_and_the_inference_flags():
    assert target.cpu_description(CPUINFO) == "AMD EPYC 9B14 (2 CPUs; AVX-512, VNNI, AVX512_BF16; no AMX)"
    avx2_only = CPUINFO.replace(" avx512f avx512_vnni avx512_bf16", "")
    assert target.cpu_description(avx2_only) == "AMD EPYC 9B14 (2 CPUs; no AVX-512, VNNI, AMX)"
    assert target.cpu_description("") == "unknown"


@pytest.fixture
def ready_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(
                {
                    "status": "ready",
                    "model_id": "m",
                    "model_revision": "sha256:0123456789abcdef0",
                    "backend": "onnx",
                    "precision": "int8",
                }
            ).encode()
            self.send_response(200 if self.path == "/ready" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_describe_asks_the_service_and_reads_the_local_cpu(ready_server):
    info = target.describe(ready_server + "/predict")
    assert (info["runtime"], info["precision"], info["model"]) == ("onnx", "int8", "m@sha256:0123456789ab")
    assert info["cpu"] == target.local_cpu()


def test_a_remote_cpu_is_unknown_and_an_unreachable_service_too():
    info = target.describe("http://127.0.0.1:9/predict", timeout_s=0.5)  # discard port: refused
    assert info["runtime"] == info["precision"] == "unknown"


def test_from_model_dir_reads_the_bake_manifest(tmp_path):
    (tmp_path / "service_manifest.json").write_text("{}")  # unreadable format: unknown, not a crash
    assert target.from_model_dir(tmp_path)["runtime"] == "unknown"
    (tmp_path / "service_manifest.json").unlink()
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert target.from_model_dir(tmp_path)["runtime"] == "torch"  # what a manifest-less checkpoint is
