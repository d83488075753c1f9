"""Key files: the cache's secret, export keys, and keys trusted for import.

A key file should be readable by its owner only (mode 0600): anyone who can read the cache's secret can sign
entries that later processes run, and anyone who can read an export key can make bundles its importers trust. aikg
creates key files 0600 and warns, once per file, about one that others can read.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32  # what aikg writes: 32 random bytes
MIN_TRUSTED_KEY_BYTES = 32  # a trusted key shorter than this (an empty file, a password) is refused
_MAX_KEY_FILE_BYTES = 4096
_warned_modes: set[str] = set()


class KeyFileError(ValueError):
    """A key file that is missing, damaged or too short; the message says which."""


def load_or_create_key(path: Path, create: bool = True) -> bytes:
    """The 32-byte key in ``path``, created (mode 0600) on first use when ``create``; safe when several processes
    race to create it."""
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
    # Another process may have created the file a moment ago and not written it yet.
    for _ in range(100):
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            raise KeyFileError(f"no key file at {path}") from None
        if len(key) == KEY_BYTES:
            warn_if_readable_by_others(path)
            return key
        time.sleep(0.01)
    raise KeyFileError(f"the key file {path} is damaged; remove it to start a new one")


def read_trusted_key(path: Path) -> bytes:
    """A key another cache exported, refused when shorter than ``MIN_TRUSTED_KEY_BYTES``: an empty or short key
    would let anyone who guesses it make bundles this cache trusts."""
    try:
        with open(path, "rb") as handle:
            key = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as err:
        raise KeyFileError(f"cannot read the trusted key {path}: {err.strerror}") from None
    if len(key) < MIN_TRUSTED_KEY_BYTES:
        raise KeyFileError(f"the trusted key {path} is {len(key)} bytes; a key must be at least "
                           f"{MIN_TRUSTED_KEY_BYTES} bytes (an exporting cache's export.key is {KEY_BYTES} random "
                           "bytes)")
    if len(key) > _MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path} is over {_MAX_KEY_FILE_BYTES} bytes: not a key file")
    warn_if_readable_by_others(path)
    return key


def warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077 and str(path) not in _warned_modes:
        _warned_modes.add(str(path))
        log.warning("aikg: the key file %s can be read by other users (mode %03o); run: chmod 600 %s",
                    path, mode, path)
