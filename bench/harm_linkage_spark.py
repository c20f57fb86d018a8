"""The same linkage model on Spark (local mode) and on DuckDB: same pairs, same probabilities.

    .venv/bin/pip install pyspark            # not a Vigil dependency; needs Java 17
    .venv/bin/python bench/harm_linkage_spark.py [--persons 300]

Records written by "another hand" (``tests/harm/other_hand.py``) are reduced to the linkage
features by the same code as in production (``linkage.features``), scored with the bundled model
on DuckDB and, through ``linkage.dialect_model_json(model, "spark")``, on a local Spark session
with Splink's string-similarity UDFs. Exits non-zero if the linked pairs or their probabilities
differ.
Not part of the test suite: a local Spark session takes 30–60 s to start on the 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harm.other_hand import Spec, csv_bytes, generate  # noqa: E402

from vigil.harm import linkage  # noqa: E402
from vigil.harm.importer import parse_incidents  # noqa: E402
from vigil.harm.names import name_parts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=300)
    args = parser.parse_args()
    from pyspark.sql import SparkSession
    from splink import Linker, SparkAPI
    from splink.backends.spark import similarity_jar_location

    data = generate(Spec(persons=args.persons, seed=3))
    rows = parse_incidents(csv_bytes(data), datetime(2026, 1, 1, tzinfo=UTC)).rows
    named = name_parts(rows, "suspect_name").filter(pl.col("s_dob").is_not_null())
    nodes = (
        named.group_by("given", "family", dob="s_dob")
        .agg(pl.col("family_parts").first(), forces=pl.col("force").unique().sort())
        .sort("given", "family", "dob")
        .with_row_index("unique_id")
        .with_columns(victims=pl.concat_list(pl.lit("none")))  # a typed column for Spark
    )
    frame = linkage.features(nodes)
    model = linkage.bundled_model_json()
    duck, _ = linkage.predict(frame, model)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as checkpoints:
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.jars", similarity_jar_location())
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
        spark.sparkContext.setCheckpointDir(checkpoints)
        linker = Linker(
            SparkAPI(spark_session=spark).register(spark.createDataFrame(frame.to_pandas())),
            linkage.dialect_model_json(model, "spark"),
        )
        scored = linker.inference.predict(
            threshold_match_probability=linkage.LINK_PROBABILITY
        ).as_pandas_dataframe()
        spark.stop()
    on_spark = pl.from_pandas(scored[["unique_id_l", "unique_id_r", "match_probability"]])
    # DuckDB's pairs also pass the date-of-birth rule; keep Spark's pairs that DuckDB scored.
    joined = duck.join(
        on_spark, left_on=["left", "right"], right_on=["unique_id_l", "unique_id_r"], how="left"
    )
    worst = (joined["probability"] - joined["match_probability"]).abs().max()
    missing = joined["match_probability"].null_count()
    print(
        f"{frame.height} records, {duck.height} links on DuckDB; on Spark {missing} missing, "
        f"largest probability difference {worst}; Spark {time.perf_counter() - start:.0f} s"
    )
    # DuckDB's probabilities are stored rounded to 6 decimals.
    if missing or (worst is not None and float(worst) > 1e-6):  # type: ignore[arg-type]
        raise SystemExit("Spark and DuckDB disagree")


if __name__ == "__main__":
    main()
