-- Downgrade exposure shares per TLD: how the domains of each TLD split over
-- the downgrade_exposure verdicts (no-mail, plaintext, strippable, testing,
-- mta-sts, dane, dane+mta-sts, broken), as counts and as percentages of the
-- TLD's domains. Domains scanned without the probes have no verdict and
-- are counted as 'not-measured'.
--
-- Portable SQL: runs unchanged in DuckDB and in Spark SQL (3.3 or later).
WITH d AS (
	SELECT tld, COALESCE(NULLIF(downgrade_exposure, ''), 'not-measured') AS exposure
	FROM domains
)
SELECT
	tld,
	exposure,
	COUNT(*) AS domains,
	ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY tld), 1) AS pct_of_tld
FROM d
GROUP BY tld, exposure
ORDER BY tld, domains DESC, exposure;
