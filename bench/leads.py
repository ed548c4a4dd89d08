"""Lead scoring and routing at 100k and 1M people: wall time and peak memory, each against a plain
pandas / Python peer measured in the same run.

    python bench/leads.py 100000 1000000

* ``leads_score``: :func:`marketops.leads.scoring.score_table` over a synthetic DuckDB workspace
  (``golden_people``, ``golden_accounts``, ``touchpoints`` with 5 activities per person, the built-in
  rules, a half-life of a million years: no decay to speak of). Peer: the same fit and engagement rules
  with caps in pandas (group-by and merges). The MQL counts in the note agree but for people exactly
  on the threshold, whom the residual decay leaves a hair under it.
* ``leads_route``: :func:`marketops.leads.routing.route` on 30 % of the people as MQLs, account-owner
  match, 4 rules (region, territory, segment, weighted catch-all) over 16 owners; once with nobody
  constrained (arithmetic rotation) and once with capacity and out-of-office on some owners (the
  one-by-one path). Peer: a plain Python round-robin with the same rule matching and capacity.

Each case runs in a fresh interpreter so its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import DATA, in_subprocess  # noqa: E402

MQL_SHARE = 0.3
#: The built-in rules without time decay (a half-life of a million years), as the pandas peer computes
#: them: both sides then name about the same MQLs, so the ratio compares the same work.
CONFIG = "name: Bench\nleads:\n  scoring:\n    half_life_days: 365000000\n"
COUNTRIES = ["US", "GB", "DE", "FR", "IT", "ES", "BR", "MX", "JP", "AU", "IN", "CA"]
SEGMENTS = ["smb", "mid-market", "enterprise"]


def workspace(n: int) -> Path:
    """A DuckDB workspace with ``n`` people, their accounts and 5 touchpoints each; built once."""
    import numpy as np
    import pyarrow as pa

    from marketops.workspace import Workspace

    root = DATA / f"leads_ws2_{n}"
    if (root / ".done").exists():
        (root / "marketops.yaml").write_text(CONFIG, encoding="utf-8")
        return root
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "marketops.yaml").write_text(CONFIG, encoding="utf-8")
    ws = Workspace.init(root)
    rng = np.random.default_rng(7)
    ids = np.char.add("P", np.arange(n).astype(str))
    accounts = max(n // 20, 1)
    acct = np.char.add("A", rng.integers(0, accounts, n).astype(str))
    people = pa.table({
        "person_id": ids, "email": np.char.add(np.char.add("p", np.arange(n).astype(str)), "@client.test"),
        "country": rng.choice(COUNTRIES, n), "seniority": rng.choice(["c_level", "vp", "director", "manager", "ic"], n),
        "job_function": rng.choice(["marketing", "sales", "it", "finance"], n), "account_id": acct,
        "lead_source": rng.choice(["webinar", "paid", "organic", "referral"], n),
        "owner": pa.nulls(n, pa.string())})
    acc = pa.table({"account_id": np.char.add("A", np.arange(accounts).astype(str)),
                    "name": np.char.add("Co ", np.arange(accounts).astype(str)),
                    "domain": np.char.add(np.arange(accounts).astype(str), ".test"),
                    "industry": rng.choice(["Software", "Retail"], accounts),
                    "employees": rng.integers(5, 5000, accounts), "annual_revenue": rng.random(accounts) * 1e7,
                    "country": rng.choice(COUNTRIES, accounts),
                    "owner": pa.array([f"owner{i % 16}@acme.test" if i % 10 == 0 else None for i in range(accounts)])})
    k = 5 * n
    start = np.datetime64("2026-01-01T00:00:00", "us")
    # a webinar is an "event" touchpoint named after it, as the canonical model keeps it
    kinds = rng.choice(["page_view", "form_fill", "email_click", "email_open", "event", "ad_click"], k)
    tp = pa.table({"person_id": np.repeat(ids, 5),
                   "occurred_at": start + rng.integers(0, 330 * 86_400, k).astype("timedelta64[s]"),
                   "type": kinds, "event_name": np.where(kinds == "event", "webinar_attended", None),
                   "landing_page": rng.choice(["/pricing", "/blog", "/"], k)})
    try:
        for name, t in {"golden_people": people, "golden_accounts": acc, "touchpoints": tp}.items():
            ws.engine.write(f"{name}__b1", t)
        ws.engine.publish({name: f"{name}__b1" for name in ("golden_people", "golden_accounts", "touchpoints")}, "b1")
    finally:
        ws.close()
    (root / ".done").write_text("ok")
    return root


SCORE_OURS = """
import time
from marketops.workspace import Workspace
from marketops.leads.scoring import score_table
ws = Workspace.open({root!r}, read_only=True)
t = time.perf_counter()
scores = score_table(ws)
_r = {{"seconds": time.perf_counter() - t, "rows": scores.num_rows, "mqls": int(scores.column("mql").to_numpy().sum())}}
ws.close()
"""

SCORE_PEER = """
import time, duckdb
import pandas as pd, numpy as np
con = duckdb.connect({db!r}, read_only=True)
gp = con.sql("select * from golden_people").df()
ga = con.sql("select account_id, employees from golden_accounts").df()
tp = con.sql("select person_id, type, event_name, landing_page from touchpoints").df()
t = time.perf_counter()
p = gp.merge(ga, on="account_id", how="left")
fit = (np.where(p.seniority.isin(["c_level", "vp"]), 15, 0) + np.where(p.seniority.isin(["director", "manager"]), 10, 0)
       + np.where(p.job_function.isin(["marketing", "sales"]), 10, 0) + np.where(p.employees >= 200, 10, 0)
       + np.where(p.country.isin(["US", "GB", "DE", "FR", "IT", "ES"]), 5, 0))
