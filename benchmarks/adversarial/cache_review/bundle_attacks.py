"""`aikg cache import` against hostile bundles and key files. Usage: python bundle_attacks.py

A source cache exports v1 (x * 3) signed with its export.key, then v2 (x * 2). A target cache imports the v2 export
and then meets each attack. Expected: every attack is one line (no traceback), exit code 2 where refused, and the
target still serves v2 afterwards (nothing already cached is lost, no older entry comes back).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from common import entry, env, the_task

from aikg_inductor import KernelCache
from aikg_inductor.kernel_cache import export_bundle

TASK = the_task()
BASE = Path(tempfile.mkdtemp(prefix="r20-bundle-"))
SOURCE, TARGET = BASE / "source", BASE / "target"


def aikg(*args: str) -> tuple[int, str]:
    proc = subprocess.run(["aikg", *args], capture_output=True, text=True, env=env(), timeout=300)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def target_serves() -> str:
    cache = KernelCache(TARGET)
    got = cache.get(TASK.key)
    cache.close()
    return "none" if got is None else ("v2" if "2.0f" in got.source else "v1")


def setup() -> dict[str, Path]:
    source = KernelCache(SOURCE)
    source.put(entry(TASK, "3.0"))
    export_bundle(source, BASE / "v1.bundle")
    source.put(entry(TASK, "2.0"))
    export_bundle(source, BASE / "v2.bundle")
    key = SOURCE / "export.key"
    rc, out = aikg("cache", "import", str(BASE / "v2.bundle"), "--trust", str(key), "--cache-dir", str(TARGET))
    assert rc == 0 and target_serves() == "v2", out
    files = {"key": key, "v1": BASE / "v1.bundle", "v2": BASE / "v2.bundle"}
    v2 = files["v2"].read_bytes()
    other_key = BASE / "other.key"
    other_key.write_bytes(secrets.token_bytes(32))
    other = KernelCache(BASE / "other")
    other.put(entry(TASK, "3.0"))
    export_bundle(other, BASE / "other.bundle", other_key)
    files["other"] = BASE / "other.bundle"
    files["other_key"] = other_key
    (BASE / "junk.bundle").write_bytes(secrets.token_bytes(5000))
    header, rest = v2.split(b"\n", 1)
    (BASE / "truncated.bundle").write_bytes(v2[: len(v2) // 2])
    (BASE / "trailing.bundle").write_bytes(v2 + b"more\n")
    (BASE / "lying_header.bundle").write_bytes(b"aikg-kernel-bundle v2 10\n" + rest)
    (BASE / "huge_header.bundle").write_bytes(b"aikg-kernel-bundle v2 999999999999999\n" + rest)
    (BASE / "v1_header.bundle").write_bytes(b"aikg-kernel-bundle v1 10\n" + rest)
    (BASE / "json_header.bundle").write_bytes(b'{"format": "aikg"}\n' + rest)
    with open(BASE / "sparse.bundle", "wb") as handle:  # 300 MiB on disk (sparse), a valid-looking header
        handle.write(header + b"\n")
        handle.truncate(300 * 2**20)
    (BASE / "empty.key").write_bytes(b"")
    (BASE / "short.key").write_bytes(b"hunter2")
    (BASE / "zeros.key").write_bytes(bytes(32))
    (BASE / "big.key").write_bytes(bytes(10000))
    os.symlink("/etc/passwd", BASE / "passwd.bundle")
    return files


def attacks(f: dict[str, Path]) -> list[tuple[str, list[str]]]:
    key = str(f["key"])
    imp = ["cache", "import"]
    at = ["--cache-dir", str(TARGET)]
    return [
        ("replay of the older v1 export (same trusted key)", imp + [str(f["v1"]), "--trust", key] + at),
        ("bundle signed with another key", imp + [str(f["other"]), "--trust", key] + at),
        ("random bytes", imp + [str(BASE / "junk.bundle"), "--trust", key] + at),
        ("truncated bundle", imp + [str(BASE / "truncated.bundle"), "--trust", key] + at),
        ("data after the signature line", imp + [str(BASE / "trailing.bundle"), "--trust", key] + at),
        ("header says 10 bytes, body longer", imp + [str(BASE / "lying_header.bundle"), "--trust", key] + at),
        ("header size beyond the cap", imp + [str(BASE / "huge_header.bundle"), "--trust", key] + at),
        ("old bundle version header", imp + [str(BASE / "v1_header.bundle"), "--trust", key] + at),
        ("JSON header", imp + [str(BASE / "json_header.bundle"), "--trust", key] + at),
        ("300 MiB sparse file over the default cap", imp + [str(BASE / "sparse.bundle"), "--trust", key] + at),
        ("valid v2 bundle with --max-size 1K", imp + [str(f["v2"]), "--trust", key, "--max-size", "1K"] + at),
        ("--max-size garbage", imp + [str(f["v2"]), "--trust", key, "--max-size", "lots"] + at),
        ("--max-size -5", imp + [str(f["v2"]), "--trust", key, "--max-size", "-5"] + at),
        ("bundle path is a directory", imp + [str(BASE), "--trust", key] + at),
        ("bundle path missing", imp + [str(BASE / "nope.bundle"), "--trust", key] + at),
        ("bundle is a symlink to /etc/passwd", imp + [str(BASE / "passwd.bundle"), "--trust", key] + at),
        ("bundle is /dev/zero", imp + ["/dev/zero", "--trust", key] + at),
        ("bundle path with ../ tricks", imp + [str(BASE / "target" / ".." / ".." / "nope"), "--trust", key] + at),
        ("--trust empty key file", imp + [str(f["v2"]), "--trust", str(BASE / "empty.key")] + at),
        ("--trust 7-byte password", imp + [str(f["v2"]), "--trust", str(BASE / "short.key")] + at),
        ("--trust 32 zero bytes", imp + [str(f["v2"]), "--trust", str(BASE / "zeros.key")] + at),
        ("--trust 10000-byte file", imp + [str(f["v2"]), "--trust", str(BASE / "big.key")] + at),
        ("--trust a directory", imp + [str(f["v2"]), "--trust", str(BASE)] + at),
        ("--trust /dev/zero", imp + [str(f["v2"]), "--trust", "/dev/zero"] + at),
        ("--trust missing", imp + [str(f["v2"]), "--trust", str(BASE / "nokey")] + at),
        ("import without --trust", imp + [str(f["v2"])] + at),
        ("--trust the target's own secret.key", imp + [str(f["v2"]), "--trust", str(TARGET / "secret.key")] + at),
        ("export to a folder that does not exist", ["cache", "export", str(BASE / "no" / "such" / "x.bundle")] + at),
        ("export --key to a short key file", ["cache", "export", str(BASE / "x.bundle"), "--key",
                                              str(BASE / "short.key")] + at),
    ]


if __name__ == "__main__":
    files = setup()
    rows = []
    for what, args in attacks(files):
        rc, out = aikg(*args)
        served = target_serves()
        lines = out.splitlines()
        rows.append({"attack": what, "rc": rc, "lines": len(lines), "traceback": "Traceback" in out,
                     "target_serves": served, "output": out[-600:], "command": "aikg " + " ".join(args)})
        print(f"{what}: rc={rc} lines={len(lines)} traceback={'Traceback' in out} target serves {served} | "
              f"{lines[-1][:200] if lines else ''}", flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bundles.json").write_text(json.dumps(rows, indent=1))
