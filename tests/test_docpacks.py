"""Doc packs: the built-in ones validate, broken manifests are refused with the reason, a pack dropped into
AIKG_DOCS_PACKS_DIR is found with no code change, and long documents are trimmed by relevance."""

import importlib

import pytest
import yaml

from aikg_inductor.agents.docpacks import (
    DocPackError,
    discover,
    load_pack,
    pack_for,
    search_dirs,
    split_sections,
    task_keywords,
    trim,
)
from aikg_inductor.agents.llm_client import estimate_tokens
from aikg_inductor.dsl import adapter_for, adapter_module
from aikg_inductor.options import resolve_options
from test_llm_parsing import TASK


def write_pack(root, name="my-dsl", manifest=None, files=None):
    pack = root / name
    pack.mkdir(parents=True)
    files = {"basics.md": f"# {name} basics\nUnique marker {name}-basics.\n"} if files is None else files
    for rel, text in files.items():
        (pack / rel).parent.mkdir(parents=True, exist_ok=True)
        (pack / rel).write_text(text)
    manifest = manifest or {
        "name": name, "device": "cpu", "dsl": name, "adapter": "x.y", "documents": {"basics": "basics.md"}
    }
    (pack / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return pack


def test_builtin_packs_are_valid_and_name_their_adapters():
    packs = discover()
    assert {"cpp-cpu", "triton-cuda", "triton-ascend"} <= set(packs)
    for dsl in ("cpp-cpu", "triton-cuda", "triton-ascend"):
        assert packs[dsl].adapter == adapter_module(dsl)
    for dsl in ("cpp-cpu", "triton-cuda"):
        importlib.import_module(packs[dsl].adapter)
    assert packs["cpp-cpu"].hardware_doc("avx512 avx512_vnni").name == "x86_avx512.md"
    assert packs["cpp-cpu"].hardware_doc("sse4").name == "x86_avx2.md"  # the default
    assert packs["triton-cuda"].hardware_doc("sm90").name == "h100_sm90.md"


def test_ascend_adapter_says_what_it_needs():
    with pytest.raises(ImportError, match="torch_npu"):
        adapter_for("triton-ascend")


@pytest.mark.parametrize(
    "manifest, files, match",
    [
        ({"name": "p", "device": "cpu", "dsl": "p", "documents": {"basics": "basics.md"}}, None,
         "missing key.*adapter"),
        ({"name": "p", "device": "cpu", "dsl": "p", "adapter": "a", "documents": {"basics": "gone.md"}}, None,
         "missing file: gone.md"),
        ({"name": "p", "device": "cpu", "dsl": "p", "adapter": "a", "documents": {"basics": "../../etc/passwd"}}, None,
         "outside the pack"),
        ({"name": "p", "device": "cpu", "dsl": "p", "adapter": "a", "documents": {"basics": "basics.md", "poems": "x"}},
         None, "unknown document kind.*poems"),
        ({"name": "p", "device": "cpu", "dsl": "p", "adapter": "a", "documents": {"api": "basics.md"}}, None,
         "at least 'basics'"),
        ({"name": "", "device": "cpu", "dsl": "p", "adapter": "a", "documents": {"basics": "basics.md"}}, None,
         "'name' must be a non-empty string"),
        ({"name": "p", "device": "cpu", "dsl": "cpp-cpu", "adapter": "my.cpp", "documents": {"basics": "basics.md"}},
         None, "'my.cpp' is not the registry's adapter for DSL 'cpp-cpu' \\(aikg_inductor.dsl.cpp_cpu\\)"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(tmp_path, manifest, files, match):
    pack = write_pack(tmp_path, "p", manifest, files)
    with pytest.raises(DocPackError, match=match):
        load_pack(pack)


def test_unparsable_manifest(tmp_path):
    pack = write_pack(tmp_path, "p")
    (pack / "manifest.yaml").write_text("name: [unclosed")
    with pytest.raises(DocPackError, match="not valid YAML"):
        load_pack(pack)


def test_pack_dropped_in_env_dir_is_discovered_and_overrides(tmp_path, monkeypatch, caplog):
    write_pack(tmp_path, "my-dsl")
    write_pack(tmp_path, "cpp-cpu", {"name": "cpp-cpu-local", "device": "cpu", "dsl": "cpp-cpu",
                                     "adapter": "aikg_inductor.dsl.cpp_cpu", "documents": {"basics": "basics.md"}})
    broken = write_pack(tmp_path, "broken")
    (broken / "manifest.yaml").write_text("{}")
    monkeypatch.setenv("AIKG_DOCS_PACKS_DIR", str(tmp_path))
    dirs = search_dirs(resolve_options({}).docs_packs_dir)
    packs = discover(dirs)
    assert packs["my-dsl"].root == (tmp_path / "my-dsl").resolve()
    assert packs["cpp-cpu"].name == "cpp-cpu-local"  # the user's pack replaces the built-in one
    assert "triton-cuda" in packs
    assert "doc pack skipped" in caplog.text and "broken" in caplog.text
    assert "cpp-cpu-basics" in pack_for("cpp-cpu", dirs).context(TASK)
    assert pack_for("cpp-cpu").name != "cpp-cpu-local"  # with no directories given, only the built-in packs


def test_trimming_keeps_relevant_sections_within_budget():
    doc = "# Intro\nAbout kernels.\n" + "".join(
        f"## Topic {i}\n" + ("generic filler words about caches and compilers. " * 40) + "\n" for i in range(10)
    ) + "## Add kernels\nThe add op: vectorise the add, fuse it, write once.\n"
    sections = split_sections(doc, "doc.md")
    assert len(sections) == 12 and sections[0].text.startswith("# Intro")
    text = trim(sections, task_keywords(TASK), token_budget=200)
    assert estimate_tokens(text) <= 220  # budget plus the source markers
    assert "# Intro" in text and "## Add kernels" in text and "Topic 3" not in text
    assert text.index("# Intro") < text.index("## Add kernels")  # document order kept


def test_task_context_fits_budget_and_picks_hardware_doc():
    pack = discover()["cpp-cpu"]
    text = pack.context(TASK, token_budget=800)
    assert estimate_tokens(text) <= 900
    assert "cpp_prefix.h" in text  # the basics' statement of purpose ranks first
    assert "x86_avx2.md" in text or "AVX2" in text
