"""Which CPU this process runs on: model, family/model numbers and the flags inference cares about.

Cloud Run neither lets a service choose its CPU platform nor tells it which one it got, and the
same image meets Intel and AMD generations with and without AVX-512, VNNI, AVX512_BF16 and AMX.
So the service reads /proc/cpuinfo itself and reports it (`/ready`, the start-up log line), and
`precision: auto` is decided per instance (service/qa/backends/openvino_precision.py). The
benchmarks name their CPU with the same description (bench/target.py).

Standard library only: imported by every runtime image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# /proc/cpuinfo flags worth naming for inference: wide vectors, int8 and bf16 dot products,
# matrix tiles. (flag, label); labels in MISSING_NOTED are also named when absent.
FLAGS_OF_NOTE = (
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512_bf16", "AVX512_BF16"),
    ("amx_tile", "AMX"),
)
MISSING_NOTED = ("AVX-512", "VNNI", "AMX")


@dataclass(frozen=True)
class CpuInfo:
    model: str  # "model name", e.g. "AMD EPYC 9B14"; "" when unknown
    family: int | None = None  # "cpu family"
    model_number: int | None = None  # "model"
    count: int = 0  # processors listed
    flags: frozenset[str] = frozenset()

    @property
    def features(self) -> list[str]:
        """Labels of the flags of note this CPU has, e.g. ["AVX-512", "VNNI", "AVX512_BF16"]."""
        return [label for flag, label in FLAGS_OF_NOTE if flag in self.flags]

    @property
    def lacks(self) -> list[str]:
        return [label for flag, label in FLAGS_OF_NOTE if flag not in self.flags and label in MISSING_NOTED]

    def summary(self) -> str:
        """`AMD EPYC 9B14 (family 25 model 17; 2 CPUs; AVX-512, VNNI, AVX512_BF16; no AMX)`."""
        if not self.model:
            return "unknown"
        parts = []
        if self.family is not None and self.model_number is not None:
            parts.append(f"family {self.family} model {self.model_number}")
        if self.count:
            parts.append(f"{self.count} CPUs")
        if self.features:
            parts.append(", ".join(self.features))
        if self.lacks:
            parts.append("no " + ", ".join(self.lacks))
        return f"{self.model} ({'; '.join(parts)})" if parts else self.model

    def as_json(self) -> dict:
        return {
            "model": self.model or "unknown",
            "family": self.family,
            "model_number": self.model_number,
            "features": self.features,
            "lacks": self.lacks,
            "summary": self.summary(),
        }


def parse_cpuinfo(text: str) -> CpuInfo:
    """The first processor's model, family and flags, and how many processors are listed."""
    fields: dict[str, str] = {}
    count = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            count += 1
        elif key in ("model name", "cpu family", "model", "flags") and key not in fields:
            fields[key] = value.strip()
    return CpuInfo(
        model=fields.get("model name", ""),
        family=_number(fields.get("cpu family")),
        model_number=_number(fields.get("model")),
        count=count,
        flags=frozenset(fields.get("flags", "").split()),
    )


@cache
def this_cpu() -> CpuInfo:
    """This machine's CPU (read once per process); model "" where /proc/cpuinfo is unreadable."""
    try:
        return parse_cpuinfo(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return CpuInfo(model="")


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
