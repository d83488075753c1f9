"""torch.compile finds the backend through the torch_dynamo_backends entry point, with no aikg import."""

import subprocess
import sys


def test_backend_works_without_importing_aikg(tmp_path):
    code = (
        "import sys, torch\n"
        "f = torch.compile(lambda x: torch.softmax(x, -1) * 2, backend='aikg')\n"
        "print(float(f(torch.ones(8, 16)).sum()))\n"
        "print('aikg_inductor' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"AIKG_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    total, imported = result.stdout.split()
    assert abs(float(total) - 16.0) < 1e-4  # 8 rows of a uniform softmax, times 2
    assert imported == "True"  # loaded by torch through the entry point
