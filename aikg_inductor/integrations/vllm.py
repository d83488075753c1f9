"""The vLLM plugin: accepted kernels from the cache replace Inductor's in every vLLM process, at serve time.

vLLM loads ``register`` through the ``vllm.general_plugins`` entry point in each of its processes (API server,
engine core, workers). vLLM calls Inductor itself (``torch.compile(backend="inductor")`` on CPU, its own
``VllmBackend`` with ``standalone_compile`` on GPU), not our Dynamo backend, so ``register`` installs one
``CompileSession`` for the whole process (``torch_internals.interception.install_session``).

Options resolve as everywhere else (``AIKG_*`` variables, ``AIKG_CONFIG_FILE``). Modes:

- ``cache`` (default): exact cache hits replace Inductor's kernels; no agent runs. The cache fingerprint is added to
  vLLM's compilation hash, which names vLLM's compile-cache directories (``torch_aot_compile/<hash>`` on CPU,
  ``torch_compile_cache/<hash>`` on GPU): an artifact compiled under another accepted set is never loaded. vLLM has
  no hook through which a plugin adds a hash factor, and ``compute_hash`` is computed in the worker at compile time,
  so ``register`` wraps ``CompilationConfig.compute_hash``; the wrapper adds the installed session's token, and
  nothing while no session is installed.
- ``off`` with ``record_dir``: every fused kernel vLLM compiles is written there as a task, for
  ``aikg tune DIR``. Inductor's graph caches are bypassed so that every kernel is seen; run it with
  ``VLLM_DISABLE_COMPILE_CACHE=1`` so that vLLM's own cache does not skip the compile either.

With no cache or an empty one, ``register`` changes nothing. With an unreadable or tampered cache, bad options, or a
vLLM or torch whose hook points moved, it logs one warning (in each vLLM process) and changes nothing: vLLM serves
with Inductor's kernels.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import Any

from .. import torch_internals
from ..torch_internals import interception
from ..backend import CompileSession
from ..kernel_cache import KernelCache
from ..options import Options, OptionsError, resolve_options

log = logging.getLogger(__name__)

_PACKAGE_LOGGER = "aikg_inductor"


def register() -> CompileSession | None:
    """The ``vllm.general_plugins`` entry point. Returns the installed session, or None when it stepped aside.

    Never raises: vLLM calls plugins unguarded, and an exception here would stop the server from starting.
    """
    _show_our_logs()
    try:
        session = _session_for(resolve_options())
    except OptionsError as err:
        log.warning("aikg: bad options (%s); vLLM serves with Inductor's kernels", err)
        return None
    except Exception as err:  # noqa: BLE001 - as below: serving goes on without us
        log.warning("aikg: the vLLM plugin failed (%s); vLLM serves with Inductor's kernels", err)
        return None
    if session is None:
        return None
    try:
        torch_internals.check_private_apis()
        if session.options.mode == "off":
            interception.bypass_graph_caches()
        else:
            # Before the session is installed: no kernel may be swapped under a hash that does not say so.
            _add_fingerprint_to_vllm_hash()
        interception.install_session(session)
    except Exception as err:  # noqa: BLE001 - whatever moved, serving must go on without us
        interception.install_session(None)
        log.warning("aikg: cannot hook this vLLM/torch (%s); vLLM serves with Inductor's kernels", err)
        return None
    return session


def _session_for(options: Options) -> CompileSession | None:
    """The session to install, or None (after at most one warning) when there is nothing to do or it is unsafe."""
    if options.mode == "off":
        if options.record_dir is None:
            log.info("aikg: mode off and no record_dir; the vLLM plugin does nothing")
            return None
        log.info("aikg: recording the tasks of vLLM's compiles in %s", options.record_dir)
        return CompileSession(options)
    if options.mode != "cache":
        # Serving never tunes: a miss must not start an agent inside a vLLM worker.
        log.info("aikg: mode %s is for offline tuning; the vLLM plugin serves in mode cache", options.mode)
        options = options.with_updates(mode="cache")
    if not (options.cache_dir / "kernels").exists():
        log.info("aikg: no kernel cache at %s; the vLLM plugin does nothing", options.cache_dir)
        return None
    try:
        cache = KernelCache(options.cache_dir)
        entries = len(cache)
        tampered = [f for f in cache.verify_all() if f.status == "tampered"]
    except Exception as err:  # noqa: BLE001 - CacheUnavailableError, sqlite or OS errors: an unreadable cache
        log.warning("aikg: the kernel cache at %s cannot be read (%s); vLLM serves with Inductor's kernels",
                    options.cache_dir, err)
        return None
    if tampered:
        # Someone other than aikg wrote to the cache: trust none of it rather than serve part of it.
        log.warning("aikg: %d entr%s in the kernel cache at %s failed signature or schema checks (first: %s: %s); "
                    "vLLM serves with Inductor's kernels", len(tampered), "y" if len(tampered) == 1 else "ies",
                    options.cache_dir, tampered[0].key[:12], tampered[0].reason)
        return None
    if entries == 0:
        log.info("aikg: the kernel cache at %s is empty; the vLLM plugin does nothing", options.cache_dir)
        return None
    session = CompileSession(options)
    if session.cache is None:  # it logged why
        return None
    log.info("aikg: serving with %d accepted kernel(s) from %s (fingerprint %s)", entries, options.cache_dir,
             session.cache.fingerprint()[:12])
    return session


def _add_fingerprint_to_vllm_hash() -> None:
    """Wrap ``CompilationConfig.compute_hash`` so that it also covers the installed session's token. Idempotent."""
    from vllm.config.compilation import CompilationConfig

    original = CompilationConfig.compute_hash
    if getattr(original, "_aikg", False):
        return

    @functools.wraps(original)
    def compute_hash(self: Any) -> str:
        digest = original(self)
        session = interception.installed_session()
        # Recording (mode off) swaps nothing, so it leaves vLLM's hash, and its compile cache, as they are.
        if session is None or not session.cache_token().startswith("cache-"):
            return digest
        return hashlib.sha256(f"{digest}:aikg-{session.cache_token()}".encode()).hexdigest()

    compute_hash._aikg = True  # type: ignore[attr-defined]
    CompilationConfig.compute_hash = compute_hash  # type: ignore[method-assign]


def _show_our_logs() -> None:
    """vLLM configures only its own loggers; without a handler our INFO lines (each replaced kernel) are lost."""
    logger = logging.getLogger(_PACKAGE_LOGGER)
    if logger.handlers or logging.getLogger().handlers:  # the application chose where logs go
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(asctime)s [aikg] %(message)s", "%m-%d %H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
