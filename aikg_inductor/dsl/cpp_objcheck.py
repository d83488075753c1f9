"""The static proof on a compiled C++ kernel: what its object file can reach and what it keeps.

A verified kernel later runs unsandboxed in the user's process, so what it may do is decided here by allowlist,
on the object the compiler produced (the kernel source alone at Inductor's flags,
``torch_internals.kernels.build_cpp_kernel``)
rather than on source text that macros, splices and pragmas can disguise:

- ``guard:symbol``        every undefined symbol is on ``ALLOWED_UNDEFINED`` (math, the vector library, the OpenMP
                          calls a parallel loop compiles to, memory copies, and the C++ runtime pieces Inductor's own
                          header needs for its error path); the load-time-only symbols are referenced by load-time
                          code alone; the only strong global definition is the entry point ``kernel``
- ``guard:load-time-code`` constructors, destructors and ifunc resolvers: the load-time sections and the code they
                          run must be exactly a reference compilation's (Inductor's header registers one iostream
                          initialiser in every kernel); no executable stack
- ``guard:static-state``  writable or thread-local data only in objects a reference compilation has (the header's
                          own), nothing the candidate declares: a kernel is a function of its arguments; the heap
                          and the C++ runtime that allocates from it (strings, streams, exceptions) only on the way
                          to a throw (the scratch Inductor's code allocates is served by ``cpp_workspace``), and
                          memory mappings only from aikg's workspace functions with exactly the code a reference
                          compile of the workspace gives them

References are objects of Inductor's own code compiled the same way (through ``cpp_workspace.with_workspace``): the
task's baseline kernel and a kernel that is nothing but the header. The allowlist was derived from Inductor's
baselines (softmax, layer norm, var_mean, sums, argmax, cross-entropy, GELU, bf16/fp16/int/fp64 pointwise, pooling,
cumsum, scatter/index_put, topk, random; with and without OpenMP); each entry says why it is there.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Any, Iterable, Sequence

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from .violations import GuardViolation

ENTRY_POINT = "kernel"

# C99/C++ <cmath> functions (double, float and long double forms): pure functions of their arguments. lgamma writes
# the global signgam as a side channel of its sign, which nothing reads; Inductor's lgamma calls it.
_LIBM = (
    "sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp exp2 exp10 expm1 log log2 log10 log1p "
    "pow sqrt cbrt hypot erf erfc erfinv lgamma tgamma ceil floor trunc round lround llround rint lrint llrint "
    "nearbyint fmod remainder remquo fma fmax fmin fdim frexp ldexp modf scalbn scalbln ilogb logb nextafter "
    "nexttoward copysign sincos significand"
).split()
_LIBM_RE = re.compile(r"^(?:__)?(?:" + "|".join(_LIBM) + r")[fl]?(?:_finite)?$")

_ALLOWED_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_LIBM_RE, "libm: the scalar math Inductor's kernels call (std::exp, std::erf, ...)"),
    (re.compile(r"^Sleef_\w+$"), "Sleef: the vector math library ATen's Vectorized<T> calls (exp, log, tanh, ...)"),
    (re.compile(r"^GOMP_(?:parallel|barrier|single_start|single_copy_start|single_copy_end|critical_start"
                r"|critical_end|critical_name_start|critical_name_end|atomic_start|atomic_end|loop_(?:ull_)?"
                r"(?:static|dynamic|guided|runtime|nonmonotonic_\w+|maybe_nonmonotonic_runtime)?_?"
                r"(?:start|next|end|end_nowait|end_cancel))$"),
     ("libgomp: the calls `#pragma omp parallel/for/single/barrier/critical/atomic` compile to (no task, no "
      "target, no setters)")),
)

ALLOWED_UNDEFINED: dict[str, str] = {
    "omp_get_thread_num": "OpenMP: Inductor's parallel kernels index per-thread buffers by thread",
    "omp_get_num_threads": "OpenMP: Inductor's parallel kernels size per-thread buffers",
    "omp_get_max_threads": "OpenMP: the thread count a kernel may size its work by (read-only)",
    "memcpy": "copies: the compiler emits them for struct and array copies",
    "memmove": "copies: std::copy and vector growth in the header",
    "memset": "zeroing: the compiler emits it for value-initialised arrays",
    "memcmp": "comparisons the compiler may emit for std::equal",
    "strlen": "TORCH_CHECK's message formatting (c10::str) in the header's error path",
    "_GLOBAL_OFFSET_TABLE_": "position-independent code's own GOT, defined by the linker",
    # The header's TORCH_CHECK throws c10 errors formatted through an ostringstream: exception and stream plumbing.
    "__cxa_allocate_exception": "C++ exceptions (TORCH_CHECK)", "__cxa_free_exception": "C++ exceptions",
    "__cxa_throw": "C++ exceptions", "__cxa_begin_catch": "C++ exceptions", "__cxa_end_catch": "C++ exceptions",
    "__cxa_rethrow": "C++ exceptions", "_Unwind_Resume": "C++ exceptions: unwinding through the kernel",
    "__gxx_personality_v0": "C++ exceptions: the unwinder's personality routine",
    "_ZSt9terminatev": "std::terminate: an exception escaping a noexcept region (dynamic-shape Welford kernels)",
    "__cxa_throw_bad_array_new_length": "new[] with a run-time size (dynamic-shape scratch buffers)",
    "__cxa_call_terminate": "C++ exceptions: noexcept violations",
    "_ZNSt13runtime_errorC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE": "std::runtime_error(string)",
    "_ZNSt13runtime_errorC1EPKc": "std::runtime_error(const char*)",
    "_ZNSt13runtime_errorD1Ev": "~runtime_error", "_ZNSt13runtime_errorD2Ev": "~runtime_error",
    "_ZTISt13runtime_error": "typeinfo for std::runtime_error",
    "_ZNSolsEi": "ostream << int (error messages)",
    "_ZNSolsEl": "ostream << long (error messages)", "_ZNSolsEm": "ostream << unsigned long (error messages)",
    "_ZNSo9_M_insertIlEERSoT_": "ostream << long (error messages)",
    "_ZNSo9_M_insertImEERSoT_": "ostream << unsigned long (error messages)",
    "_ZNSo9_M_insertIdEERSoT_": "ostream << double (error messages)",
    "_ZSt16__ostream_insertIcSt11char_traitsIcEERSt13basic_ostreamIT_T0_ES6_PKS3_l": "ostream << string",
    "_ZNSt6localeC1Ev": "the ostringstream's locale", "_ZNSt6localeD1Ev": "the ostringstream's locale",
    "_ZNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEED1Ev": "~ostringstream",
    "_ZNSt8ios_baseC2Ev": "ostringstream's ios_base", "_ZNSt8ios_baseD2Ev": "ostringstream's ios_base",
    "_ZNSt9basic_iosIcSt11char_traitsIcEE4initEPSt15basic_streambufIcS1_E": "ostringstream setup",
    "_ZNSt9basic_iosIcSt11char_traitsIcEE5clearESt12_Ios_Iostate": "ostringstream state",
    "_ZTTNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEEE": "VTT for ostringstream",
    "_ZTVNSt7__cxx1115basic_stringbufIcSt11char_traitsIcESaIcEEE": "vtable for stringbuf",
    "_ZTVNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEEE": "vtable for ostringstream",
    "_ZTVSt15basic_streambufIcSt11char_traitsIcEE": "vtable for streambuf",
    "_ZTVSt9basic_iosIcSt11char_traitsIcEE": "vtable for basic_ios",
    "_ZNKSt7__cxx1115basic_stringbufIcSt11char_traitsIcESaIcEE3strEv": "ostringstream::str()",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_createERmm": "std::string growth",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_appendEPKcm": "std::string append",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_replaceEmmPKcm": "std::string replace",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_disposeEv": "std::string release",
    "_ZSt17__throw_bad_allocv": "std::__throw_bad_alloc (allocation failure)",
    "_ZSt20__throw_length_errorPKc": "std::__throw_length_error (container growth)",
    "_ZSt24__throw_out_of_range_fmtPKcz": "std::__throw_out_of_range_fmt (checked access)",
    "_ZSt19__throw_logic_errorPKc": "std::__throw_logic_error (string from null)",
    "_ZSt28__throw_bad_array_new_lengthv": "std::__throw_bad_array_new_length (new[] size)",
    "__stack_chk_fail": "stack protector's failure path, where the compiler adds one",
    # Thread-safe initialisation of function-local statics: Inductor's Welford reductions keep a
    # ``static WelfordHelper`` in the kernel body; the objects themselves are checked as static state.
    "__cxa_guard_acquire": "static local initialisation (Inductor's WelfordHelper)",
    "__cxa_guard_release": "static local initialisation (Inductor's WelfordHelper)",
    "__cxa_guard_abort": "static local initialisation that throws",
}

# Referenced only by the load-time code a reference compilation has (the header's iostream initialiser): from a
# kernel's own code they would register code to run at exit.
LOAD_TIME_ONLY: dict[str, str] = {
    "__cxa_atexit": "registers the iostream initialiser's destructor",
    "__dso_handle": "the library's handle for __cxa_atexit",
    "_ZNSt8ios_base4InitC1Ev": "std::ios_base::Init(), the header's <iostream> initialiser",
    "_ZNSt8ios_base4InitD1Ev": "~ios_base::Init, registered at load",
}

# The memory behind aikg's workspace (``cpp_workspace``): called only from the workspace's own two functions, as a
# reference compile of the workspace alone compiles them (a mapping of its own between guard pages, filled whole on
# every call, unmapped at release).
WORKSPACE_ONLY: dict[str, str] = {
    "mmap": "the workspace's mapping (guard pages and usable pages)",
    "mprotect": "the workspace's usable pages opened between its guard pages",
    "munmap": "the workspace's release (and an allocation that could not open its pages)",
}

_LOAD_TIME_PREFIXES = (".init_array", ".fini_array", ".preinit_array", ".ctors", ".dtors", ".init", ".fini")
_LOAD_TIME_CODE = (".text.startup", ".text.exit")
# Read-only once the dynamic linker has relocated them (GNU_RELRO): vtables, typeinfo, jump tables.
_RELRO_PREFIX = ".data.rel.ro"
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR, _SHF_TLS = 0x1, 0x2, 0x4, 0x400


# Heap allocation and release: a block kept past the call is state between calls, and so is the allocator's free
# memory around a block it hands out (review 14 walked glibc's chunk headers from Inductor's own make_unique row to
# the top chunk and kept a memo there). ``cpp_workspace.with_workspace`` serves the scratch Inductor's code
# allocates from the stack or a workspace mapping, in the verifier and in the user's process alike, so the heap is
# left to TORCH_CHECK's error path. Every operator new and delete (plain, array, sized, aligned, nothrow) and C's
# allocator.
_OPERATOR_NEW_OR_DELETE = re.compile(r"^_Z(?:n[wa]|d[la])")
_C_ALLOCATOR = frozenset({"malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc", "posix_memalign",
                          "memalign", "valloc", "pvalloc", "malloc_usable_size"})


def heap_function(name: str) -> bool:
    return name in _C_ALLOCATOR or bool(_OPERATOR_NEW_OR_DELETE.match(name))


# The C++ runtime behind TORCH_CHECK's error path (on ``ALLOWED_UNDEFINED``): each hands out heap memory (an
# exception object, a string's buffer, a stream's) or exists to build, throw or catch the error. Like the heap
# functions, called only on the way to a throw (``_check_throw_path``): a message built on the hot path is a heap
# block to walk the allocator's chunks from (review 15: c10::str's message behind a branch GCC thought unlikely),
# and a catch that goes on to return would make any throw path a hot one.
THROW_PATH_ONLY = frozenset({
    "__cxa_allocate_exception", "__cxa_free_exception", "__cxa_begin_catch", "__cxa_end_catch",
    "_ZNSt13runtime_errorC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE", "_ZNSt13runtime_errorC1EPKc",
    "_ZNSt13runtime_errorD1Ev", "_ZNSt13runtime_errorD2Ev",
    "_ZNSolsEi", "_ZNSolsEl", "_ZNSolsEm", "_ZNSo9_M_insertIlEERSoT_", "_ZNSo9_M_insertImEERSoT_",
    "_ZNSo9_M_insertIdEERSoT_", "_ZSt16__ostream_insertIcSt11char_traitsIcEERSt13basic_ostreamIT_T0_ES6_PKS3_l",
    "_ZNSt6localeC1Ev", "_ZNSt6localeD1Ev", "_ZNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEED1Ev",
    "_ZNSt8ios_baseC2Ev", "_ZNSt8ios_baseD2Ev", "_ZNSt9basic_iosIcSt11char_traitsIcEE4initEPSt15basic_streambufIcS1_E",
    "_ZNSt9basic_iosIcSt11char_traitsIcEE5clearESt12_Ios_Iostate",
    "_ZNKSt7__cxx1115basic_stringbufIcSt11char_traitsIcESaIcEE3strEv",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_createERmm",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_appendEPKcm",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_replaceEmmPKcm",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_disposeEv",
})

# Calls that do not come back: a throw, the unwinder resuming one, termination. Code from which every path reaches
# one of these (or a trap) before any return is on the way to a throw.
NO_RETURN = frozenset({
    "__cxa_throw", "__cxa_rethrow", "_Unwind_Resume", "_ZSt9terminatev", "__cxa_call_terminate",
    "__cxa_throw_bad_array_new_length", "__stack_chk_fail", "_ZSt17__throw_bad_allocv", "_ZSt20__throw_length_errorPKc",
    "_ZSt24__throw_out_of_range_fmtPKcz", "_ZSt19__throw_logic_errorPKc", "_ZSt28__throw_bad_array_new_lengthv",
})


def throw_path_only(name: str) -> bool:
    return heap_function(name) or name in THROW_PATH_ONLY


# Instructions no kernel computes with: system calls and interrupts, port I/O, clocks, performance counters and
# hardware random numbers (the means to tell a timing loop from a checked call), segment bases and extended-state
# restores. The source checks refuse their spellings; this finds them however the source hid them.
FORBIDDEN_INSTRUCTIONS = frozenset({
    "syscall", "sysenter", "sysexit", "sysret", "int", "int1", "int3", "into", "in", "out", "insb", "insw", "insd",
    "outsb", "outsw", "outsd", "rdtsc", "rdtscp", "rdpid", "rdpmc", "rdrand", "rdseed", "rdfsbase", "rdgsbase",
    "wrfsbase", "wrgsbase", "xsetbv", "xrstor", "xrstor64", "xrstors", "xrstors64", "fxrstor", "fxrstor64",
    "wrpkru", "hlt", "umonitor", "umwait", "tpause", "enqcmd", "enqcmds", "senduipi", "uiret", "clui", "stui",
    "xbegin", "xend", "xabort",
    # The floating-point control state (rounding, flush-to-zero, exception masks) belongs to the caller: a kernel
    # that sets it leaves torch's arithmetic changed after it returns (seen in review: flush-to-zero left on).
    "ldmxcsr", "vldmxcsr", "fldcw", "fldenv", "frstor", "fnsave", "fsave", "fxsave", "fxsave64", "xsave", "xsave64",
    "xsaveopt", "xsaveopt64", "xsavec", "xsavec64", "xsaves", "xsaves64",
})


def undefined_allowed(name: str) -> bool:
    return name in ALLOWED_UNDEFINED or any(pattern.match(name) for pattern, _ in _ALLOWED_PATTERNS)


@dataclasses.dataclass(frozen=True)
class ObjectFacts:
    """What the proof reads from one object file."""

    undefined: frozenset[str]
    # Strong global definitions (what another library could bind to), weak ones (inline functions, templates),
    # and GNU-unique ones.
    exported: frozenset[str]
    weak: frozenset[str]
    unique: frozenset[str]
    ifuncs: frozenset[str]
    # Section name -> its bytes and relocations (offset, type, target, addend), for load-time sections and the code
    # they point at; targets named by symbol, or by section for section symbols.
    load_time: tuple[tuple[str, bytes, tuple[tuple[int, int, str, int], ...]], ...]
    # Writable or thread-local sections: name -> (size, the named symbols in it as (name, offset, size)).
    writable: dict[str, tuple[int, tuple[tuple[str, int, int], ...]]]
    # Symbols referenced by relocations outside the load-time code.
    referenced_outside_load_time: frozenset[str]
    executable_stack: bool
    # Executable sections by name: what their disassembly shows.
    code: dict[str, SectionCode]
    # Functions on a cycle of calls (or of taken addresses) among the object's own functions: recursion, whose stack
    # no frame bound limits.
    recursive: frozenset[str]
    # (the function whose code refers to it, or None outside any function; symbol) for every reference of a
    # WORKSPACE_ONLY symbol.
    allocator_uses: frozenset[tuple[str | None, str]]
    # (the function whose code refers to it, or None outside any function; what it refers to; whether the referring
    # instruction is on the way to a throw, every path from it reaching a NO_RETURN call before any return) for
    # every reference of a heap or THROW_PATH_ONLY symbol, and every call, jump or taken address of one of the
    # object's own functions.
    throw_path_uses: frozenset[tuple[str | None, str, bool]]
    # The functions each alone in a section of its own (a template or inline function's comdat section) that only
    # direct calls and jumps enter, as function -> every (caller, whether the call is on the way to a throw). A
    # function whose address is taken or written in data is not among them, and none is where code runs off a
    # section's end (the linker places sections end to end) or branches through a register: something the proof
    # cannot see may enter it.
    entered_only_by_calls: dict[str, frozenset[tuple[str | None, bool]]]
    # Every function's code as it is defined (a name defined twice has two): its bytes, and its relocations as
    # (offset from the function's start, type, target, addend).
    functions: dict[str, tuple[tuple[bytes, tuple[tuple[int, int, str, int], ...]], ...]]


@dataclasses.dataclass
class _SymbolTable:
    """The symbol table sorted by what the proof asks of it."""

    undefined: set[str] = dataclasses.field(default_factory=set)
    exported: set[str] = dataclasses.field(default_factory=set)  # strong global definitions
    weak: set[str] = dataclasses.field(default_factory=set)
    unique: set[str] = dataclasses.field(default_factory=set)
    ifuncs: set[str] = dataclasses.field(default_factory=set)
    # Section index (-1: common symbols) -> the data objects in it, as (name, offset, size).
    named_in: dict[int, list[tuple[str, int, int]]] = dataclasses.field(default_factory=dict)
    # Section index -> its functions, as (start, end, name).
    functions: dict[int, list[tuple[int, int, str]]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, symbols: list[Any]) -> _SymbolTable:
        table = cls()
        for sym in symbols:
            bind, kind, index = sym["st_info"]["bind"], sym["st_info"]["type"], sym["st_shndx"]
            if kind == "STT_FUNC" and isinstance(index, int):
                table.functions.setdefault(index, []).append(
                    (sym["st_value"], sym["st_value"] + sym["st_size"], sym.name))
            if kind in ("STT_GNU_IFUNC", "STT_LOOS"):
                table.ifuncs.add(sym.name)
            if index == "SHN_UNDEF":
                if sym.name:
                    table.undefined.add(sym.name)
                continue
            if index == "SHN_COMMON":
                table.named_in.setdefault(-1, []).append((sym.name, 0, sym["st_size"]))
                continue
            if isinstance(index, int) and kind in ("STT_OBJECT", "STT_TLS", "STT_NOTYPE") and sym.name:
                table.named_in.setdefault(index, []).append((sym.name, sym["st_value"], sym["st_size"]))
            if bind == "STB_GLOBAL":
                table.exported.add(sym.name)
            elif bind == "STB_WEAK":
                table.weak.add(sym.name)
            elif bind in ("STB_LOOS", "STB_GNU_UNIQUE"):
                table.unique.add(sym.name)
        return table


def read_object(path: str) -> ObjectFacts:
    with open(path, "rb") as handle:
        elf = ELFFile(handle)
        sections = list(elf.iter_sections())
        symtab = elf.get_section_by_name(".symtab")
        symbols = list(symtab.iter_symbols()) if symtab is not None else []
        table = _SymbolTable.of(symbols)
        named_in, functions = table.named_in, table.functions

        def target(sym_index: int, addend: int) -> tuple[str, int]:
            """A relocation's target as (symbol, offset from it): data reached through its section's symbol
            (``.bss + 196``) is named by the object there, so two layouts of the same objects compare equal."""
            sym = symbols[sym_index]
            if sym["st_info"]["type"] != "STT_SECTION":
                return sym.name, addend
            index = sym["st_shndx"]
            # PC-relative references carry the instruction's distance to its end (-4 .. -8) in the addend.
            near = [(value, name) for name, value, _ in named_in.get(index, []) if value <= addend + 8]
            if not near:
                return sections[index].name, addend
            value, name = max(near)
            return name, addend - value

        relocations: dict[int, list[tuple[int, int, str, int]]] = {}
        for section in sections:
            if isinstance(section, RelocationSection) and section["sh_info"]:
                relocations[section["sh_info"]] = [
                    (r["r_offset"], r["r_info_type"], *target(r["r_info_sym"], r["r_addend"] if r.is_RELA() else 0))
                    for r in section.iter_relocations()
                ]
        load_time, writable, outside, allocator_uses = [], {}, set(), set()
        code, recursive, own_calls, dead_ends, entered = _disassembled(sections, symbols, functions)
        throw_path_uses = set(own_calls)
        stack_note = None
        for index, section in enumerate(sections):
            name, flags = section.name, section["sh_flags"]
            if name == ".note.GNU-stack":
                stack_note = section
            if name.startswith(_LOAD_TIME_PREFIXES) or name in _LOAD_TIME_CODE:
                data = b"" if section["sh_type"] == "SHT_NOBITS" else section.data()
                load_time.append((name, data, tuple(relocations.get(index, ()))))
            else:
                outside.update(t for _, _, t, _ in relocations.get(index, ()))
            throw_path_uses.update((_function_at(functions, index, offset, aliases=True), t,
                                    _on_throw_path(dead_ends, index, offset))
                                   for offset, _, t, _ in relocations.get(index, ()) if throw_path_only(t))
            allocator_uses.update((_function_at(functions, index, offset), t)
                                  for offset, _, t, _ in relocations.get(index, ()) if t in WORKSPACE_ONLY)
            if flags & (_SHF_WRITE | _SHF_TLS) and section["sh_size"] and not name.startswith(_RELRO_PREFIX) \
                    and not name.startswith(_LOAD_TIME_PREFIXES) and not section.name.startswith(".rela"):
                writable[name] = (section["sh_size"], tuple(named_in.get(index, ())))
        if -1 in named_in:
            writable["COMMON"] = (sum(size for _, _, size in named_in[-1]), tuple(named_in[-1]))
        executable_stack = stack_note is None or bool(stack_note["sh_flags"] & _SHF_EXECINSTR)
        return ObjectFacts(frozenset(table.undefined), frozenset(table.exported), frozenset(table.weak),
                           frozenset(table.unique), frozenset(table.ifuncs),
                           tuple(sorted(load_time)), writable, frozenset(outside), executable_stack, code, recursive,
                           frozenset(allocator_uses), frozenset(throw_path_uses), entered,
                           _function_code(sections, functions, relocations))


def _function_at(functions: dict[int, list[tuple[int, int, str]]], section: int, offset: int,
                 aliases: bool = False) -> str | None:
    """The one function whose code holds ``offset`` of ``section`` (None where no function, or more than one, does;
    with ``aliases``, names of the same code, as a complete and a base destructor are, count as one: the first)."""
    holders = sorted({(start, end, name) for start, end, name in functions.get(section, ()) if start <= offset < end})
    if aliases and len({(start, end) for start, end, _ in holders}) == 1:
        return holders[0][2]
    return holders[0][2] if len(holders) == 1 else None


def _function_code(sections: list[Any], functions: dict[int, list[tuple[int, int, str]]],
                   relocations: dict[int, list[tuple[int, int, str, int]]],
                   ) -> dict[str, tuple[tuple[bytes, tuple[tuple[int, int, str, int], ...]], ...]]:
    found: dict[str, list[tuple[bytes, tuple[tuple[int, int, str, int], ...]]]] = {}
    for index, spans in functions.items():
        section = sections[index]
        data = b"" if section["sh_type"] == "SHT_NOBITS" else section.data()
        for start, end, name in spans:
            moved = tuple(sorted((offset - start, kind, target, addend)
                                 for offset, kind, target, addend in relocations.get(index, ()) if start <= offset < end))
            found.setdefault(name, []).append((data[start:end], moved))
    return {name: tuple(copies) for name, copies in found.items()}


def _disassembled(sections: list[Any], symbols: list[Any], functions: dict[int, list[tuple[int, int, str]]],
                  ) -> tuple[dict[str, SectionCode], frozenset[str], frozenset[tuple[str, str, bool]],
                             dict[int, _DeadEnds], dict[str, frozenset[tuple[str | None, bool]]]]:
    """Every executable section's disassembly; the object's functions that are on a cycle of calls; every call, tail
    jump or taken address of an own function as (caller, callee, on the way to a throw); per section, the
    instructions on the way to a throw; and the functions only direct calls enter (``entered_only_by_calls``)."""
    raw_relocations = {index: {r["r_offset"]: (r["r_info_sym"], r["r_addend"] if r.is_RELA() else 0)
                               for r in section.iter_relocations()}
                       for section in sections if isinstance(section, RelocationSection)
                       for index in [section["sh_info"]] if index}
    code, decoded, edges = {}, {}, set()
    for index, section in enumerate(sections):
        if section["sh_flags"] & _SHF_EXECINSTR and section["sh_type"] == "SHT_PROGBITS":
            code[section.name], references, decoded[index] = _section_code(section.name, section.data())
            edges.update(_call_edges(index, references, functions, raw_relocations.get(index, {}), symbols))
    dead_ends, runs_off_an_end = _throw_paths(decoded, raw_relocations, symbols)
    calls = frozenset((caller, callee, _on_throw_path(dead_ends, index, address))
                      for index, address, caller, callee in edges)
    # Code that runs off its section's end, or a computed branch, may enter any function at all.
    entered = {} if runs_off_an_end or any(c.indirect_branches for c in code.values()) else _entered_only_by_calls(
        sections, symbols, functions, decoded, raw_relocations, dead_ends)
    return (code, frozenset(_on_cycles({(caller, callee) for _, _, caller, callee in edges})), calls, dead_ends,
            entered)


def _entered_only_by_calls(sections: list[Any], symbols: list[Any], functions: dict[int, list[tuple[int, int, str]]],
                           decoded: dict[int, list[_Instruction]],
                           raw_relocations: dict[int, dict[int, tuple[int, int]]], dead_ends: dict[int, _DeadEnds],
                           ) -> dict[str, frozenset[tuple[str | None, bool]]]:
    """See ``ObjectFacts.entered_only_by_calls``. A section of one function is entered from outside only through
    relocations against it (the assembler resolves no reference into another section), so every relocation is read:
    a direct call or jump is an entry, anything else (a taken address, a pointer in data) disqualifies the function."""
    alone = {index: _function_at(functions, index, 0, aliases=True) for index, spans in functions.items()
             if index in decoded and {(start, end) for start, end, _ in spans} == {(0, sections[index]["sh_size"])}}
    entries: dict[str, set[tuple[str | None, bool]]] = {name: set() for name in alone.values() if name}
    for index, relocations in raw_relocations.items():
        if sections[index].name == ".eh_frame" or not sections[index]["sh_flags"] & _SHF_ALLOC:
            continue  # the unwinder's tables and the debug information describe code; neither runs it
        starts = dead_ends[index][0] if index in dead_ends else []  # the section's instruction starts, sorted
        for offset, (sym_index, _) in relocations.items():
            callee = alone.get(symbols[sym_index]["st_shndx"])
            if callee not in entries or index == symbols[sym_index]["st_shndx"]:
                continue  # not a candidate, or a function's reference to its own code
            at = bisect.bisect_right(starts, offset) - 1
            mnemonic = decoded[index][at][2] if index in decoded and at >= 0 else ""
            if not (mnemonic.endswith("call") or mnemonic.startswith("j")):
                del entries[callee]
                continue
            entries[callee].add((_function_at(functions, index, offset, aliases=True),
                                 _on_throw_path(dead_ends, index, offset)))
    return {name: frozenset(callers) for name, callers in entries.items()}


# Per executable section: its instructions' starts (sorted) and those on the way to a throw.
_DeadEnds = tuple[list[int], set[int]]


def _on_throw_path(dead_ends: dict[int, _DeadEnds], section: int, offset: int) -> bool:
    """Whether the instruction holding ``offset`` of ``section`` is on the way to a throw."""
    if section not in dead_ends:
        return False
    starts, dead = dead_ends[section]
    at = bisect.bisect_right(starts, offset) - 1
    return at >= 0 and starts[at] in dead


def _throw_paths(decoded: dict[int, list[_Instruction]], raw_relocations: dict[int, dict[int, tuple[int, int]]],
                 symbols: list[Any]) -> tuple[dict[int, _DeadEnds], bool]:
    """The instructions from which every path (across the object's code sections: a hot function's jumps into its
    cold part and back) reaches a NO_RETURN call or a trap before a return. Anything else counts as a way out: a
    return, a jump to another object's code or through a register, code running off its section's end. Calls that
    return come back to the next instruction (an exception they throw unwinds to a landing pad, and a landing pad
    that catches calls ``__cxa_begin_catch``, itself allowed only on the way to a throw). Also whether any code can
    run off its section's end."""
    successors: dict[tuple[int, int], list[tuple[int, int]]] = {}
    exits: list[tuple[int, int]] = []
    runs_off_an_end = False
    for index, instructions in decoded.items():
        starts = {address for address, _, _, _ in instructions}
        relocations = raw_relocations.get(index, {})
        for address, size, mnemonic, immediate in instructions:
            node, following = (index, address), (index, address + size)
            relocation = next((relocations[o] for o in range(address, address + size) if o in relocations), None)
            target: tuple[int, int] | str | None = (index, immediate) if immediate is not None else None
            if relocation is not None and (mnemonic.startswith("j") or mnemonic.endswith("call")):
                symbol, addend = symbols[relocation[0]], relocation[1]
                shndx = symbol["st_shndx"]
                target = ((shndx, symbol["st_value"] + addend + 4) if isinstance(shndx, int) and shndx in decoded
                          else symbol.name)
            nexts: list[tuple[int, int]] = []
            if mnemonic.startswith(("ret", "iret")):
                exits.append(node)
                continue
            if mnemonic in ("ud2", "ud1", "ud0", "hlt") or target in NO_RETURN:  # a trap, or a call or jump there
                successors[node] = []
                continue
            if mnemonic.endswith("call"):
                nexts.append(following)
            elif mnemonic.startswith("j"):
                if not isinstance(target, tuple):  # a tail call or a jump through a register or a table
                    exits.append(node)
                    continue
                nexts.append(target)
                if mnemonic not in ("jmp", "ljmp"):
                    nexts.append(following)
            else:
                nexts.append(following)
            for successor in nexts:
                if successor[0] == index and successor[1] not in starts or successor[0] not in decoded:
                    exits.append(node)  # off the section's end, or into the middle of an instruction
            runs_off_an_end |= mnemonic not in ("jmp", "ljmp") and following[1] not in starts
            successors[node] = nexts
    predecessors: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for node, nexts in successors.items():
        for successor in nexts:
            predecessors.setdefault(successor, []).append(node)
    may_return, todo = set(exits), list(exits)
    while todo:
        for previous in predecessors.get(todo.pop(), ()):
            if previous not in may_return:
                may_return.add(previous)
                todo.append(previous)
    return {index: (sorted(address for address, _, _, _ in instructions),
                    {address for address, _, _, _ in instructions if (index, address) not in may_return})
            for index, instructions in decoded.items()}, runs_off_an_end


