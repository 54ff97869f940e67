"""Run every query of docs/queries on the Parquet exports of a run, in Spark.

    spark-submit docs/queries/spark/report.py EXPORT_DIR [OUT_DIR]

EXPORT_DIR holds domains.parquet and hosts.parquet (`mxcensus export
--format parquet`), as a local path or a URI Spark reads (hdfs://, s3a://).
Each query's result is shown, and written as CSV under OUT_DIR/<query>/ when
OUT_DIR is given. The queries are the portable SQL that DuckDB runs too;
they need Spark 3.3 or later (split_part), which also reads the exports'
ZSTD pages without extra libraries.
"""
import pathlib
import sys

from pyspark.sql import SparkSession

QUERIES = pathlib.Path(__file__).resolve().parent.parent


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    export_dir = argv[1].rstrip("/")
    out_dir = argv[2].rstrip("/") if len(argv) == 3 else None

    spark = SparkSession.builder.appName("mxcensus-queries").getOrCreate()
    for view in ("domains", "hosts"):
        spark.read.parquet(f"{export_dir}/{view}.parquet").createOrReplaceTempView(view)

    for path in sorted(QUERIES.glob("*.sql")):
        # spark.sql() takes one statement, without the closing semicolon.
        sql = path.read_text().strip()
        if sql.endswith(";"):
            sql = sql[:-1]
        result = spark.sql(sql)
        print(f"-- {path.name}")
        result.show(n=50, truncate=False)
        if out_dir:
            result.coalesce(1).write.mode("overwrite").option("header", True) \
                .csv(f"{out_dir}/{path.stem}")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv)
