"""Doc packs: what the agents are told about a DSL, a device and its hardware, as markdown plus a manifest.

A pack is a directory ``<name>/manifest.yaml`` with its documents. Packs come from the built-in ``docs_packs/``
and from the directories of the ``docs_packs_dir`` option (``AIKG_DOCS_PACKS_DIR``); a pack found there with the same
DSL as a built-in one replaces it, so better docs need no code change. Which code runs a DSL is the registry's
(``dsl.adapter_for``): a pack's ``adapter`` must name the module the registry has for its DSL, and a pack for a DSL
the registry does not know is documentation only (no task of that DSL arises until an adapter is registered).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any, Iterable

from ..dsl import adapter_module
from ..options import YamlFileError, read_yaml_mapping
from ..task import KernelTask
from .llm_client import estimate_tokens

log = logging.getLogger(__name__)

REQUIRED = ("name", "device", "dsl", "adapter", "documents")
DOC_KINDS = ("basics", "api", "optimization", "hardware", "examples")
_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_WORD = re.compile(r"[a-z][a-z0-9_]+")


class DocPackError(ValueError):
    """A manifest that cannot be used; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class DocPack:
    name: str
    device: str
    dsl: str
    adapter: str  # import path of the DSL's adapter module: the registry's (``dsl.adapter_module``), when it has one
    root: Path
    documents: dict[str, Path]  # basics / api / optimization -> file
    hardware: dict[str, Path]  # architecture -> file ("default" matches any)
    examples: tuple[Path, ...]

    def hardware_doc(self, arch: str) -> Path | None:
        tokens = set(arch.lower().split())
        for key, path in self.hardware.items():
            if key.lower() in tokens or arch.lower().startswith(key.lower()):
                return path
        return self.hardware.get("default")

    def context(self, task: KernelTask, token_budget: int = 3000) -> str:
        """The pack's documents for ``task``, trimmed to ``token_budget`` by section relevance."""
        files = [self.documents[k] for k in ("basics", "api", "optimization") if k in self.documents]
        hardware = self.hardware_doc(task.arch)
        if hardware is not None:
            files.append(hardware)
        files.extend(self.examples)
        sections = [s for f in files for s in split_sections(f.read_text(), f.relative_to(self.root).as_posix())]
        return trim(sections, task_keywords(task), token_budget)


@dataclasses.dataclass(frozen=True)
class Section:
    source: str  # document path inside the pack
    order: int  # position in its document
    text: str


def split_sections(text: str, source: str) -> list[Section]:
    """``text`` cut at markdown headings; the text before the first heading is a section of its own."""
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    parts = [text[a:b].strip() for a, b in zip(bounds, bounds[1:])]
    return [Section(source, i, p) for i, p in enumerate(parts) if p]


def task_keywords(task: KernelTask) -> set[str]:
    """Words that make a doc section relevant: the fused ops, reduction or pointwise, dtypes, dynamic sizes."""
    words: set[str] = set()
    for origin in task.origins:
        op = origin.split(".")[1] if origin.count(".") >= 2 else origin
        words.update(_WORD.findall(op.lower()))
    words.update(_WORD.findall(task.name.lower().replace("fused_", "")))
    words.update(a.layout.dtype for a in task.tensor_args if a.layout)
    reduces = re.search(r"\b(sum|amax|amin|mean|var|reduce)", " ".join(task.origins))
    if reduces or any(a.param.startswith(("r0_", "rnumel")) for a in task.args):
        words.update({"reduction", "reduce"})
    else:
        words.add("pointwise")
    if task.dynamic:
        words.update({"dynamic", "ks0", "symbolic"})
    words.update(task.arch.lower().split())
    return words - {"default", "tensor", "scalar"}


def _score(section: Section, keywords: set[str]) -> float:
    found = set(_WORD.findall(section.text.lower()))
    return len(found & keywords) / (1 + estimate_tokens(section.text) / 400)


def trim(sections: list[Section], keywords: set[str], token_budget: int) -> str:
    """The most relevant sections that fit ``token_budget``, in document order.

    The first section of each document (its statement of purpose) ranks first; the rest rank by keyword overlap
    per length, so a long generic section loses to a short one about the task's ops.
    """
    ranked = sorted(
        sections, key=lambda s: (s.order != 0, -_score(s, keywords), s.source, s.order)
    )
    chosen, used = [], 0
    for section in ranked:
        cost = estimate_tokens(section.text)
        if used + cost > token_budget:
            continue
        chosen.append(section)
        used += cost
    chosen.sort(key=lambda s: (sections.index(s)))
    out, last_source = [], None
    for section in chosen:
        if section.source != last_source:
            out.append(f"<!-- {section.source} -->")
            last_source = section.source
        out.append(section.text)
    return "\n\n".join(out)