@dataclasses.dataclass(frozen=True)
class SectionCode:
    """What the disassembly of one executable section shows."""

    # The first forbidden instruction (read in order, as the CPU runs it), a direct branch into the middle of an
    # instruction, or bytes that do not decode, as "section+offset: text".
    hidden: str | None
    indirect_branches: int  # calls and jumps through a register or computed memory (not a GOT slot)
    forbidden_encodings: int  # forbidden instructions' bytes anywhere, inside other instructions' constants too
    frames: tuple[int, ...]  # every fixed stack frame a function of it sets up (``sub rsp, N``)
    dynamic_frames: int  # stack grown by a run-time amount (alloca, variable-length arrays)


# Forbidden instructions' encodings (syscall, sysenter, int 0x80, rdtsc, rdtscp, rdpmc, rdrand/rdseed into a
# register), looked for at every byte: code a computed branch or a forged return address could reach inside another
# instruction's constant. (sysret, 0f 07, is left out: it faults outside the kernel, and a jump's displacement of
# 0x70f holds its bytes in Inductor's own integer kernels.) A legitimate kernel whose constants happen to hold one
# of these pairs is refused too: rare, and refusing is the safe side.
_FORBIDDEN_BYTES = re.compile(rb"\x0f\x05|\x0f\x34|\xcd\x80|\x0f\x31|\x0f\x01\xf9|\x0f\x33|\x0f\xc7[\xf0-\xff]")