fit = pd.Series(np.minimum(fit, 50), index=p.person_id)
rules = [("form_fill", None, 20, 40), ("page_view", "/pricing", 5, 15), ("event", None, 10, 20), ("page_view", None, 1, 10),
         ("email_click", None, 3, 12), ("email_open", None, 1, 5), ("ad_click", None, 2, 6)]
eng = pd.Series(0.0, index=p.person_id)
for typ, url, pts, cap in rules:
    m = tp.type == typ
    if typ == "event":
        m &= tp.event_name.str.contains("webinar", case=False, na=False)
    if url:
        m &= tp.landing_page == url
    eng = eng.add(np.minimum(tp[m].groupby("person_id").size() * pts, cap), fill_value=0)
eng = np.minimum(eng, 60)
score = fit.add(eng, fill_value=0)
_r = {{"seconds": time.perf_counter() - t, "rows": len(score), "mqls": int((score >= 50).sum())}}
"""

ROUTE_COMMON = """
import time, datetime as dt, duckdb
import numpy as np, pyarrow as pa
from marketops.leads.routing_config import RoutingConfig
con = duckdb.connect({db!r}, read_only=True)
people = con.sql("select p.person_id, p.email, p.country, p.lead_source, p.account_id, "
                 "case when a.employees >= 1000 then 'enterprise' when a.employees >= 200 then 'mid-market' else 'smb' end as segment "
                 "from golden_people p left join golden_accounts a using (account_id)").to_arrow_table()
accounts = dict(con.sql("select account_id, owner from golden_accounts where owner is not null").fetchall())
n = people.num_rows
rng = np.random.default_rng(3)
pick = np.sort(rng.choice(n, int(n * {share}), replace=False))
mqls = people.take(pick)
start = np.datetime64("2026-01-01T00:00:00", "us")
mqls = mqls.append_column("mql_at", pa.array(np.sort(start + rng.integers(0, 330 * 86_400, len(pick)).astype("timedelta64[s]"))))
names = [f"Owner {{i}}" for i in range(16)]
constrained = {constrained}
owners = []
for i, nm in enumerate(names):
    o = {{"name": nm, "email": f"owner{{i}}@acme.test", "weight": 1 + i % 3, "territories": [["EMEA"], ["NA"], ["APAC", "LATAM"], ["IT", "ES"]][i % 4],
         "segments": [SEGS[i % 3]] if (SEGS := ["smb", "mid-market", "enterprise"]) else []}}
    if constrained and i % 2 == 0:
        o["max_per_day"] = 40
        o["out_of_office"] = [{{"from": "2026-03-01", "to": "2026-03-15"}}, {{"from": "2026-08-01", "to": "2026-08-20"}}]
    owners.append(o)
cfg = RoutingConfig(owners=owners, rules=[
    {{"name": "EMEA webinars", "when": {{"region": "EMEA", "lead_source": "webinar"}}, "owners": names[:4]}},
    {{"name": "Enterprise", "method": "segment", "when": {{"segment": "enterprise"}}, "owners": names}},
    {{"name": "Territory", "method": "territory", "when": {{"lead_source": ["paid", "organic"]}}, "owners": names}},
    {{"name": "Everyone", "method": "weighted", "owners": names}}], fallback={{"team": "sales"}})
