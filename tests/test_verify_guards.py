"""Static guards on C++ and Triton candidate sources: each rejection names its rule; baselines pass their own guards.

Pure text checks, no compiler and no worker: these run in milliseconds.
"""

from __future__ import annotations

import pytest

from aikg_inductor.verify import guards
from aikg_inductor.verify.report import VerificationReport

CPP = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       float* out_ptr0)
{
    #pragma omp parallel for
    for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(1024L); x0+=static_cast<int64_t>(16L))
    {
        auto tmp0 = at::vec::Vectorized<float>::loadu(in_ptr0 + x0, static_cast<int64_t>(16));
        auto tmp1 = at::vec::clamp_min(tmp0, decltype(tmp0)(0));
        tmp1.store(out_ptr0 + x0);
    }
}
"""

# The shape of an Inductor Triton kernel (torch 2.13): imports, heuristics decorator, @triton.jit.
TRITON = """import triton
import triton.language as tl

from torch._inductor.runtime import triton_helpers, triton_heuristics
from torch._inductor.runtime.triton_helpers import libdevice, math as tl_math
from torch._inductor.runtime.hints import AutotuneHint, ReductionHint, TileHint, DeviceProperties
triton_helpers.set_driver_to_gpu()

@triton_heuristics.pointwise(
    size_hints={'x': 1024},
    filename=__file__,
    triton_meta={'signature': {'in_ptr0': '*fp32', 'out_ptr0': '*fp32', 'xnumel': 'i32', 'XBLOCK': 'constexpr'},
                 'device': DeviceProperties(type='cuda', index=0, multi_processor_count=132, cc=90, major=9,
                                            regs_per_multiprocessor=65536, max_threads_per_multi_processor=2048,
                                            warp_size=32), 'constants': {}},
    inductor_meta={'kernel_name': 'Placeholder.DESCRIPTIVE_NAME', 'mutated_arg_names': []},
    min_elem_per_thread=0
)
@triton.jit
def Placeholder.KERNEL_NAME(in_ptr0, out_ptr0, xnumel, XBLOCK : tl.constexpr):
    xnumel = 1024
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = xindex < xnumel
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), xmask)
    tmp1 = triton_helpers.maximum(tmp0, 0.0)
    tl.store(out_ptr0 + (x0), tmp1, xmask)
"""

BODY = "        tmp1.store(out_ptr0 + x0);"
TRITON_BODY = "    tl.store(out_ptr0 + (x0), tmp1, xmask)"


def cpp_rule(source: str) -> str | None:
    violation = guards.check_cpp(CPP, source)
    return violation.rule if violation else None


def triton_rule(source: str) -> str | None:
    violation = guards.check_triton(TRITON, source)
    return violation.rule if violation else None


def test_baselines_pass_their_own_guards():
    assert cpp_rule(CPP) is None
    assert triton_rule(TRITON) is None


def test_cpp_comments_and_strings_are_not_code():
    assert cpp_rule(CPP.replace(BODY, BODY + '\n        // fopen("x") system() at::softmax asm\n')) is None


@pytest.mark.parametrize("edit, rule", [
    (("const float* in_ptr0", "float* in_ptr0"), "guard:signature"),
    (("float* out_ptr0)", "float* out_ptr0, int extra)"), "guard:signature"),
    (("Placeholder.KERNEL_NAME", "my_kernel"), "guard:signature"),
    (("#include <torch/csrc/inductor/cpp_prefix.h>", "#include <torch/csrc/inductor/cpp_prefix.h>\n#include <cstdio>"),
     "guard:include"),
    (("#include <torch/csrc/inductor/cpp_prefix.h>", "#include <torch/csrc/inductor/cpp_prefix.h>\n%:include <cstdio>"),
     "guard:include"),
    (("{\n    #pragma", "{\n#define F fo##pen\n    #pragma"), "guard:preprocessor"),
    ((BODY, BODY + '\n        asm volatile("nop");'), "guard:asm"),
    ((BODY, BODY + "\n        auto t = at::empty({4});"), "guard:torch"),
    ((BODY, BODY + "\n        torch::Tensor t;"), "guard:torch"),
    ((BODY, BODY + "\n        aoti_torch_empty_strided(0, 0, 0, 0, 0, 0, 0);"), "guard:torch"),
    ((BODY, BODY + "\n        PyGILState_Ensure();"), "guard:torch"),
    ((BODY, BODY + '\n        std::ofstream f("/tmp/x");'), "guard:system"),
    ((BODY, BODY + '\n        auto f = &system;'), "guard:system"),
    ((BODY, BODY + '\n        std::thread([]{}).detach();'), "guard:system"),
    ((BODY, BODY + '\n        kill(1, 9);'), "guard:system"),
    ((BODY, BODY + '\n        const char* home = getenv("HOME");'), "guard:system"),
    (("extern", "__attribute__((constructor)) static void boom() {}\nextern"), "guard:load-time-code"),
])
def test_cpp_rules(edit, rule):
    old, new = edit
    assert old in CPP
    assert cpp_rule(CPP.replace(old, new, 1)) == rule


def test_cpp_words_that_only_look_like_calls_are_fine():
    # Variables named like POSIX calls are common in real kernels; only calls are suspicious.
    assert cpp_rule(CPP.replace(BODY, BODY + "\n        int read = 1, write = read; (void)write;")) is None


@pytest.mark.parametrize("edit, rule", [
    (("def Placeholder.KERNEL_NAME(in_ptr0, out_ptr0, xnumel, XBLOCK : tl.constexpr)",
      "def Placeholder.KERNEL_NAME(in_ptr0, out_ptr0, xnumel, XBLOCK)"), "guard:signature"),
    (("@triton_heuristics.pointwise(", "@triton_heuristics.reduction("), "guard:signature"),
    (("import triton\n", "import triton\nimport os\n"), "guard:include"),
    (("import triton\n", "import triton\nimport torch\n"), "guard:include"),
    (("import triton\n", "import triton\nfrom torch import nn\n"), "guard:include"),
    ((TRITON_BODY, TRITON_BODY + "\n    eval('1')"), "guard:eval"),
    ((TRITON_BODY, TRITON_BODY + "\n    tmp1.__class__"), "guard:eval"),
    ((TRITON_BODY, TRITON_BODY + "\n    open('/tmp/x')"), "guard:system"),
    ((TRITON_BODY, TRITON_BODY + "\n    torch.relu(tmp0)"), "guard:torch"),
    ((TRITON_BODY, TRITON_BODY + "\n    if True"), "guard:syntax"),
])
def test_triton_rules(edit, rule):
    old, new = edit
    assert old in TRITON
    assert triton_rule(TRITON.replace(old, new, 1)) == rule


def test_report_round_trips_through_a_dict():
    report = VerificationReport(verdict="rejected", rule="mismatch", reason="r", task_key="k" * 64, dsl="cpp-cpu",
                                seeds=[1, 2], trials=["normal", "large"], baseline_s=[1e-5], candidate_s=[2e-5],
                                speedup=0.5, tolerances={"float32": [1e-5, 1e-5]})
    assert VerificationReport.from_dict(report.to_dict()) == report
    assert "REJECTED [mismatch]" in report.summary()
