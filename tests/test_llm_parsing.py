"""Pure parsing and validation of what the agents read and write: code blocks, signatures, sketches, workflows,
prompt templates. No LLM involved."""


import pytest

from aikg_inductor import KernelArg, KernelTask, TensorLayout
from aikg_inductor.agents.reply_parsing import CodeRejected, conform, extract_code
from aikg_inductor.agents.conductor import parse_choice
from aikg_inductor.agents.prompts import PromptError, continuation, render
from aikg_inductor.agents.sketch import SketchRejected, parse_sketch
from aikg_inductor.agents.workflow import STOP, WorkflowError, load_workflow
from aikg_inductor.dsl import adapter_for
from aikg_inductor.dsl.cpp_guards import ALLOWED_INCLUDE as CPP_PREFIX_INCLUDE

BASELINE = CPP_PREFIX_INCLUDE + """
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       const float* in_ptr1,
                       float* out_ptr0)
{
    for (int64_t i = 0; i < 8L; ++i) out_ptr0[i] = in_ptr0[i] + in_ptr1[i];
}"""

LAYOUT = TensorLayout((8,), (1,), "float32")
TASK = KernelTask(
    key="k" * 64, dsl="cpp-cpu", device_type="cpu", arch="avx2", torch_version="x", triton_version=None,
    source=BASELINE,
    args=(KernelArg("in_ptr0", "arg0_1", "in", LAYOUT, ctype="const float*"),
          KernelArg("in_ptr1", "arg1_1", "in", LAYOUT, ctype="const float*"),
          KernelArg("out_ptr0", "buf0", "out", LAYOUT, ctype="float*")),
    origins=("aten.add.Tensor",), name="fused_add",
)

GOOD = """extern "C" void my_kernel(const float *in_ptr0, const float* in_ptr1, float* out_ptr0) {
  for (int64_t i = 0; i < 8; ++i) out_ptr0[i] = in_ptr0[i] + in_ptr1[i];
}"""

TRITON = '''@triton_heuristics.pointwise(size_hints={'x': 8})
@triton.jit
def KERNEL_NAME(in_ptr0, out_ptr0, xnumel, XBLOCK : tl.constexpr):
    pass
'''


def test_signature_of_inductor_cpp_and_triton_kernels():
    sig = adapter_for("cpp-cpu").parse_signature(BASELINE)
    assert sig.name == "Placeholder.KERNEL_NAME"
    assert sig.params == (("const float*", "in_ptr0"), ("const float*", "in_ptr1"), ("float*", "out_ptr0"))
    tri = adapter_for("triton-cuda").parse_signature(TRITON)
    assert tri.name == "KERNEL_NAME" and [n for _, n in tri.params] == ["in_ptr0", "out_ptr0", "xnumel", "XBLOCK"]


def test_extract_code_from_fenced_bare_and_codeless_replies():
    fenced = f"Here you go:\n```cpp\n{GOOD}\n```\nThis is faster because..."
    assert extract_code(fenced, "cpp-cpu").startswith('extern "C"')
    assert extract_code(GOOD, "cpp-cpu").startswith('extern "C"')  # a base model may skip the fence
    # The block holding the entry point wins over an earlier unrelated one.
    two = f"```\nmake -j\n```\n```cpp\n{GOOD}\n```"
    assert "my_kernel" in extract_code(two, "cpp-cpu")
    with pytest.raises(CodeRejected, match="no code block"):
        extract_code("I think you should use vectors.", "cpp-cpu")
    with pytest.raises(CodeRejected, match="empty reply"):
        extract_code("  \n", "cpp-cpu")
    with pytest.raises(CodeRejected, match='extern "C"'):
        extract_code("```cpp\nint x = 1;\n```", "cpp-cpu")


def test_the_last_complete_block_of_the_right_language_wins_and_thinking_is_ignored():
    draft, final = GOOD.replace("my_kernel", "draft"), GOOD.replace("my_kernel", "final")
    # A reasoning model's draft inside <think> must not beat its answer, nor an earlier block a later one.
    reply = f"<think>\n```cpp\n{draft}\n```\n</think>\nFirst try:\n```cpp\n{draft}\n```\nBetter:\n```c++\n{final}\n```\n"
    assert "final" in extract_code(reply, "cpp-cpu")
    # A Python block is not C++, and an unclosed block (cut off) is no answer.
    assert "final" in extract_code(f"```cpp\n{final}\n```\n```python\ndef f(): pass\n```", "cpp-cpu")
    with pytest.raises(CodeRejected, match="no complete cpp code block"):
        extract_code(f"```cpp\n{final}", "cpp-cpu")
    with pytest.raises(CodeRejected, match="only reasoning"):
        extract_code(f"<think>```cpp\n{final}\n```</think>", "cpp-cpu")


