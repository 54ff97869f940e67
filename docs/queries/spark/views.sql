-- The two views every query in docs/queries reads, for Spark SQL
-- (spark-sql -i spark/views.sql -f QUERY.sql): the Parquet exports of one
-- run, domains.parquet and hosts.parquet. A relative path is resolved
-- against Spark's default file system: the working directory in local
-- mode, the user's home on HDFS. Give full URIs (hdfs://, s3a://) here.
CREATE OR REPLACE TEMPORARY VIEW domains USING parquet OPTIONS (path 'domains.parquet');
CREATE OR REPLACE TEMPORARY VIEW hosts USING parquet OPTIONS (path 'hosts.parquet');
