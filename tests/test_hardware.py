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


@pytest.mark.parametrize("user_setting, expected", [(None, "1"), ("0", "0")])
def test_onednn_is_on_unless_the_user_opted_out_and_runs_record_it(user_setting, expected):
    """TensorFlow runs oneDNN by itself only on AVX-512/AMX CPUs; embedlab asks for it everywhere
    (1.5x on an AVX2-only CPU), leaves a user's TF_ENABLE_ONEDNN_OPTS alone, and records what ran."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if user_setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = user_setting
    code = ("import json, os; from embedlab.experiments.running.provenance import library_versions; "
            "v = library_versions(); print(json.dumps([os.environ['TF_ENABLE_ONEDNN_OPTS'], v['tf_onednn'], v['cpu']]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    environ, recorded, cpu = json.loads(out.strip().splitlines()[-1])
    assert environ == recorded == expected
    assert cpu
