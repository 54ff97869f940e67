-- Joining the two exports: for each domain with an MX (or an implicit
-- one), the rows of the hosts export for its most preferred MX host, one
-- per address probed, then per TLD how many domains have that primary host
-- probed, and how many have every probed address of it offering STARTTLS,
-- presenting a PKIX-valid certificate for its name, and matching its TLSA
-- records (dane_result match-ee or match-ta).
--
-- An address counts as probed when its status is set and is not 'blocked'
-- (hosts that were resolved but not probed have no status). A domain
-- whose primary host has no such address counts in mx_domains only.
--
-- Portable SQL: runs unchanged in DuckDB and in Spark SQL (3.3 or later).
WITH m AS (
	SELECT domain, tld, split_part(split_part(mx_hosts, ';', 1), ':', 2) AS mx_host
	FROM domains
	WHERE mx_hosts <> ''
), a AS (
	SELECT
		m.domain,
		m.tld,
		SUM(CASE WHEN h.status <> '' AND h.status <> 'blocked'
			THEN 1 ELSE 0 END) AS probed,
		SUM(CASE WHEN h.status <> '' AND h.status <> 'blocked'
			AND h.starttls_offered = 'true' THEN 1 ELSE 0 END) AS starttls,
		SUM(CASE WHEN h.status <> '' AND h.status <> 'blocked'
			AND h.pkix_valid = 'true' THEN 1 ELSE 0 END) AS pkix,
		SUM(CASE WHEN h.status <> '' AND h.status <> 'blocked'
			AND h.dane_result IN ('match-ee', 'match-ta') THEN 1 ELSE 0 END) AS dane
	FROM m
	LEFT JOIN hosts h ON h.mx_host = m.mx_host
	GROUP BY m.domain, m.tld
)
SELECT
	tld,
	COUNT(*) AS mx_domains,
	SUM(CASE WHEN probed > 0 THEN 1 ELSE 0 END) AS primary_probed,
	SUM(CASE WHEN probed > 0 AND starttls = probed THEN 1 ELSE 0 END) AS primary_starttls,
	SUM(CASE WHEN probed > 0 AND pkix = probed THEN 1 ELSE 0 END) AS primary_pkix_valid,
	SUM(CASE WHEN probed > 0 AND dane = probed THEN 1 ELSE 0 END) AS primary_dane_match
FROM a
GROUP BY tld
ORDER BY mx_domains DESC, tld;
