"""Source checks on C++ candidates, on the text the compiler will see.

The source is first put through the transformations the compiler applies before it tokenises (line splices joined,
Inductor's ``#pragma CMT`` comment marker expanded, as ``define_kernel`` does), then lexed into code with comments,
string, character and raw string literals blanked (digit separators are numbers, not character literals). Anything
that could make the compiler see other code than this scan sees is refused outright: trigraphs, non-ASCII text,
universal character names, backslashes outside literals. The checks are allowlists where the language allows:
one ``#include``, pragmas from a fixed grammar, attributes from a short list, one ``extern`` (the kernel). The
identifier blocklists that follow are defence in depth: what a kernel can reach is proved on the compiled object
(``objcheck``).
"""

from __future__ import annotations

import re

from ..torch_internals.kernels import DESCRIPTIVE_NAME, KERNEL_NAME
from .source_text import check_characters
from .violations import GuardViolation

ENTRY = "kernel"
ALLOWED_INCLUDE = "#include <torch/csrc/inductor/cpp_prefix.h>"
_PLACEHOLDERS = (KERNEL_NAME, DESCRIPTIVE_NAME)

# ------------------------------------------------------------------------------------------- what the compiler sees

_SPLICE = re.compile(r"\\[ \t\f\v]*(?:\r\n|\n|\r)")  # GCC also joins a backslash followed by spaces
_TRIGRAPH = re.compile(r"\?\?[=/'()!<>\-]")
_RAW_PREFIX = re.compile(r"(?:u8|u|U|L)?R")  # the whole identifier before the quote (``_R"`` is a literal suffix)


class _Unclear(Exception):
    """The text could be read two ways; refused rather than guessed."""


def compiled_text(source: str) -> str:
    """``source`` as Inductor hands it to the compiler, splices joined (translation phase 2)."""
    for placeholder in _PLACEHOLDERS:
        source = source.replace(placeholder, ENTRY)
    return _SPLICE.sub("", source.replace("#pragma CMT", "//"))


