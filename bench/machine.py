"""What a benchmark ran on: the CPU, the flags that decide the embedding runtime's speed, and the load.

Every bench table prints `describe()` under it: machines of this project's kind differ (some have
AVX-512 VNNI and BF16, others AVX2 only), and the cores are shared, so a number without these is
not comparable with another.
"""

from __future__ import annotations

import os
from pathlib import Path

FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
# What the AVX2-only machines of this kind run, emulated on a newer CPU: oneDNN (OpenVINO's kernels and
# PyTorch's), PyTorch's own kernels and MKL are each told to use nothing beyond AVX2. Cache sizes, clock and
# memory stay this machine's, and OpenVINO's list of capabilities still says BF16 (force the runtime).
AVX2_CAP = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def cap_at_avx2() -> None:
    """Cap this process and the ones it starts at AVX2; call before importing openvino or torch."""
    os.environ.update(AVX2_CAP)


def cpu() -> tuple[str, set[str]]:
    """(model name, flags) from /proc/cpuinfo; ("unknown", set()) where there is none."""
    from index.cpu import cpu_flags  # the flags the runtime's choice reads (no openvino imported)

    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown", set()
    name, flags = _field(text, "model name") or "unknown", cpu_flags()
    family = _field(text, "cpu family")
    model = _field(text, "model")
    if family and model:
        name = f"{name} (family {family}, model {model})"
    return name, flags


def _field(text: str, key: str) -> str | None:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def describe() -> str:
    """One line: CPU, the flags that matter (yes/no each), cores, and the 1-minute load average now."""
    name, flags = cpu()
    marks = ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in FLAGS)
    return f"CPU: {name}, {os.cpu_count()} cores; {marks}; load average (1 min) now {os.getloadavg()[0]:.2f}"


def describe_cpu() -> str:
    """The same line as `describe` (the name the library benches use)."""
    return describe()
