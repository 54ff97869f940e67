-- The two views every query in docs/queries reads, for DuckDB: the
-- Parquet exports of one run (mxcensus export --format parquet), named
-- domains.parquet and hosts.parquet, in the directory DuckDB runs in.
-- Give other paths (or s3:// URLs, with DuckDB's httpfs extension) here.
CREATE OR REPLACE VIEW domains AS SELECT * FROM read_parquet('domains.parquet');
CREATE OR REPLACE VIEW hosts AS SELECT * FROM read_parquet('hosts.parquet');