def lex(text: str) -> str:
    """Code only: comments become one space, literals become empty ``""`` / ``''``; newlines are kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _Unclear("an unterminated comment")
            i = end + 2
            out.append(" ")
        elif c == '"' and _RAW_PREFIX.fullmatch(_identifier_before(text, i)):
            i = _skip_raw_string(text, i)
            out.append('""')
        elif c in "\"'":
            end = _skip_quoted(text, i, c)
            out.append('"C"' if text[i:end] == '"C"' else c * 2)  # extern "C" keeps its language
            i = end
        elif c.isdigit() and not _identifier_before(text, i):
            start = i
            while i < n and (text[i].isalnum() or text[i] in "._" or (text[i] == "'" and i + 1 < n
                                                                       and text[i + 1].isalnum())
                             or (text[i] in "+-" and text[i - 1] in "eEpP")):
                i += 1
            out.append(text[start:i].replace("'", ""))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _identifier_before(text: str, i: int) -> str:
    start = i
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return text[start:i]


def _skip_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        if text[j] == "\n":
            break
        j += 1
    raise _Unclear("an unterminated literal")


def _skip_raw_string(text: str, i: int) -> int:
    open_paren = text.find("(", i)
    delimiter = text[i + 1:open_paren]
    if open_paren < 0 or len(delimiter) > 16 or re.search(r"[\s()\\]", delimiter):
        raise _Unclear("a raw string literal without a valid delimiter")
    end = text.find(")" + delimiter + '"', open_paren)
    if end < 0:
        raise _Unclear("an unterminated raw string literal")
    return end + len(delimiter) + 2


# ------------------------------------------------------------------------------------------------------ pragmas

_ID_LIST = r"\w+(?:\s*,\s*\w+)*"
_OMP_CLAUSE = (r"(?:num_threads\(\s*\d+\s*\)|schedule\(\s*(?:static|dynamic|guided)\s*(?:,\s*\d+\s*)?\)"
               r"|collapse\(\s*\d+\s*\)|nowait|simdlen\(\s*\d+\s*\)|safelen\(\s*\d+\s*\)"
               rf"|(?:private|firstprivate|lastprivate|shared)\(\s*{_ID_LIST}\s*\)"
               rf"|reduction\(\s*(?:\+|\*|-|max|min|&|\||\^|&&|\|\|)\s*:\s*{_ID_LIST}\s*\)"
               rf"|aligned\(\s*{_ID_LIST}\s*(?::\s*\d+\s*)?\))")
_OMP_CONSTRUCT = (r"(?:parallel(?:\s+for)?(?:\s+simd)?|for(?:\s+simd)?|simd|single|barrier|critical(?:\s*\(\s*\w+\s*\))?"
                  r"|atomic(?:\s+(?:update|read|write|capture))?)")
# What Inductor's C++ codegen emits (omp parallel [num_threads], for [collapse, simd simdlen], single, simd,
# GCC ivdep, GCC unroll, unroll), and the usual clauses of a hand-written parallel loop. No task (work that may
# outlive the call), no target, no declare, no threadprivate (static state).
ALLOWED_PRAGMA = re.compile(rf"^(?:omp\s+{_OMP_CONSTRUCT}(?:\s*,?\s*{_OMP_CLAUSE})*|GCC\s+ivdep|GCC\s+unroll\s+\d+"
                            r"|unroll(?:\s+\d+)?)$")

# ---------------------------------------------------------------------------------------------------- attributes

_ALLOWED_ATTRIBUTES = {"likely", "unlikely", "maybe_unused", "nodiscard", "fallthrough", "aligned", "always_inline",
                       "noinline", "unused", "__aligned__", "__always_inline__", "__noinline__", "__unused__"}
_LOAD_TIME_ATTRIBUTES = {"constructor", "destructor", "init_priority", "section", "ifunc", "alias", "weakref",
                         "used", "retain"}
_ATTRIBUTE_START = re.compile(r"\b__attribute(?:__)?\s*\(|\[\s*\[")


def _attribute_names(code: str) -> list[str]:
    """Every identifier inside ``__attribute__((...))`` and ``[[...]]`` (the whole list, arguments included)."""
    names = []
    for match in _ATTRIBUTE_START.finditer(code):
        if match.group(0).startswith("["):
            end = code.find("]]", match.end())
            body = code[match.end(): None if end < 0 else end]
        else:
            depth, i = 1, match.end()
            while i < len(code) and depth:
                depth += {"(": 1, ")": -1}.get(code[i], 0)
                i += 1
            body = code[match.end():i]
        names.extend(re.findall(r"[A-Za-z_]\w*", body))
    return names


# ------------------------------------------------------------------------------------------------- identifiers

# Any mention of these is rejected, called or not (taking their address is as good as calling them).
_BANNED_ANYWHERE: dict[str, tuple[str, ...]] = {
    "guard:asm": ("asm", "__asm", "__asm__"),
    "guard:system": (
        "fopen", "freopen", "fdopen", "tmpfile", "FILE", "ofstream", "ifstream", "fstream", "filebuf", "filesystem",
        "system", "popen", "pclose", "fork", "vfork", "execl", "execlp", "execle", "execv", "execvp", "execvpe",
        "execve", "fexecve", "posix_spawn", "posix_spawnp", "dlopen", "dlsym", "dlclose", "dlmopen", "mmap",
        "munmap", "mprotect", "syscall", "ptrace", "socket", "socketpair", "getaddrinfo", "gethostbyname",
        "pthread_create", "getenv", "setenv", "putenv", "unsetenv", "sigaction", "environ", "atexit",
        "at_quick_exit", "__cxa_atexit", "__cxa_thread_atexit",
    ),
    "guard:torch": ("Tensor", "TensorBase", "IValue", "Dispatcher", "OperatorHandle", "Scalar"),
    # Names of Inductor's binding glue, compiled in the same translation unit as the kernel in the user's process.
    "guard:symbol": ("parse_arg", "kernel_py", "py_methods", "py_module", "_torchinductor_pyobject_tensor_data_ptr",
                     "dlerror", "__dso_handle"),
    "guard:load-time-code": ("constructor", "destructor", "init_priority", "__constructor__", "__destructor__"),
    "guard:pragma": ("_Pragma", "__pragma"),
    "guard:static-state": ("threadprivate",),
}
# Common words that are only suspicious as calls or qualified names (a variable may well be called ``read``).
_BANNED_CALLS = (
    "open", "openat", "creat", "read", "write", "pread", "pwrite", "close", "unlink", "remove", "rename", "mkdir",
    "rmdir", "chmod", "chown", "truncate", "ftruncate", "ioctl", "fcntl", "dup", "dup2", "pipe", "connect", "bind",
    "listen", "accept", "send", "sendto", "recv", "recvfrom", "kill", "signal", "thread", "jthread", "async",
    "sleep", "usleep", "nanosleep", "printf", "fprintf", "puts", "fputs", "fwrite", "fread", "fgets", "scanf",
    "exit", "_exit", "quick_exit", "raise",
)
_BANNED_CALL = re.compile(r"(?:::|\b)(" + "|".join(_BANNED_CALLS) + r")\s*\(|::\s*(" + "|".join(_BANNED_CALLS)
                          + r")\b")
# ATen's vector types and the scalar types kernels use are fine; any other at::/torch:: name is torch compute.
_TORCH = re.compile(r"\b(?:torch|aoti_torch\w*|_?Py[A-Z_]\w*)\b|\bat\s*::\s*(?!vec\b|Half\b|BFloat16\b|Float8_\w+\b)"
                    r"\w+|\bc10\s*::\s*(?:Dispatcher|impl|IValue)\b")
# Intrinsics (from the ISA headers Inductor's header includes) for instructions that change the thread's or the
# machine's state rather than compute: segment bases (the thread pointer), extended-state restores, shadow stacks,
# user interrupts, monitor/wait.
_STATE_INTRINSICS = re.compile(
    r"\b(?:_(?:read|write)[fg]sbase_u(?:32|64)|_xsetbv|_f?xrstor\w*|_f?xsave\w*|__rdpmc|_(?:rd|wr)u?ss[dq]"
    r"|_incssp[dq]|_rstorssp|_saveprevssp|_setssbsy|_clrssbsy|_enqcmds?|_tpause|_umwait|_umonitor|_ptwrite\w*"
    r"|_senduipi|_uiret|_testui|_clui|_stui|_xbegin|_xend|_xabort|_invpcid|_wbinvd|_wbnoinvd)\b")
# Reading a clock or a hardware random source: a kernel that knows the time can tell a timing loop's back-to-back calls
# from the checked ones and skip its work only there (seen in review: accepted at 95x while computing nothing).
_CLOCK_INTRINSICS = re.compile(r"\b(?:__?rdtscp?|_rdpid_u32|_rd(?:rand|seed)(?:16|32|64)_step)\b")
# Compiler builtins a kernel may use: hints, bit tricks, math. Not the ones that read the stack's frames and return
# addresses, jump, unwind or call through argument blocks (the start of forging code pointers).
_ALLOWED_BUILTINS = re.compile(
    r"__builtin_(?:expect|expect_with_probability|prefetch|assume_aligned|assume|trap|unreachable|memcpy|memset|"
    r"memmove|isnan|isinf|isfinite|isnormal|signbit|fpclassify|clz|ctz|popcount|parity|ffs|clrsb)(?:l|ll)?$"
    r"|__builtin_(?:bswap(?:16|32|64)|huge_val[fl]?|inf[fl]?|nan[fl]?|nans[fl]?|copysign[fl]?|fabs[fl]?|fma[fl]?"
    r"|fmax[fl]?|fmin[fl]?|sqrt[fl]?|exp[fl]?|log[fl]?|floor[fl]?|ceil[fl]?|trunc[fl]?|round[fl]?|rint[fl]?"
    r"|is(?:greater|greaterequal|less|lessequal|lessgreater|unordered)|mul_overflow|add_overflow|sub_overflow"
    r"|constant_p|launder|addressof|is_constant_evaluated|bit_cast|shufflevector|convertvector)$")
_SIGNATURE = re.compile(r'extern\s+"C"\s+(?:\w+\s+)*?void\s+' + ENTRY + r"\s*\(([^)]*)\)")
_EXTERN = re.compile(r"\bextern\b")


def _params(code: str) -> list[str] | None:
    found = _SIGNATURE.findall(code)
    if len(found) != 1:
        return None
    return [" ".join(p.replace("*", " * ").split()) for p in found[0].split(",")]


def check_cpp(baseline: str, source: str) -> GuardViolation | None:
    """The first source rule ``source`` breaks as a replacement for the C++ kernel ``baseline``, or None."""
    if violation := check_characters(source):
        return violation
    if any(ord(ch) > 127 for ch in source):
        return GuardViolation("guard:preprocessor", "non-ASCII text: identifiers and literals must be plain ASCII")
    if match := _TRIGRAPH.search(source):
        return GuardViolation("guard:preprocessor", f"trigraph {match.group(0)!r}: compilers disagree on them")
    try:
        code = lex(compiled_text(source))
        baseline_code = lex(compiled_text(baseline))
    except _Unclear as unclear:
        return GuardViolation("guard:preprocessor", f"the source has {unclear}")
    return (_check_directives(code) or _check_threads(baseline_code, code)
            or _check_code(_code_without_directives(code))
            or _check_signature(_code_without_directives(baseline_code), _code_without_directives(code)))


def thread_cap(baseline: str) -> int:
    """The most threads a parallel region of a replacement for the C++ kernel ``baseline`` may ask for: the
    baseline's own ``num_threads`` (0: no clause, the thread count OpenMP was given); ``baseline`` is trusted text."""
    return _thread_cap(lex(compiled_text(baseline)))