# ------------------------------------------------------------------------------------------ loading and discovery


def load_pack(directory: Path) -> DocPack:
    """Read and validate ``directory/manifest.yaml``; raises DocPackError naming the problem."""
    manifest = Path(directory) / "manifest.yaml"
    try:
        data = read_yaml_mapping(manifest)
    except YamlFileError as err:
        raise DocPackError(f"{err} (a manifest has keys {', '.join(REQUIRED)})") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise DocPackError(f"{manifest}: missing key(s) {', '.join(missing)}")
    for key in ("name", "device", "dsl", "adapter"):
        if not isinstance(data[key], str) or not data[key]:
            raise DocPackError(f"{manifest}: {key!r} must be a non-empty string")
    registered = adapter_module(data["dsl"])
    if registered is not None and data["adapter"] != registered:
        raise DocPackError(f"{manifest}: adapter {data['adapter']!r} is not the registry's adapter for DSL "
                           f"{data['dsl']!r} ({registered})")
    docs = data["documents"]
    if not isinstance(docs, dict):
        raise DocPackError(f"{manifest}: 'documents' must map kinds ({', '.join(DOC_KINDS)}) to files")
    unknown = sorted(set(docs) - set(DOC_KINDS))
    if unknown:
        raise DocPackError(f"{manifest}: unknown document kind(s) {', '.join(unknown)}; known: {', '.join(DOC_KINDS)}")
    if "basics" not in docs:
        raise DocPackError(f"{manifest}: 'documents' needs at least 'basics'")
    root = Path(directory).resolve()  # documents are resolved too (symlinked packs), so relative paths work
    documents = {
        k: _file(root, manifest, f"documents.{k}", docs[k]) for k in ("basics", "api", "optimization") if k in docs
    }
    hardware_raw = docs.get("hardware", {})
    if not isinstance(hardware_raw, dict):
        raise DocPackError(f"{manifest}: 'documents.hardware' must map architectures to files")
    hardware = {str(arch): _file(root, manifest, f"documents.hardware.{arch}", p) for arch, p in hardware_raw.items()}
    examples_raw = docs.get("examples", [])
    if not isinstance(examples_raw, list):
        raise DocPackError(f"{manifest}: 'documents.examples' must be a list of files")
    examples = tuple(_file(root, manifest, "documents.examples", p) for p in examples_raw)
    return DocPack(data["name"], data["device"], data["dsl"], data["adapter"], root, documents, hardware, examples)


def _file(root: Path, manifest: Path, key: str, value: Any) -> Path:
    if not isinstance(value, str):
        raise DocPackError(f"{manifest}: {key!r} must be a file path relative to the pack")
    path = (root / value).resolve()
    if root.resolve() not in path.parents:
        raise DocPackError(f"{manifest}: {key!r} points outside the pack: {value}")
    if not path.is_file():
        raise DocPackError(f"{manifest}: {key!r} names a missing file: {value}")
    return path


def builtin_dir() -> Path:
    """The built-in packs: ``aikg_inductor/docs_packs``, a symlink to the repository's top-level ``docs_packs/`` in a
    checkout and a copy of it in a wheel (package data)."""
    return Path(__file__).resolve().parents[1] / "docs_packs"


def search_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Where packs are looked for: the built-in ones, then ``extra`` (the ``docs_packs_dir`` option), later winning."""
    return [builtin_dir(), *extra]


def discover(dirs: Iterable[Path] | None = None) -> dict[str, DocPack]:
    """Packs by DSL in ``dirs`` (default: the built-in ones); later directories win. A broken pack is logged and
    skipped, never fatal."""
    packs: dict[str, DocPack] = {}
    for base in search_dirs() if dirs is None else dirs:
        if not base.is_dir():
            log.warning("aikg: doc pack directory %s does not exist", base)
            continue
        for manifest in sorted(base.glob("*/manifest.yaml")):
            try:
                pack = load_pack(manifest.parent)
            except DocPackError as err:
                log.warning("aikg: doc pack skipped: %s", err)
                continue
            packs[pack.dsl] = pack
    return packs


def pack_for(dsl: str, dirs: Iterable[Path] | None = None) -> DocPack | None:
    return discover(dirs).get(dsl)