def _immediate(operands: str) -> int | None:
    try:
        return int(operands, 0)
    except ValueError:
        return None


# An instruction as the throw-path analysis reads it: address, size, mnemonic, the branch target it holds.
_Instruction = tuple[int, int, str, int | None]


def _section_code(section: str, code: bytes,
                  ) -> tuple[SectionCode, list[tuple[int, int, int | None, bool]], list[_Instruction]]:
    """The section's disassembly; every instruction that names a code address (a call, a jump, a ``lea`` of a
    function): (address, size, the target when the instruction itself holds it, whether it is a jump); and every
    instruction."""
    import capstone

    decoder = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    starts, branches, frames, references, instructions = set(), [], [], [], []
    hidden, indirect, dynamic, end = None, 0, 0, 0
    for address, size, mnemonic, operands in decoder.disasm_lite(code, 0):
        starts.add(address)
        end = address + size
        branch = mnemonic.startswith("j") or mnemonic.endswith("call")
        instructions.append((address, size, mnemonic, _immediate(operands) if branch else None))
        if mnemonic.endswith(("call", "jmp")) or (mnemonic == "lea" and "rip" in operands):
            references.append((address, size, _immediate(operands), mnemonic.endswith("jmp")))
        if mnemonic in FORBIDDEN_INSTRUCTIONS and hidden is None:
            hidden = f"{section}+{address:#x}: {mnemonic} {operands}".rstrip()
        if mnemonic.startswith("j") or mnemonic.endswith(("call", "jmp")):
            if (target := _immediate(operands)) is not None:
                branches.append((address, target))
            elif "rip" not in operands:  # [rip + GOT slot]: a call of a named symbol through the dynamic linker
                indirect += 1
        if mnemonic == "sub" and operands.startswith("rsp, "):
            amount = operands.removeprefix("rsp, ")
            if amount.startswith("0x") or amount.isdigit():
                frames.append(int(amount, 0))
            else:
                dynamic += 1
    if hidden is None and end < len(code) and code[end:].strip(b"\x00\x90\xcc"):
        hidden = f"{section}+{end:#x}: bytes that do not decode as instructions"
    for address, target in branches:
        if hidden is None and 0 <= target < len(code) and target not in starts:
            hidden = f"{section}+{address:#x}: a branch into the middle of an instruction ({target:#x})"
    return (SectionCode(hidden, indirect, len(_FORBIDDEN_BYTES.findall(code)), tuple(frames), dynamic), references,
            instructions)