def _thread_cap(baseline_code: str) -> int:
    return max((int(k) for k in _NUM_THREADS.findall(baseline_code)), default=0)


def _check_threads(baseline_code: str, code: str) -> GuardViolation | None:
    """``num_threads(K)`` no larger than the baseline's own: more threads than Inductor was given is an unfair race,
    and in the user's process it would override the thread count they set."""
    allowed = _thread_cap(baseline_code)
    if wanted := [int(k) for k in _NUM_THREADS.findall(code) if int(k) > allowed]:
        return GuardViolation("guard:pragma", f"num_threads({max(wanted)}) asks for more threads than Inductor's "
                                              f"kernel uses ({allowed or 'no num_threads clause'})")
    return None


def _check_directives(code: str) -> GuardViolation | None:
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped.startswith(("#", "%:")):
            continue
        directive = " ".join(stripped.split())
        if directive == ALLOWED_INCLUDE:
            continue
        name = re.match(r"(?:#|%:)\s*(\w*)", directive).group(1)  # type: ignore[union-attr]
        if name == "include":
            return GuardViolation("guard:include", f"only {ALLOWED_INCLUDE} may be included, not {directive!r}")
        if name != "pragma" or stripped.startswith("%:"):
            return GuardViolation("guard:preprocessor", f"directive not allowed: {directive!r}")
        body = re.match(r"#\s*pragma\s*(.*)$", directive).group(1)  # type: ignore[union-attr]
        if not ALLOWED_PRAGMA.match(body):
            return GuardViolation("guard:pragma", f"pragma not on the allowlist (OpenMP loops, GCC ivdep/unroll): "
                                                  f"{directive!r}")
    return None


