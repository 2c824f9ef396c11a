"""What this CPU computes fastest: its flags, OpenVINO's own capability list, and which faster arithmetic suits it.

The runtimes' choice reads these (index/runtime.py for OpenVINO's precision, index/ortruntime.py for ONNX Runtime's
int8); so do the benchmarks (bench/machine.py), which is why reading the flags imports no runtime.
"""

from __future__ import annotations

from pathlib import Path


def cpu_capabilities() -> set[str]:
    """OpenVINO's CPU plugin's own list ("FP32", "BF16", "INT8", ...): what it will really compute in."""
    import openvino

    return set(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def cpu_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes in bf16 here (it silently falls back to fp32 otherwise)."""
    return "BF16" in cpu_capabilities()


# oneDNN's instruction-set caps (ONEDNN_MAX_CPU_ISA) under which it has no VNNI int8 kernels
_NO_VNNI_CAPS = {"SSE41", "AVX", "AVX2", "AVX512_CORE"}


def cpu_flags() -> set[str]:
    """The CPU's flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def cpu_suits_w8a8() -> bool:
    """Whether w8a8 is this CPU's fastest arithmetic: int8 products with VNNI (AVX-512 or AVX) and no AMX.

    OpenVINO's capability list says INT8 on every x86 CPU, so this reads the CPU's flags, and honours oneDNN's
    ISA cap (as bench/machine.py's AVX2 emulation sets it)."""
    import os

    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() in _NO_VNNI_CAPS:
        return False
    flags = cpu_flags()
    return bool(flags & {"avx512_vnni", "avx_vnni"}) and not flags & {"amx_int8", "amx_bf16"}


def cpu_suits_ort_int8() -> bool:
    """Whether ONNX Runtime's int8 is this CPU's fastest accepted arithmetic: AVX2, and neither VNNI (w8a8 on
    OpenVINO) nor bf16 (AVX-512 BF16 or AMX: OpenVINO in bf16). Read from the CPU's flags alone: oneDNN's ISA cap
    (bench/machine.py's AVX2 emulation) does not reach ONNX Runtime's kernels, so a capped run is no AVX2 measure."""
    flags = cpu_flags()
    faster = {"avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    return "avx2" in flags and not flags & faster