def _call_edges(index: int, references: list[tuple[int, int, int | None, bool]],
                functions: dict[int, list[tuple[int, int, str]]], relocations: dict[int, tuple[int, int]],
                symbols: list[Any]) -> set[tuple[int, int, str, str]]:
    """(section, address, caller, callee) for every call, tail jump or taken address of one of the object's own
    functions (a jump within a function is its own control flow, not an edge)."""

    def function_at(section: int, offset: int) -> str | None:
        return _function_at(functions, section, offset, aliases=True)

    edges = set()
    for address, size, target, jump in references:
        caller = function_at(index, address)
        relocation = next((relocations[o] for o in range(address, address + size) if o in relocations), None)
        if relocation is not None:
            symbol, addend = symbols[relocation[0]], relocation[1]
            callee = (function_at(symbol["st_shndx"], addend + 4) if symbol["st_info"]["type"] == "STT_SECTION"
                      else symbol.name)
        else:
            callee = function_at(index, target) if target is not None else None
        if caller and callee and not (jump and callee == caller):
            edges.add((index, address, caller, callee))
    return edges


def _on_cycles(edges: set[tuple[str, str]]) -> set[str]:
    """The functions that can reach themselves through ``edges``."""
    graph: dict[str, set[str]] = {}
    for caller, callee in edges:
        graph.setdefault(caller, set()).add(callee)

    def reaches(start: str) -> bool:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node == start:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    return {name for name in graph if reaches(name)}