def test_conform_repairs_name_and_include_but_rejects_another_signature():
    code, repairs = conform(GOOD, TASK)
    signature = adapter_for("cpp-cpu").parse_signature
    assert signature(code) == signature(BASELINE)
    assert code.startswith(CPP_PREFIX_INCLUDE) and len(repairs) == 2
    swapped = GOOD.replace("const float* in_ptr1, float* out_ptr0", "float* out_ptr0, const float* in_ptr1")
    with pytest.raises(CodeRejected, match="signature differs.*want \\(const float\\* in_ptr0"):
        conform(swapped, TASK)
    with pytest.raises(CodeRejected, match="signature differs"):
        conform(GOOD.replace("const float* in_ptr1", "const double* in_ptr1"), TASK)


def test_sketch_parsing_is_lenient_on_layout_and_strict_on_content():
    sketch = parse_sketch(
        "SKETCH v1\n- **Parallel**: rows over threads\n  static schedule\ntiling: 16 lanes\nLoop order: row, col\n"
        "memory plan: one pass\nvectorize: col, 16\nEND\ntrailing text"
    )
    assert sketch.fields["parallel"] == "rows over threads static schedule"
    assert sketch.fields["loop_order"] == "row, col" and sketch.fields["vectorise"] == "col, 16"
    assert sketch.text().startswith("SKETCH v1\n") and sketch.text().endswith("\nEND")
    with pytest.raises(SketchRejected, match="lacks memory"):
        parse_sketch("parallel: rows\ntiling: 16")
    with pytest.raises(SketchRejected, match="no sketch"):
        parse_sketch("The quick brown fox.")


def test_default_workflow_limits():
    flow = load_workflow()
    assert flow.start == "design" and flow.steps["fix"].agent == "coder" and flow.steps["fix"].mode == "fix"
    assert flow.allowed("code", "ok", {}, 1) == ["verify"]
    assert flow.allowed("code", "rejected", {}, 2) == ["fix", "design", STOP]
    assert flow.allowed("code", "rejected", {"fix": flow.repeats["fix"]}, 2) == ["design", STOP]
    assert flow.allowed("code", "rejected", {"fix": 9, "design": 9}, 2) == [STOP]
    assert flow.allowed("verify", "accepted", {}, flow.max_steps) == [STOP]


@pytest.mark.parametrize(
    "text, match",
    [
        ("start: design\nsteps: {design: {agent: designer, next: {ok: [nowhere]}}}", "unknown step"),
        ("start: design\nsteps: {design: {agent: designer, next: {ok: [stop]}}}", "needs a 'verify' step"),
        ("start: x\nsteps: {verify: {agent: verifier, next: {failed: [stop]}}}", "'start' must name a step"),
        ("steps: {design: {agent: poet, next: {ok: [stop]}}}", "needs 'agent'"),
        ("- not a mapping", "needs a 'steps' mapping"),
    ],
)
def test_bad_workflows_are_refused_with_the_reason(tmp_path, text, match):
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    with pytest.raises(WorkflowError, match=match):
        load_workflow(path)


def test_parse_choice_takes_the_answer_line_not_the_deliberation():
    assert parse_choice("I would FIX it, not design again", ["fix", "design", "stop"]) == "fix"
    assert parse_choice("Next step: design.", ["fix", "design", "stop"]) == "design"
    assert parse_choice("prefix fixes everything", ["fix", "stop"]) is None
    # A reasoning model weighs the options first: its thinking and earlier lines do not decide.
    assert parse_choice("<think>stop? no, fix</think>\nWe could fix it or stop.\ndesign", ["fix", "design", "stop"]) \
        == "design"


def test_prompt_templates_render_and_report_missing_values():
    text = render("conductor", dsl="cpp-cpu", name="k", lane=1, step="code", outcome="rejected", feedback="f",
                  history="h", choices="- fix: repair", names="fix, stop", steps_left=3, tokens_left="9")
    assert "Allowed next steps:\n- fix: repair" in text and "3 steps, 9 tokens" in text
    with pytest.raises(PromptError, match="conductor.md needs a value for 'name'"):
        render("conductor", dsl="x")


def test_completions_replies_get_their_prefill_and_closing_fence_back_chat_replies_stand_alone():
    assert continuation("```cpp\n", "int x;\n", "completions") == "```cpp\nint x;\n```\n"
    assert continuation("SKETCH v1\n", "parallel: rows", "completions") == "SKETCH v1\nparallel: rows"
    assert continuation("```cpp\n", "```cpp\nint x;\n```", "chat") == "```cpp\nint x;\n```"