def _code_without_directives(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not line.strip().startswith(("#", "%:")))


# The one writable object of Inductor's header a kernel may touch, and only in the statements Inductor writes with
# it: the body opens by declaring the call's own error counter and pointing the flag at it (so no code of the
# kernel's runs while the flag still points where an earlier call left it), and the flag may be cleared and the
# counter checked later. Read, or set to anything else, it is a word that outlives the call (reviews: the last
# input's address kept there told timed calls from checked ones; the flag pointed at a local array and left there
# counted the calls, read back by the next call through the header's own division-by-zero note).
_HEADER_FLAG = "inductor_cpu_integer_div_error_flag"
_HEADER_FLAG_STATEMENT = re.compile(_HEADER_FLAG + r"\s*=\s*(?:&\s*inductor_cpu_integer_div_error|nullptr)\s*;")
_ERROR_COUNTER = re.compile(r"\binductor_cpu_integer_div_error\b")
_FLAG_OPENING = re.compile(r'extern\s+"C"[^{;]*\)\s*\{\s*std\s*::\s*atomic\s*<\s*int\s*>\s*'
                           r"inductor_cpu_integer_div_error\s*\{\s*0\s*\}\s*;\s*"
                           + _HEADER_FLAG + r"\s*=\s*&\s*inductor_cpu_integer_div_error\s*;")
