"""Static guards on C++ and Triton candidate sources: each rejection names its rule; baselines pass their own guards.

Source checks only, no compiler and no worker: these run in milliseconds. The proof on compiled C++ objects and
the whole verifier against adversarial candidates are in tests/test_verify_adversarial_suite.py.
"""

from __future__ import annotations

import pytest

from aikg_inductor.dsl.cpp_guards import check_cpp
from aikg_inductor.dsl.triton_base import check_triton
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
    violation = check_cpp(CPP, source)
    return violation.rule if violation else None


def triton_rule(source: str) -> str | None:
    violation = check_triton(TRITON, source)
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
    # Evasions: what the compiler joins or reads differently from a naive scanner.
    ((BODY, BODY + '\n        std::sys\\\ntem("touch /tmp/x");'), "guard:system"),
    ((BODY, BODY + '\n        std::sys\\  \ntem("touch /tmp/x");'), "guard:system"),
    (("extern", "__attribute__((con\\\nstructor)) static void boom() {}\nextern"), "guard:load-time-code"),
    (("extern", "__attribute__((aligned(8), constructor)) static void boom() {}\nextern"), "guard:load-time-code"),
    (("extern", "[[gnu::constructor]] static void boom() {}\nextern"), "guard:load-time-code"),
    (("extern", "__attribute__((section(\".init_array\"))) void* p = 0;\nextern"), "guard:load-time-code"),
    ((BODY, BODY + '\n        const char* s = R"x(")x"; system("id"); const char* t = R"x()x";'), "guard:system"),
    ((BODY, BODY + "\n        int a = 1'0; system(\"id\"); int b = 0'0;"), "guard:system"),
    ((BODY, BODY + '\n        // comment ??/\n        system("id");'), "guard:preprocessor"),
    ((BODY, BODY + '\n        sy\\u0073tem("id");'), "guard:preprocessor"),
    ((BODY, BODY + '\n        int \u0455ystem = 1;'), "guard:text"),  # non-ASCII: refused before the C++ lexer sees it
    ((BODY, BODY + '\n        _Pragma("omp parallel") for (int i = 0; i < 1; ++i) {}'), "guard:pragma"),
    (("{\n    #pragma", '#pragma redefine_extname fake PyRun_SimpleStringFlags\n{\n    #pragma'), "guard:pragma"),
    (("{\n    #pragma", "#pragma GCC optimize(\"O0\")\n{\n    #pragma"), "guard:pragma"),
    (("{\n    #pragma", "#pragma pack(push, 1)\n{\n    #pragma"), "guard:pragma"),
    (("#pragma omp parallel for", "#pragma omp task"), "guard:pragma"),
    (("#pragma omp parallel for", "#pra\\\ngma omp task"), "guard:pragma"),
    (("#pragma omp parallel for", "%:pragma omp parallel for"), "guard:preprocessor"),
    ((BODY, BODY + "\n        int a<:1:> = <%0%>;"), "guard:preprocessor"),
    (("extern", 'extern "C" int PyRun_SimpleString(const char*);\nextern'), "guard:torch"),
    (("extern", 'extern "C" int omp_set_num_threads(int);\nextern'), "guard:symbol"),
    ((BODY, BODY + "\n        /* unterminated"), "guard:preprocessor"),
    ((BODY, BODY + "\n        void* ret = __builtin_return_address(0); (void)ret;"), "guard:system"),
    ((BODY, BODY + "\n        _writefsbase_u64(0);"), "guard:asm"),
    ((BODY, BODY + "\n        void* frame = __builtin_frame_address(1); (void)frame;"), "guard:system"),
])
def test_cpp_rules(edit, rule):
    old, new = edit
    assert old in CPP
    assert cpp_rule(CPP.replace(old, new, 1)) == rule


@pytest.mark.parametrize("line", [
    "#pragma omp for collapse(2)", "#pragma omp simd simdlen(8)",
    "#pragma omp for simd simdlen(16)", "#pragma omp single", "#pragma GCC ivdep", "#pragma GCC unroll 16",
    "#pragma unroll 8", "#pragma omp parallel for reduction(+:acc) schedule(static, 4)", "#pragma omp barrier",
])
def test_cpp_pragmas_inductor_writes_are_allowed(line):
    assert cpp_rule(CPP.replace("#pragma omp parallel for", line)) is None


# aikg's workspace (dsl/cpp_workspace.py) is compiled in front of every C++ candidate: a candidate uses
# aikg::Workspace, never names its functions nor adds to namespace aikg, and allocates nothing itself.
WORKSPACE_USE = "\n        aikg::Workspace<float> ws(16, true); ws.data()[0] = 1.0f;"


