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


_PEAK = """
def _peak_mb():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def in_subprocess(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (so peak memory is its own); it prints one JSON object.

    Peak memory is the child's high-water resident set size (``VmHWM``). Not ``ru_maxrss``: Linux
    carries the parent's peak over into the child at fork and exec, so a bench process that had
    grown to 400 MB would report at least 400 MB for every child it starts.
    """
    wrapper = code + "\nimport json as _j\n" \
        "_r['peak_mb'] = _peak_mb()\nprint(_j.dumps(_r))\n"
    wrapper = _PEAK + wrapper
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=HERE.parent, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- identity resolution inputs ------------------------------------------------------------------
#: The sample's people exports: the only files identity resolution reads.
PEOPLE_FILES = ("hubspot_contacts.csv", "salesforce_leads.csv")


def people_workspace(contacts: int) -> tuple[Path, str]:
    """A DuckDB workspace holding the sample's people at ``contacts`` contacts, cleaned as the
    pipeline's normalise step leaves them; built once and cached. Returns (root, people table)."""
    import shutil

    from marketops.workspace import Workspace

    src = sample(contacts)
    root = DATA / f"identity_ws_{contacts}_{_generator_version()}_{_pipeline_version()}"
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        ws = Workspace.init(root)
        for name in PEOPLE_FILES:
            shutil.copy(src / "inbox" / name, ws.inbox / name)
        try:
            table = _clean_people(ws)
        finally:
            ws.close()
        (root / ".done").write_text(table)
    return root, (root / ".done").read_text()


def _pipeline_version() -> str:
    """A digest of the pipeline's cleaning code: cached people tables are rebuilt when it changes."""
    import hashlib

    import marketops

    h = hashlib.sha256()
    base = Path(marketops.__file__).parent
    for f in [*sorted((base / "quality").glob("normalise*.py")), *sorted((base / "quality").glob("clean*.py"))]:
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def _clean_people(ws) -> str:
    """Run the pipeline (ingest, stage, canonical, normalise); return the people table it built."""
    from marketops.pipeline import run_pipeline

    run_pipeline(ws, steps=["ingest", "stage", "canonical", "normalise"], raise_on_error=True)
    return ws.engine.published()["people"]
