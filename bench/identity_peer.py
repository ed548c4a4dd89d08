"""The peer of bench/identity.py: plain Splink 5 as a competent user writes it from Splink's tutorial.

Same input (the clean people table the pipeline's normalise step leaves), the tutorial's recipe:
Splink's own comparisons for names, email, phone, company, city and country, blocking rules that
keep the comparisons affordable, the prior from deterministic email matches, u by random sampling
(the same pair budget marketops uses), m by expectation maximisation over two blocking rules,
predict, then Splink's connected-components clustering at 0.95. No identifier links outside the
model, no nicknames, no merge decisions, no review evidence.

    python bench/identity_peer.py WAREHOUSE.duckdb PEOPLE_TABLE OUT.parquet
"""

from __future__ import annotations

import json
import sys
import time


def run(warehouse: str, table: str, out: str) -> dict:
    """Resolve ``table`` of ``warehouse`` with plain Splink; write record_key -> cluster_id to ``out``."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # The user's first step: select the columns the model needs into an in-memory table
    # (outside the timing; marketops reads the same table from the warehouse file).
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    con.execute(f"""CREATE TABLE people AS SELECT record_key, first_name, last_name, email, phone, company_key,
                    city, country FROM wh."{table}" """)
    con.execute("DETACH wh")

    started = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("company_key", [0.9]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("last_name", "company_key"),
            block_on("first_name", "company_key"),
        ],
    )
    linker = Linker(db_api.register("people"), settings, log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match([block_on("email")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_name", "company_key"))
    predictions = linker.inference.predict(threshold_match_probability=0.6)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    seconds = time.perf_counter() - started

    con.execute(f"COPY (SELECT record_key, cluster_id FROM {clusters.physical_name}) TO '{out}' (FORMAT parquet)")
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    return {"seconds": seconds, "pairs_above_review": pairs}


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4])))