_COUNTER_CHECK = re.compile(r"\binductor_cpu_throw_if_integer_div_error\s*\(\s*inductor_cpu_integer_div_error\s*\)")
# A function pointer type (``void (*)(...)``, ``(*name)(...)``): the way to call an address computed from data,
# such as a constant inside the kernel's own code (seen in review: a syscall hidden in an immediate, called so).
_FUNCTION_POINTER = re.compile(r"\(\s*\*\s*\w*\s*\)\s*\(")
_NUM_THREADS = re.compile(r"\bnum_threads\s*\(\s*(\d+)\s*\)")
# A literal with a suffix of the program's own (``"x"_R``) or an ``operator""`` definition: user-defined literals,
# where what is code and what is text is the compiler's call, not this scanner's.
_USER_LITERAL = re.compile(r"(?:\"\"|'')[A-Za-z_]|\boperator\s*\"\"")


# aikg's workspace (``cpp_workspace``) is compiled in front of every candidate: its functions are named aikg_*, its
# class lives in namespace aikg. A candidate may use aikg::Workspace, never name the functions or reopen the namespace
# (``namespace aikg {``, ``namespace aikg::detail {``; ``using namespace aikg;`` is fine).
_AIKG_PREFIX = "aikg_"
_AIKG_NAMESPACE = re.compile(r"\b(using\s+)?namespace\s+aikg\b")
# Nor specialises what is in it (``template <> class aikg::Workspace<int>``, a member ``aikg::Workspace<float>::...``):
# a constructor or destructor of the candidate's own would take or release blocks other than the workspace's.
_AIKG_SPECIALISED = re.compile(r"\b(?:class|struct|union)\s+aikg\s*::|\baikg\s*::\s*\w+\s*(?:<[^;{}]*?>)?\s*::")
# Nor builds or ends an object's life by hand: a Workspace placed (``new (storage) aikg::Workspace<float>(n)``, under
# any alias) where no destructor runs stays mapped past the call, and one ended by an explicit destructor call
# (``ws.~Workspace()``, ``std::destroy_at``) on the call after the one that built it nets out in the runner's count of
# live mappings over a batch: either keeps a workspace, and what it holds, from one call to the next. A kernel has no
# other use for either.
_LIFETIME_BY_HAND = re.compile(r"\bnew\s*\(|(?:\.|->)\s*(?:[\w\s<>,:]*::\s*)?~"
                               r"|\b(?:construct_at|destroy_at|destroy_n|destroy)\s*(?:<[^;{}()]*>\s*)?\(")


def _header_flag_as_inductor_writes_it(code: str) -> GuardViolation | None:
    """The header's flag and the call's error counter, if used at all, as Inductor's kernels use them: the counter
    declared and the flag pointed at it as the kernel's first statements; after that, the flag only cleared and the
    counter only checked, once each at most."""
    flags, counters = code.count(_HEADER_FLAG), len(_ERROR_COUNTER.findall(code))
    if not flags and not counters:
        return None
    statements, checks = len(_HEADER_FLAG_STATEMENT.findall(code)), len(_COUNTER_CHECK.findall(code))
    if (len(_FLAG_OPENING.findall(code)) == 1 and flags == statements <= 2 and checks <= 1
            and counters == 2 + checks):
        return None
    return GuardViolation("guard:static-state", f"{_HEADER_FLAG} and the error counter are used other than as "
                                                "Inductor writes them (the counter declared and the flag pointed at "
                                                "it as the kernel's first two statements; later only cleared and "
                                                "checked): the flag outlives the call")


