"""A user: compile x * 2 on float[64] with backend="aikg" on the cache folder argv[1]; print one JSON line saying
whether the output is Inductor's (x * 2), x * 3 (the v1 kernel), or something else."""

import json
import sys

import torch

torch.manual_seed(0)
x = torch.randn(64)
compiled = torch.compile(lambda t: t * 2, backend="aikg", options={"cache_dir": sys.argv[1]})
out = compiled(x)
if torch.allclose(out, x * 2):
    what = "x*2 (correct)"
elif torch.allclose(out, x * 3):
    what = "x*3 (v1 kernel served)"
else:
    what = "other (WRONG)"
print(json.dumps({"output": what}))
