"""What the CPU can do, and the precision a run computes in where it lacks bfloat16 units."""

import pytest

from embedlab.models import hardware


@pytest.fixture
def no_bf16(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))


@pytest.fixture
def amx(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512_bf16", "amx_bf16", "amx_tile"}))


def test_bfloat16_falls_back_to_float32_without_bf16_units(no_bf16):
    assert hardware.trained_precision("mixed_bfloat16") == "float32"
    assert hardware.trained_precision("float32") == "float32"
    assert hardware.auto_precision(300) == "float32"
    line = hardware.precision_fallback_line(["mixed_bfloat16", "float32", "mixed_bfloat16"])
    assert "2 run(s) train in float32" in line and "\n" not in line


def test_bfloat16_is_kept_on_a_cpu_with_bf16_units(amx):
    assert hardware.trained_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert hardware.precision_fallback_line(["mixed_bfloat16"]) is None
    assert hardware.auto_precision(300) == "mixed_bfloat16" and hardware.auto_precision(50) == "float32"


def test_no_warning_when_no_run_asks_for_bfloat16(no_bf16):
    assert hardware.precision_fallback_line(["float32"]) is None