@pytest.mark.parametrize("edit, rule", [
    ((BODY, BODY + WORKSPACE_USE), None),
    ((BODY, BODY + WORKSPACE_USE.replace("aikg::", "")), None),  # with ``using namespace aikg;`` below
    (("extern", "static void* aikg_workspace_alloc(unsigned long long b, bool z) { return nullptr; }\nextern"),
     "guard:symbol"),
    ((BODY, BODY + "\n        void* p = aikg_workspace_alloc(64, false); (void)p;"), "guard:symbol"),
    ((BODY, BODY + "\n        auto f = &::AIKG_workspace_free; (void)f;"), "guard:symbol"),
    (("extern", "namespace aikg { template <> class Workspace<int> { }; }\nextern"), "guard:symbol"),
    (("extern", "namespace aikg::detail { int x; }\nextern"), "guard:symbol"),
    (("extern", "template <> class aikg::Workspace<int> { };\nextern"), "guard:symbol"),
    (("extern", "template <> aikg::Workspace<char>::~Workspace() { }\nextern"), "guard:symbol"),
    ((BODY, BODY + "\n        aikg::Workspace<std::pair<int, int>> ws(4); ws.aikg::Workspace<std::pair<int, int>>"
                   "::~Workspace();"), "guard:symbol"),
    ((BODY, BODY + "\n        aikg::Workspace<std::pair<int, int>> ws(4); (void)ws.data();"), None),
    # Built or ended by hand, a workspace can outlive the call (dsl/cpp_guards._LIFETIME_BY_HAND), under any alias.
    ((BODY, BODY + "\n        alignas(16) unsigned char raw[16]; auto* w = new (raw) aikg::Workspace<float>(16);"
                   " (void)w;"), "guard:static-state"),
    ((BODY, BODY + "\n        using W = aikg::Workspace<float>; alignas(W) unsigned char raw[sizeof(W)];"
                   " ::new(raw) W(16);"), "guard:static-state"),
    ((BODY, BODY + WORKSPACE_USE + " ws.~Workspace();"), "guard:static-state"),
    ((BODY, BODY + "\n        using W = aikg::Workspace<float>; W ws(16); W* p = &ws; p -> ~W();"),
     "guard:static-state"),
    ((BODY, BODY + "\n        using W = aikg::Workspace<float>; W ws(16); ws.W::~W();"), "guard:static-state"),
    ((BODY, BODY + WORKSPACE_USE + " std::destroy_at(&ws);"), "guard:static-state"),
    ((BODY, BODY + "\n        float* p = new float[16]; p[0] = ~int(1) & 1; delete[] p;"), None),
    # Spelled out, malloc passes the source guard: the object proof refuses it (tests/test_cpp_workspace.py).
    ((BODY, BODY + "\n        float* p = static_cast<float*>(malloc(64)); free(p);"), None),
])
def test_cpp_workspace_names_are_aikgs(edit, rule):
    old, new = edit
    source = CPP.replace(old, new, 1)
    if "ws(16" in new and "aikg::" not in new:
        source = source.replace("extern", "using namespace aikg;\nextern", 1)
    assert cpp_rule(source) == rule


def test_cpp_num_threads_is_allowed_up_to_the_baselines_own():
    threaded = CPP.replace("#pragma omp parallel for", "#pragma omp parallel for num_threads(4)")
    assert check_cpp(threaded, threaded) is None
    assert check_cpp(threaded, threaded.replace("num_threads(4)", "num_threads(2)")) is None
    assert check_cpp(threaded, threaded.replace("num_threads(4)", "num_threads(8)")).rule == "guard:pragma"
    assert cpp_rule(threaded) == "guard:pragma", "a baseline without the clause allows none"


