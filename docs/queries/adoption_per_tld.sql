-- Adoption per TLD: the domains of each TLD, those that receive mail
-- (mx_status ok, or implicit: no MX but an address), and how many of the
-- mail domains have each protection, as counts and as percentages of the
-- mail domains (NULL when a TLD has none).
--
-- Portable SQL: runs unchanged in DuckDB and in Spark SQL (3.3 or later).
-- A column the scan did not measure is NULL in Parquet (empty in CSV), and
-- counts as "not adopted" here.
WITH d AS (
	SELECT
		tld,
		CASE WHEN mx_status IN ('ok', 'implicit') THEN 1 ELSE 0 END AS mail,
		CASE WHEN dnssec = 'secure' THEN 1 ELSE 0 END AS dnssec_secure,
		CASE WHEN starttls = 'all' THEN 1 ELSE 0 END AS starttls_all,
		CASE WHEN dane = 'valid' THEN 1 ELSE 0 END AS dane_valid,
		CASE WHEN mta_sts_policy = 'ok' AND mta_sts_mode = 'enforce'
			THEN 1 ELSE 0 END AS mta_sts_enforce,
		CASE WHEN tls_rpt = 'valid' THEN 1 ELSE 0 END AS tls_rpt,
		CASE WHEN dmarc IN ('reject', 'quarantine') THEN 1 ELSE 0 END AS dmarc_enforcing
	FROM domains
)
SELECT
	tld,
	COUNT(*) AS domains,
	SUM(mail) AS mail_domains,
	SUM(mail * dnssec_secure) AS dnssec_secure,
	ROUND(100.0 * SUM(mail * dnssec_secure) / NULLIF(SUM(mail), 0), 1) AS dnssec_secure_pct,
	SUM(mail * starttls_all) AS starttls_all,
	ROUND(100.0 * SUM(mail * starttls_all) / NULLIF(SUM(mail), 0), 1) AS starttls_all_pct,
	SUM(mail * dane_valid) AS dane_valid,
	ROUND(100.0 * SUM(mail * dane_valid) / NULLIF(SUM(mail), 0), 1) AS dane_valid_pct,
	SUM(mail * mta_sts_enforce) AS mta_sts_enforce,
	ROUND(100.0 * SUM(mail * mta_sts_enforce) / NULLIF(SUM(mail), 0), 1) AS mta_sts_enforce_pct,
	SUM(mail * tls_rpt) AS tls_rpt,
	ROUND(100.0 * SUM(mail * tls_rpt) / NULLIF(SUM(mail), 0), 1) AS tls_rpt_pct,
	SUM(mail * dmarc_enforcing) AS dmarc_enforcing,
	ROUND(100.0 * SUM(mail * dmarc_enforcing) / NULLIF(SUM(mail), 0), 1) AS dmarc_enforcing_pct
FROM d
GROUP BY tld
ORDER BY domains DESC, tld;
