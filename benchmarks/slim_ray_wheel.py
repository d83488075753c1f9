"""Write a copy of a Ray wheel without its Java jars, for machines that take wheels through a size-limited channel.

Ray's manylinux wheel is about 72 MB, 29 MB of it ``ray/jars/`` (the Java workers' runtime, unused by Python
drivers and workers such as ``aikg tune --cluster ray``). The copy drops those files and their lines in the
wheel's ``RECORD``; every other file is copied byte for byte with its recorded hash, so pip installs it as usual.

    python benchmarks/slim_ray_wheel.py ray-2.52.1-cp312-cp312-manylinux2014_x86_64.whl .whl/
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

DROPPED_PREFIXES = ("ray/jars/",)


def slim(wheel: Path, out_dir: Path) -> Path:
    """Copy ``wheel`` into ``out_dir`` without the files under ``DROPPED_PREFIXES``; returns the new wheel."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            if info.filename.startswith(DROPPED_PREFIXES):
                continue
            data = source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(line for line in lines if not line.startswith(DROPPED_PREFIXES)).encode()
            copy.writestr(info, data)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="a Ray wheel as pip downloaded it")
    parser.add_argument("out_dir", type=Path, help="folder for the slimmed copy (same file name)")
    args = parser.parse_args()
    target = slim(args.wheel, args.out_dir)
    print(f"{target}: {args.wheel.stat().st_size / 2**20:.1f} MiB -> {target.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