"""

ROUTE_OURS = ROUTE_COMMON + """
from marketops.leads.routing import route
t = time.perf_counter()
plan = route(mqls, cfg, account_owners=accounts, timezone="Europe/Rome")
c = plan.counts()
_r = {{"seconds": time.perf_counter() - t, "rows": c["routed"], "unassigned": c["unassigned"]}}
"""

# The peer: what one would write without the engine, a Python loop per lead with the same rule
# matching (first rule wins), account owners first, capacity per day and time away.
ROUTE_PEER = ROUTE_COMMON + """
t = time.perf_counter()
rows = mqls.to_pylist()
by = {{o.name: o for o in cfg.owners}}
index = {{o.email.lower(): o.name for o in cfg.owners}}
pointer, daily, out = {{}}, {{}}, []
def free(o, day):
    if o.away_on(day) is not None:
        return False
    return o.max_per_day is None or daily.get((o.name, day), 0) < o.max_per_day
for r in rows:
    day = r["mql_at"].date()
    a = index.get((accounts.get(r["account_id"]) or "").lower())
    if a and free(by[a], day):
        daily[(a, day)] = daily.get((a, day), 0) + 1; out.append(a); continue
    region = cfg.region_of(r["country"])
    chosen = None
    for rule in cfg.rules:
        w = rule.when
        if (w.region and region not in w.region) or (w.lead_source and r["lead_source"] not in w.lead_source) \\
                or (w.segment and r["segment"] not in w.segment):
            continue
        pool = cfg.pool(rule)
        if rule.method == "territory":
            pool = [o for o in pool if r["country"] in o.territories or region in o.territories]
        elif rule.method == "segment":
            pool = [o for o in pool if r["segment"] in o.segments]
        if not pool:
            continue
        p = pointer.get(rule.name, -1)
        for j in range(1, len(pool) + 1):
            o = pool[(p + j) % len(pool)]
            if free(o, day):
                chosen = o.name; pointer[rule.name] = (p + j) % len(pool); break
        break
    if chosen:
        daily[(chosen, day)] = daily.get((chosen, day), 0) + 1
    out.append(chosen)
_r = {{"seconds": time.perf_counter() - t, "rows": len(out), "unassigned": out.count(None)}}
"""


def run(sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        root = workspace(n)
        db = str(root / ".marketops" / "warehouse.duckdb")
        ours = in_subprocess(SCORE_OURS.format(root=str(root)))
        peer = in_subprocess(SCORE_PEER.format(db=db))
        rows.append({"bench": "leads_score", "size": f"{n:,} people", "rows": ours["rows"],
                     "seconds": round(ours["seconds"], 2), "rows_per_s": int(ours["rows"] / ours["seconds"]),
                     "peak_mb": round(ours["peak_mb"]), "peer": "pandas rules (no decay)",
                     "peer_seconds": round(peer["seconds"], 2), "ratio": round(ours["seconds"] / peer["seconds"], 2),
                     "note": f"MQLs {ours['mqls']:,} (peer {peer['mqls']:,}); peer peak {round(peer['peak_mb'])} MB"})
        for constrained in (False, True):
            kw = {"db": db, "share": MQL_SHARE, "constrained": constrained}
            ours = in_subprocess(ROUTE_OURS.format(**kw))
            peer = in_subprocess(ROUTE_PEER.format(**kw))
            what = "capacity + out-of-office" if constrained else "no limits"
            rows.append({"bench": "leads_route", "size": f"{n:,} people", "rows": ours["rows"],
                         "seconds": round(ours["seconds"], 2), "rows_per_s": int(ours["rows"] / ours["seconds"]),
                         "peak_mb": round(ours["peak_mb"]), "peer": "python loop round-robin",
                         "peer_seconds": round(peer["seconds"], 2),
                         "ratio": round(ours["seconds"] / peer["seconds"], 2),
                         "note": f"{what}; unassigned {ours['unassigned']:,}; peer peak {round(peer['peak_mb'])} MB"})
    return rows


if __name__ == "__main__":
    from run import print_results

    print_results(run([int(a) for a in sys.argv[1:]] or [100_000]))