def _names(items: Iterable[str]) -> str:
    items = sorted(items)
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def check_object(path: str, references: Sequence[ObjectFacts], glue: str | None = None,
                 workspace: str | None = None) -> GuardViolation | None:
    """The first rule the kernel object at ``path`` breaks, given reference objects of Inductor's own code (as
    ``read_object`` reads them), the binding glue's object it will be linked with, and a reference compile of aikg's
    workspace alone (without it, no allocator call is allowed)."""
    facts = read_object(path)
    refs = list(references)
    # State first: a static initialiser's object, a thread-local counter are state before they are symbols.
    return (_check_code(facts, refs) or _check_stack(facts, refs) or _check_static_state(facts, refs)
            or _check_workspace(facts, read_object(workspace) if workspace else None) or _check_throw_path(facts, refs)
            or _check_symbols(facts, refs) or _check_load_time(facts, refs)
            or (_check_glue(facts, read_object(glue)) if glue else None))


def _check_workspace(facts: ObjectFacts, reference: ObjectFacts | None) -> GuardViolation | None:
    """The allocator is reached only from the workspace's functions, each defined once with exactly the code the
    reference compile of the workspace gives it (so a function of the candidate's under their names, or the
    workspace changed, is refused)."""
    allowed = reference.allocator_uses if reference else frozenset()
    for function, symbol in sorted(facts.allocator_uses, key=str):
        if (function, symbol) not in allowed:
            return GuardViolation("guard:static-state", f"{symbol} is used by {function or 'code outside a function'}"
                                                        ": only aikg's workspace (aikg::Workspace) maps memory")
        copies, expected = facts.functions.get(function, ()), reference.functions.get(function, ())  # type: ignore
        if len(copies) != 1 or copies != expected:
            return GuardViolation("guard:static-state", f"{function} is not aikg's workspace function as aikg "
                                                        "compiles it")
    return None


