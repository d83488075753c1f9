"""Key files: the cache's secret, export keys, and keys trusted for import.

A key file should be readable by its owner only (mode 0600): anyone who can read the cache's secret can sign
entries that later processes run, and anyone who can read an export key can make bundles its importers trust. aikg
creates key files 0600. The cache's secret is refused unless it is a regular file owned by this user with no
permission bit for group or others (someone who can only write the cache folder can still replace the file with
their own key: the owner check is what tells); about an export or trusted key that others can read, aikg warns
once per file.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import stat
import time
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32  # what aikg writes: 32 random bytes
MIN_TRUSTED_KEY_BYTES = 32  # a trusted key shorter than this (an empty file, a password) is refused
# ... and one of fewer distinct byte values (zeros, a repeated character): a key that is guessed, not drawn. Hex text
# of a key (16 values) passes; 32 random bytes have about 30.
MIN_DISTINCT_KEY_BYTES = 8
_MAX_KEY_FILE_BYTES = 4096
_warned_modes: set[str] = set()


class KeyFileError(ValueError):
    """A key file that is missing, damaged or too short; the message says which."""


def load_or_create_key(path: Path, create: bool = True, private: bool = False) -> bytes:
    """The 32-byte key in ``path``, created (mode 0600) on first use when ``create``; safe when several processes
    race to create it. ``private`` (the cache's own secret): a key file that is a symlink, is not owned by this
    user, or has any permission bit for group or others is refused (KeyFileError), not warned about: whoever can
    replace or read it can sign kernels this cache later runs."""
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
        key, st = _read_key_file(path, private)
        if len(key) == KEY_BYTES:
            if private:
                _refuse_unless_private(path, st)
            else:
                warn_if_readable_by_others(path)
            return key
        time.sleep(0.01)
    raise KeyFileError(f"the key file {path} is damaged; remove it to start a new one")


def _read_key_file(path: Path, private: bool) -> tuple[bytes, os.stat_result]:
    """The first bytes of the key file and the status of the file read (not of a name swapped in meanwhile)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if private else 0))
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    except OSError as err:
        why = "it is a symlink" if err.errno == errno.ELOOP else err.strerror
        raise KeyFileError(f"cannot read the key file {path}: {why}") from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"the key file {path} is not a regular file")
        return handle.read(_MAX_KEY_FILE_BYTES + 1), st


def _refuse_unless_private(path: Path, st: os.stat_result) -> None:
    me = os.geteuid()
    if st.st_uid != me:
        raise KeyFileError(f"{path} is owned by uid {st.st_uid}, not by this user (uid {me}), so someone else may "
                           f"have replaced it; if it is yours, run: chown {me} {path} && chmod 600 {path}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyFileError(f"{path} has mode {mode:03o}: other users may read or replace it; run: chmod 600 {path}")


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
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
        raise KeyFileError(f"the trusted key {path} has only {len(set(key))} distinct byte values: a guessable key "
                           f"(zeros, one repeated character), not one a cache exported")
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