def test_cpp_literals_with_quotes_and_separators_are_read_as_the_compiler_reads_them():
    tricky = ('        const char* s = R"(system("x") // */)"; char q = \'"\'; int n = 1\'000\'000;'
              ' const char* e = "\\"fopen\\""; (void)s; (void)q; (void)n; (void)e;'
              " if (__builtin_expect(n > 0, 1)) __builtin_prefetch(in_ptr0);")
    assert cpp_rule(CPP.replace(BODY, BODY + "\n" + tricky)) is None


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
    # The allowlist: module level, imports, names and attributes beyond what Inductor's modules contain.
    (("import triton\n", "import triton\nfrom triton.compiler.compiler import Path\n"), "guard:include"),
    (("import triton\n", "import triton\nimport inspect\n"), "guard:include"),
    (("import triton\n", "import triton\nfrom torch._inductor.runtime import triton_helpers as th\n"),
     "guard:include"),
    (("import triton\n", "import triton\nCOUNTER = [0]\n"), "guard:ast"),
    (("import triton\n", "import triton\nclass A:\n    pass\n"), "guard:ast"),
    (("@triton.jit", "@triton.jit\n@functools.cache"), "guard:ast"),
    (("filename=__file__", "filename=__import__('os').system('id')"), "guard:eval"),
    (("min_elem_per_thread=0", "min_elem_per_thread=len('ab')"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    f = tmp0.f_back.f_globals"), "guard:eval"),
    ((TRITON_BODY, TRITON_BODY + "\n    g = triton_helpers.pymath"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    g = tl.core"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    g = tl.inline_asm_elementwise('mov', '=r', [tmp0], tl.float32, True, 1)"),
     "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    m = tl\n    m.store(out_ptr0, tmp0)"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    f = lambda: 0"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    global tl"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    y = unknown_global"), "guard:ast"),
    ((TRITON_BODY, TRITON_BODY + "\n    y = getattr(tl, 'load')"), "guard:eval"),
    ((TRITON_BODY, TRITON_BODY + "\n    tl.load = None"), "guard:ast"),
    (("XBLOCK : tl.constexpr):", "XBLOCK : tl.constexpr = print('x')):"), "guard:ast"),
    (("@triton_heuristics.pointwise(", "@triton.jit\ndef set(x):\n    return x\n\n@triton_heuristics.pointwise("),
     "guard:ast"),
])
def test_triton_rules(edit, rule):
    old, new = edit
    assert old in TRITON
    assert triton_rule(TRITON.replace(old, new, 1)) == rule


# The tuner's form of the TRITON kernel: fixed_config with one configuration and the heuristic's metadata unchanged.
PINNED_HEAD = "@triton_heuristics.fixed_config(\n    config={'XBLOCK': 256, 'num_warps': 4, 'num_stages': 1},\n"
PINNED = TRITON.replace("@triton_heuristics.pointwise(\n    size_hints={'x': 1024},\n", PINNED_HEAD).replace(
    ",\n    min_elem_per_thread=0\n)", "\n)")
# Inductor's runtime exec()s inductor_meta's fixed-grid expressions on every launch: a literal that is code (review 20).
EXEC_GRID = "'grid_type': 'FixedGrid', 'fixed_grid': ['__import__(\"os\").getpid()', '1', '1'], "


@pytest.mark.parametrize("edit, rule", [
    ((None, None), None),
    (("'num_stages': 1}", "'num_stages': 1, 'R0_BLOCK': 8}"), "guard:ast"),  # not a parameter of the kernel
    (("'XBLOCK': 256", "'XBLOCK': 0"), "guard:ast"),
    (("'XBLOCK': 256", "'XBLOCK': 256.0"), "guard:ast"),
    (("config={", "configs={"), "guard:ast"),
    (("{'kernel_name'", "{" + EXEC_GRID + "'kernel_name'"), "guard:ast"),
    (("'mutated_arg_names': []", "'mutated_arg_names': ['in_ptr0']"), "guard:ast"),
    (("filename=__file__,", "filename=__file__,\n    size_hints={'x': 1024},"), "guard:ast"),
])
def test_fixed_config_keeps_the_baselines_metadata_and_pins_only_a_configuration(edit, rule):
    old, new = edit
    assert old is None or old in PINNED
    assert triton_rule(PINNED if old is None else PINNED.replace(old, new, 1)) == rule


@pytest.mark.parametrize("edit", [("{'kernel_name'", "{" + EXEC_GRID + "'kernel_name'"),
                                  ("size_hints={'x': 1024}", "size_hints={'x': 2048}"),
                                  ("min_elem_per_thread=0", "min_elem_per_thread=1")])
def test_the_baselines_heuristic_keeps_its_arguments(edit):
    assert triton_rule(TRITON.replace(*edit, 1)) == "guard:ast"


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x08", "\r", "\x00", "\x0b", "\x0c", "\x7f", "\x9b", "\u202e",
                                  "\u2066"])
def test_control_characters_are_refused_anywhere_in_every_dsl(char):
    """A terminal acts on them (ESC [2K erases the line it is printed on): the code before them on that line would
    not be seen by a reviewer (review 11). Comments too, which Triton's AST never sees."""
    cpp = CPP.replace(BODY, BODY + f" // {char}[2K")
    violation = check_cpp(CPP, cpp)
    assert violation is not None and violation.rule == "guard:text", violation
    assert f"line {CPP[:CPP.index(BODY)].count(chr(10)) + 1}, column {len(BODY) + 5}" in violation.message
    assert triton_rule(TRITON.replace(TRITON_BODY, TRITON_BODY + f"  # {char}[2K")) == "guard:text"
    assert triton_rule(TRITON.replace("xnumel = 1024", f"xnumel = 1024 + len('{char}')")) == "guard:text"


