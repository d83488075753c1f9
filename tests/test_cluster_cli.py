"""`aikg tune --cluster` without a cluster: Ray stays unimported unless asked for, and a bad address is one line."""

import subprocess
import sys

from conftest import REPO


def test_nothing_imports_ray_without_cluster():
    code = ("import sys, aikg_inductor, aikg_inductor.offline_tuning, aikg_inductor.cli, aikg_inductor.pipeline\n"
            "aikg_inductor.cli.build_parser().parse_args(['tune', 'x.py'])\n"
            "assert 'ray' not in sys.modules, 'ray was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_bad_cluster_address_is_refused_before_any_capture(tmp_path):
    result = subprocess.run([sys.executable, "-m", "aikg_inductor.cli", "tune", "examples/softmax_scale.py",
                             "--cache-dir", str(tmp_path / "cache"), "--cluster", "spark://host:7077"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    # Either the address is refused, or (Ray not installed) the extra to install is named: one line, no traceback.
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "--cluster takes 'ray' or 'ray://HOST:PORT'" in result.stderr or "aikg-inductor[cluster]" in result.stderr
    assert not (tmp_path / "cache").exists()
