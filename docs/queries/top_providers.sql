-- Top mail providers: domains grouped by the provider of their most
-- preferred MX host (the first pref:host of mx_hosts, which the export
-- sorts by preference), with what those domains have adopted.
--
-- The provider here is the last two labels of the host name, which is
-- right for provider.com and wrong under public suffixes of two labels
-- (co.uk): `mxcensus report --by provider` groups by the registrable
-- domain from the Public Suffix List and is the figure to publish. This
-- query shows the method on the Parquet files, where no PSL is at hand.
--
-- Portable SQL: runs unchanged in DuckDB and in Spark SQL (3.3 or later,
-- for split_part).
WITH p AS (
	SELECT
		split_part(split_part(mx_hosts, ';', 1), ':', 2) AS host,
		starttls, dane, mta_sts_policy, mta_sts_mode
	FROM domains
	WHERE mx_hosts <> ''
), q AS (
	SELECT
		CASE WHEN regexp_extract(host, '[^.]+[.][^.]+$', 0) = '' THEN host
			ELSE regexp_extract(host, '[^.]+[.][^.]+$', 0) END AS provider,
		starttls, dane, mta_sts_policy, mta_sts_mode
	FROM p
)
SELECT
	provider,
	COUNT(*) AS domains,
	ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 1) AS pct_of_mx_domains,
	SUM(CASE WHEN starttls = 'all' THEN 1 ELSE 0 END) AS starttls_all,
	SUM(CASE WHEN dane = 'valid' THEN 1 ELSE 0 END) AS dane_valid,
	SUM(CASE WHEN mta_sts_policy = 'ok' AND mta_sts_mode = 'enforce'
		THEN 1 ELSE 0 END) AS mta_sts_enforce
FROM q
GROUP BY provider
ORDER BY domains DESC, provider
LIMIT 25;