def test_tabs_and_windows_line_ends_are_not_control_characters():
    assert cpp_rule(CPP.replace("\n", "\r\n").replace("    ", "\t")) is None
    assert triton_rule(TRITON.replace("\n", "\r\n")) is None


def test_triton_language_calls_inductor_uses_are_allowed():
    body = ("\n    y = libdevice.exp(tmp1)\n    z = tl_math.exp(tmp1)\n    w = tl.math.exp(tmp1)"
            "\n    v = triton_helpers.minimum(tl.load(in_ptr0 + x0, xmask).to(tl.float32), float('-inf'))")
    assert triton_rule(PINNED.replace(TRITON_BODY, TRITON_BODY + body)) is None


def test_a_body_of_its_own_pins_one_launch_configuration():
    """Under the heuristic decorator a kernel autotunes at its first call in each process: the one configuration the
    runner judged need not be the one a user's process picks (review 21). Only the baseline itself may keep it."""
    assert triton_rule(TRITON) is None
    edited = TRITON_BODY.replace("tmp1", "tmp1 * 1.0", 1)
    assert triton_rule(TRITON.replace(TRITON_BODY, edited)) == "guard:signature"
    assert triton_rule(PINNED.replace(TRITON_BODY, edited)) is None


def test_real_inductor_triton_modules_and_tuner_configs_pass():
    """Every recorded GPU baseline (tests/fixtures/triton_tasks) and the tuner's fixed_config forms of it."""
    from conftest import REPO

    from aikg_inductor.search.proposers.tuner import coarse_grid, kernel_shape, with_fixed_config
    from aikg_inductor.task import KernelTask

    fixtures = sorted((REPO / "tests" / "fixtures" / "triton_tasks").glob("*.json"))
    assert len(fixtures) >= 5
    for path in fixtures:
        task = KernelTask.load(path)
        assert guards.check(task, task.source) is None, path.name
        shape = kernel_shape(task)
        for config in coarse_grid(shape)[:3]:
            assert guards.check(task, with_fixed_config(task, shape, config)) is None, (path.name, config)


# Run with TRITON_INTERPRET=1 in the checking process: prints, per recorded baseline, its guard verdict, then the
# verdict on a kernel calling a plain Python helper of triton_helpers, then the kind of triton_helpers.maximum.
_UNDER_THE_INTERPRETER = """
import sys
from pathlib import Path
from torch._inductor.runtime import triton_helpers
from aikg_inductor.task import KernelTask
from aikg_inductor.verify import guards
from test_verify_guards import TRITON, TRITON_BODY, triton_rule
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    task = KernelTask.load(path)
    print(path.name, guards.check(task, task.source))
print("helper", triton_rule(TRITON.replace(TRITON_BODY, TRITON_BODY + "\\n    triton_helpers.set_driver_to_cpu()")))
print("maximum", type(triton_helpers.maximum).__name__)
"""


def test_triton_guards_under_the_interpreter_allow_inductors_kernel_helpers_only():
    """With TRITON_INTERPRET=1 set where the guards run, ``@triton.jit`` makes InterpretedFunctions: Inductor's own
    kernels (calling ``triton_helpers.maximum``) still pass, a plain Python helper is still refused (review 11)."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _UNDER_THE_INTERPRETER, str(REPO / "tests" / "fixtures" /
                                                                             "triton_tasks")],
                          env=env, capture_output=True, text=True, timeout=600, check=True)
    *baselines, helper, maximum = done.stdout.splitlines()
    assert maximum == "maximum InterpretedFunction"
    assert len(baselines) >= 5 and all(line.endswith(" None") for line in baselines), baselines
    assert helper == "helper guard:ast"


def test_a_dsl_without_a_registered_adapter_is_refused_unchecked():
    import dataclasses

    from aikg_inductor.task import KernelTask
    from conftest import REPO

    task = KernelTask.load(sorted((REPO / "tests" / "fixtures" / "triton_tasks").glob("*.json"))[0])
    violation = guards.check(dataclasses.replace(task, dsl="cuda-cpp"), task.source)
    assert violation is not None and violation.rule == "guard:dsl" and "cuda-cpp" in violation.message


def test_report_round_trips_through_a_dict():
    report = VerificationReport(verdict="rejected", rule="mismatch", reason="r", task_key="k" * 64, dsl="cpp-cpu",
                                seeds=[1, 2], trials=["normal", "large"], baseline_s=[1e-5], candidate_s=[2e-5],
                                speedup=0.5, tolerances={"float32": [1e-5, 1e-5]})
    assert VerificationReport.from_dict(report.to_dict()) == report
    assert "REJECTED [mismatch]" in report.summary()
