"""What this CPU can do, and the numeric precision a run gets from ``training.precision: auto``.

Importable without TensorFlow (config expansion calls it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# Embedding widths from which mixed bfloat16 was measured to pay at all on a CPU with native bf16
# (docs/PERFORMANCE.md, "bfloat16"): with length-bucketed batches a 300-d CNN epoch is 1.07-1.23x
# faster, while at 50 d bf16 is no faster. The gain is too small, and its accuracy effect unmeasured
# on a full grid, for `auto` to be the default: `training.precision` defaults to float32.
BF16_MIN_WIDTH = 200


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where it does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512_BF16 or AMX-BF16)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def auto_precision(width: int | None) -> str:
    """``training.precision: auto`` for an embedding of this width (None: unknown → float32)."""
    if width is not None and width >= BF16_MIN_WIDTH and cpu_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def trained_precision(requested: str) -> str:
    """The precision a run computes in: ``mixed_bfloat16`` only on a CPU with bfloat16 units (elsewhere
    TF emulates bfloat16, several times slower than float32); the run records what it computed in."""
    if requested == "mixed_bfloat16" and not cpu_has_bf16():
        return "float32"
    return requested


def precision_fallback_line(requested: list[str]) -> str | None:
    """The one warning a grid prints when runs ask for bfloat16 on a CPU without bfloat16 units."""
    asking = sum(precision == "mixed_bfloat16" for precision in requested)
    if not asking or cpu_has_bf16():
        return None
    return (f"warning: training.precision mixed_bfloat16: this CPU has no bfloat16 units (avx512_bf16 or "
            f"amx_bf16 in /proc/cpuinfo), so {asking} run(s) train in float32 and are recorded as float32")