def _check_throw_path(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    """The heap and the C++ runtime that allocates from it (``throw_path_only``), and the object's own functions
    that reach them, are called only on the way to a throw: the kernel never returns holding a block (a std::string
    of TORCH_CHECK's message, an exception object) from which to walk the allocator's free memory. Inside a header
    function compiled exactly as a reference compile compiles it (c10::str's wrapper, which returns the message), its
    own calls are the header's; the kernel's own parts (``kernel``, ``kernel.cold``, ...) are never taken as such."""
    exempt = {name for name, copies in facts.functions.items() if name.split(".")[0] != ENTRY_POINT
              and any(copies == r.functions.get(name) for r in refs)} | _called_only_to_throw(facts)
    reaching = set()  # own functions from which a heap or throw-path-only call can be reached
    changed = True
    while changed:
        changed = False
        for caller, target, _ in facts.throw_path_uses:
            if caller and caller not in reaching and (throw_path_only(target) or target in reaching):
                reaching.add(caller)
                changed = True
    for caller, target, on_throw_path in sorted(facts.throw_path_uses, key=str):
        if on_throw_path or caller in exempt or not (throw_path_only(target) or target in reaching):
            continue
        what = target if throw_path_only(target) else f"{target} (which reaches them)"
        return GuardViolation("guard:static-state", f"{caller or 'code outside a function'} calls {what} on a path "
                                                    "that can return: the heap and the C++ strings, streams and "
                                                    "exceptions built on it are for the way to a throw only (a block "
                                                    "kept past the call, or the free heap around one, is state "
                                                    "between calls; scratch comes from aikg::Workspace or the stack)")
    return None


def _called_only_to_throw(facts: ObjectFacts) -> set[str]:
    """The own functions every call of which is on the way to a throw, or comes from such a function (c10::str's
    wrapper, out of line where the compiler chose not to inline it): whatever they hold when they return, a throw
    follows. The largest such set: a function stays while every caller's call qualifies. A function nothing enters
    counts only if weak: a template's instantiation the compiler emits though it optimised every call away (a
    TORCH_CHECK it proved always true); a local one nobody calls is there because the source insisted (``used``)."""
    found = {name for name, callers in facts.entered_only_by_calls.items()
             if (callers or name in facts.weak) and name.split(".")[0] != ENTRY_POINT}
    changed = True
    while changed:
        changed = False
        for name in sorted(found):
            if any(not on_throw_path and caller not in found for caller, on_throw_path
                   in facts.entered_only_by_calls[name]):
                found.discard(name)
                changed = True
    return found


def _check_code(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    """No forbidden instruction, nor its bytes anywhere (a constant that is code, reached by a computed branch or a
    return address overwritten: seen in review, a syscall hidden in a ``movabs`` immediate); calls and jumps through
    a register only in sections where Inductor's own code has them (a switch's jump table)."""
    indirect_ok = {name for r in refs for name, c in r.code.items() if c.indirect_branches}
    for name, section in sorted(facts.code.items()):
        if section.hidden:
            return GuardViolation("guard:asm", f"the compiled kernel holds code no kernel needs: {section.hidden}")
        if section.indirect_branches and name not in indirect_ok:
            return GuardViolation("guard:asm", f"{name} calls or jumps through a computed address "
                                               f"({section.indirect_branches}x), which Inductor's code there does not")
        if section.forbidden_encodings:
            return GuardViolation("guard:asm", f"{name} holds the bytes of a system-call, clock or random instruction "
                                               "inside other instructions (code a computed branch or a forged return "
                                               "address could reach)")
    return None


# A candidate's stack may be this much larger than its baseline's: a function's frame, and all frames together (no
# call chain can go deeper than every frame at once, recursion aside). A large uninitialised local array keeps what
# the previous call left at the same depth: seen in review, a memo of the whole input and output there. Within the
# bounds, nothing survives either: the binding glue fills all of ``stack_allowance`` below the kernel's caller before
# every call, on every thread (``cpp_stack_fill``; review 15 kept a memo at the bottom of three frames within them).
MIN_FRAME_LIMIT = 16 << 10
MIN_STACK_LIMIT = 64 << 10


def stack_allowance(refs: Sequence[ObjectFacts]) -> int:
    """The most stack, all frames together, a kernel proved against these reference objects may set up: the stack
    region the binding glue fills before every call (``cpp_stack_fill``)."""
    return max(2 * max((sum(f for c in r.code.values() for f in c.frames) for r in refs), default=0), MIN_STACK_LIMIT)


def _check_stack(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    frames = [f for c in facts.code.values() for f in c.frames]
    ref_frames = [f for r in refs for c in r.code.values() for f in c.frames]
    largest = max(2 * max(ref_frames, default=0), MIN_FRAME_LIMIT)
    total = stack_allowance(refs)
    if frames and max(frames) > largest:
        return GuardViolation("guard:static-state", f"a stack frame of {max(frames)} bytes (at most {largest}): what a "
                                                    "large local array holds outlives the call")
    if sum(frames) > total:
        return GuardViolation("guard:static-state", f"stack frames of {sum(frames)} bytes in all (at most {total})")
    if own := facts.recursive - set().union(*(r.recursive for r in refs)):
        return GuardViolation("guard:static-state", f"recursion ({_names(own)}): a stack no frame bound limits, where "
                                                    "what the previous call left can wait")
    if any(c.dynamic_frames for c in facts.code.values()) and not any(
            c.dynamic_frames for r in refs for c in r.code.values()):
        return GuardViolation("guard:static-state", "the stack grows by a run-time amount (alloca or a variable-length "
                                                    "array), which Inductor's kernel for this task does not")
    return None


def _check_glue(facts: ObjectFacts, glue: ObjectFacts) -> GuardViolation | None:
    """The glue's calls must reach Python and the C++ runtime, not a definition the kernel brings (an inline
    specialisation would bind them in the same library, or in the same translation unit in the user's process)."""
    if taken := glue.undefined & (facts.exported | facts.weak | facts.unique) - {ENTRY_POINT}:
        return GuardViolation("guard:symbol", f"the kernel defines {_names(taken)}, which the binding glue calls")
    return None


def _check_symbols(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    # LOAD_TIME_ONLY symbols are checked by where they are used (``_check_load_time``), WORKSPACE_ONLY and heap
    # functions likewise (``_check_workspace``, ``_check_throw_path``).
    unknown = {n for n in facts.undefined if not undefined_allowed(n) and n not in LOAD_TIME_ONLY
               and n not in WORKSPACE_ONLY and not heap_function(n)}
    if unknown:
        return GuardViolation("guard:symbol", f"the compiled kernel calls or reads {_names(unknown)}, which are not "
                                              "on the allowlist of pure functions a kernel may use")
    if strong := facts.exported - {ENTRY_POINT}:
        return GuardViolation("guard:symbol", f"the compiled kernel exports {_names(strong)}: only {ENTRY_POINT} "
                                              "may be defined for others to bind to")
    if ENTRY_POINT not in facts.exported:
        return GuardViolation("guard:symbol", f"the compiled kernel does not define {ENTRY_POINT}")
    allowed_unique = set().union(*(r.unique for r in refs)) if refs else set()
    if unique := facts.unique - allowed_unique:
        return GuardViolation("guard:static-state", f"process-wide unique objects {_names(unique)} are not "
                                                    "Inductor's own")
    return None


def _check_load_time(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    if facts.ifuncs:
        return GuardViolation("guard:load-time-code", f"ifunc resolvers {_names(facts.ifuncs)} run at load time")
    if facts.executable_stack:
        return GuardViolation("guard:load-time-code", "the object asks for an executable stack, which loading it "
                                                      "would give the whole process")
    # Inductor's Welford kernels register their static helpers' destructors from the kernel body; a kernel may do
    # what its baseline does, no more.
    allowed = set().union(*(r.referenced_outside_load_time for r in refs)) if refs else set()
    if misused := facts.referenced_outside_load_time & set(LOAD_TIME_ONLY) - allowed:
        return GuardViolation("guard:load-time-code", f"kernel code uses {_names(misused)}, which register code "
                                                      "to run at exit")
    if facts.load_time and all(facts.load_time != r.load_time for r in refs):
        names = sorted({name for name, _, _ in facts.load_time})
        return GuardViolation("guard:load-time-code", f"constructors or destructors ({', '.join(names)}) differ "
                                                      "from those Inductor's own header registers")
    return None


def _check_static_state(facts: ObjectFacts, refs: list[ObjectFacts]) -> GuardViolation | None:
    # A reference's objects by name and size: the same name with another type is the candidate's own state.
    allowed = {(name, size) for r in refs for _, symbols in r.writable.values() for name, _, size in symbols}
    for section, (size, symbols) in sorted(facts.writable.items()):
        own = [name for name, _, sym_size in symbols if (name, sym_size) not in allowed]
        if own:
            return GuardViolation("guard:static-state", f"writable static or thread-local data {_names(own)} in "
                                                        f"{section}: a kernel keeps no state between calls")
        if gap := _largest_gap(size, [(start, start + length) for _, start, length in symbols]):
            return GuardViolation("guard:static-state", f"{section} holds {gap} bytes of writable data that belong "
                                                        "to no object Inductor's header or baseline defines")
    # An object the header defines for its load-time code only (<iostream>'s std::__ioinit) is state between calls
    # too, once a kernel's code writes it (review 16 counted calls in it): the kernel's code may refer only to the
    # writable objects its references' code refers to.
    touched_by_refs = set().union(*(_writable_touched(r) for r in refs)) if refs else set()
    if touched := _writable_touched(facts) - touched_by_refs:
        return GuardViolation("guard:static-state", f"kernel code refers to writable data {_names(touched)}, which "
                                                    "Inductor's code for this task touches only at load time, if at "
                                                    "all: a kernel keeps no state between calls")
    return None


def _writable_touched(facts: ObjectFacts) -> set[str]:
    """The writable or thread-local objects that code outside the load-time sections refers to."""
    writable = {name for _, symbols in facts.writable.values() for name, _, _ in symbols}
    return set(facts.referenced_outside_load_time) & writable


# Objects are aligned to at most a 64-byte vector; a larger hole between them is data without a name.
_MAX_PADDING = 63


def _largest_gap(size: int, ranges: list[tuple[int, int]]) -> int:
    """The largest run of bytes in [0, size) that no range covers, if longer than alignment padding; else 0."""
    cursor, largest = 0, 0
    for start, end in sorted(ranges):
        largest = max(largest, start - cursor)
        cursor = max(cursor, end)
    largest = max(largest, size - cursor)
    return largest if largest > _MAX_PADDING else 0
