"""Shared bench helpers: sample data cached per size, timing in a fresh process, one results table."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / ".data"


def _generator_version() -> str:
    """A digest of the generator's code: cached samples are rebuilt when it changes."""
    import hashlib

    import marketops.sample as pkg

    h = hashlib.sha256()
    for f in sorted(Path(pkg.__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def sample(contacts: int, months: int = 12, seed: int = 7) -> Path:
    """The sample company's exports at ``contacts`` contacts, generated once and cached."""
    out = DATA / f"sample_{contacts}_{months}_{seed}_{_generator_version()}"
    if not (out / ".done").exists():
        from marketops.sample import generate

        t = time.perf_counter()
        generate(out, contacts=contacts, months=months, seed=seed)
        (out / ".done").write_text(f"{time.perf_counter() - t:.1f}")
    return out


def in_subprocess(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (so peak memory is its own); it prints one JSON object.

    Peak memory is the child's maximum resident set size as the kernel reports it.
    """
    wrapper = code + "\nimport resource, json as _j\n" \
        "_r['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\nprint(_j.dumps(_r))\n"
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=HERE.parent)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])