def _check_code(code: str) -> GuardViolation | None:
    if "\\" in code:
        return GuardViolation("guard:preprocessor", "a backslash outside literals (universal character names hide "
                                                    "identifiers)")
    if match := re.search(r"#|%:|<%|%>|:>|<:(?!:)", code):
        return GuardViolation("guard:preprocessor", f"{match.group(0)!r} outside a directive: no token pasting, "
                                                    "stringizing or digraphs")
    if match := _USER_LITERAL.search(code):
        return GuardViolation("guard:preprocessor", f"a user-defined literal ({match.group(0)!r}...) is not allowed")
    if failure := _header_flag_as_inductor_writes_it(code):
        return failure
    identifiers = set(re.findall(r"\b[A-Za-z_]\w*\b", code))
    if own := sorted(name for name in identifiers if name.lower().startswith(_AIKG_PREFIX)):
        return GuardViolation("guard:symbol", f"uses {', '.join(own[:4])}: names starting with {_AIKG_PREFIX} are "
                                              "aikg's (its workspace allocator)")
    if match := next((m for m in _AIKG_NAMESPACE.finditer(code) if not m.group(1)), None):
        return GuardViolation("guard:symbol", f"{' '.join(match.group(0).split())!r}: namespace aikg is aikg's own "
                                              "(use aikg::Workspace, never add to it)")
    if match := _AIKG_SPECIALISED.search(code):
        return GuardViolation("guard:symbol", f"{' '.join(match.group(0).split())!r}: aikg::Workspace is used as it "
                                              "is, never specialised or reached into")
    if match := _LIFETIME_BY_HAND.search(code):
        return GuardViolation("guard:static-state", f"{' '.join(match.group(0).split())!r}: placement new and "
                                                    "explicit destructor calls are refused (a workspace built or "
                                                    "ended by hand can outlive the call)")
    for rule, names in _BANNED_ANYWHERE.items():
        if hit := sorted(identifiers.intersection(names)):
            return GuardViolation(rule, f"uses {', '.join(hit)}")
    for attribute in _attribute_names(code):
        if attribute.strip("_") in _LOAD_TIME_ATTRIBUTES:
            return GuardViolation("guard:load-time-code", f"attribute {attribute!r} places code or data where the "
                                                          "loader runs or keeps it")
        if attribute not in _ALLOWED_ATTRIBUTES:
            return GuardViolation("guard:preprocessor", f"attribute {attribute!r} is not on the allowlist")
    if match := _STATE_INTRINSICS.search(code):
        return GuardViolation("guard:asm", f"{match.group(0)} executes an instruction that changes the thread's or "
                                           "the machine's state")
    if match := _CLOCK_INTRINSICS.search(code):
        return GuardViolation("guard:clock", f"{match.group(0)} reads a clock or a random source: a kernel is a pure "
                                             "function of its arguments")
    for builtin in sorted({b for b in re.findall(r"\b__builtin_\w+", code) if not _ALLOWED_BUILTINS.match(b)}):
        return GuardViolation("guard:system", f"{builtin} is not on the allowlist of compiler builtins")
    if re.search(r"\b__declspec\b", code):
        return GuardViolation("guard:preprocessor", "__declspec is not allowed")
    if match := _BANNED_CALL.search(code):
        return GuardViolation("guard:system", f"uses {match.group(1) or match.group(2)}")
    if match := _TORCH.search(code):
        return GuardViolation("guard:torch", f"uses {match.group(0)!r}: kernels compute themselves, not via torch")
    if match := _FUNCTION_POINTER.search(code):
        return GuardViolation("guard:system", f"a function pointer type ({match.group(0)!r}...): a kernel calls "
                                              "functions by name")
    if len(_EXTERN.findall(code)) != 1:
        return GuardViolation("guard:symbol", 'only the kernel itself may be declared extern: other extern names '
                                              'reach outside the kernel')
    return None


def _check_signature(baseline_code: str, code: str) -> GuardViolation | None:
    want, got = _params(baseline_code), _params(code)
    if got is None:
        return GuardViolation("guard:signature", 'expected exactly one extern "C" void Placeholder.KERNEL_NAME(...)')
    if want != got:
        return GuardViolation("guard:signature", f"parameters ({', '.join(got)}) differ from the baseline's "
                                                 f"({', '.join(want or [])})")
    return None
