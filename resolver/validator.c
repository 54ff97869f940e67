/**
 * \file
 * DNSSEC validation for the stub resolver (RFC 4033-4035, 5155, 8624, 9276).
 *
 * An answer is cut into RRsets. A signed RRset is checked against the keys
 * of the zone that signed it (the RRSIG signer); those keys are worth what
 * the chain above them is worth: the zone's DS RRset, signed by the parent,
 * validated with the parent's keys, and so on up to a trust anchor. An
 * unsigned RRset or denial is judged by what the DS question for its name
 * shows: an insecure delegation somewhere above (proven by NSEC/NSEC3, or a
 * DS RRset we cannot use) makes it insecure; a signed zone that should have
 * signed it makes it bogus.
 *
 * Everything is asynchronous on the resolver's loop. The unit of work and of
 * caching is the zone evaluation (struct vzone): "what does the DS question
 * for this name prove, and if it is a secure zone, which keys does it have".
 * One evaluation per name is in flight; later askers wait on it; its verdict
 * is kept (LRU, bounded) for the TTL of the records behind it, capped by
 * signature expiry. Below a name known to be an insecure delegation nothing
 * can be secure (without another anchor), so such names are judged insecure
 * without asking anything: in a census of a signed TLD the DS question is
 * asked once per delegated domain, never for names inside an unsigned zone.
 *
 * Answers are parsed with ldns, but for the plain answer a census meets
 * most (a domain's MX RRset and its RRSIGs, nothing else), which is read
 * straight from the wire: see "Plain answers, read from the wire".
 *
 * Signatures are checked with OpenSSL directly: the signed data is written
 * by hand from the records (canonical form and order, RFC 4034 §6), and
 * each zone key is turned into an OpenSSL key once, when it is first used,
 * and kept with the zone. ldns's own verification converts the DNSKEY on
 * every call (and OpenSSL 3 then exports that legacy key to its provider),
 * which cost as much as the signature check itself; ldns remains the
 * fallback for a key OpenSSL cannot take. Each verified RRset (its signed data and the
 * signature) is remembered for its TTL, so that an NSEC3 record denying the
 * DS of ten thousand domains is verified once.
 *
 * Work per answer is bounded: RRsets per answer, signatures tried per RRset,
 * keys per DNSKEY RRset, denial records per proof, and the chain is at most
 * as long as the name has labels.
 */
#include "resolver/validator.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/util.h"
#include "resolver/resolver_internal.h"

#define MAX_RRSETS 24      /* RRsets judged per answer */
#define MAX_SIGS 4         /* RRSIGs tried per RRset */
#define MAX_KEYS 32        /* DNSKEYs considered per zone */
#define MAX_DENIAL 16      /* NSEC/NSEC3 records considered per proof */
#define BOGUS_TTL 60       /* seconds a bogus zone verdict is kept */
#define INDET_TTL 5        /* ... an indeterminate one (a timeout) */
#define MIN_TTL 5

/* IANA's root KSKs (key tags 20326 and 38696) as DS records. */
static const char *const root_anchors[] = {
	". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
	". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

static const char *const reason_names[MXC_DR__COUNT] = {
#define XX(c, s) [MXC_DR_##c] = s,
	MXC_DNSSEC_REASONS(XX)
#undef XX
};

const char *mxc_dnssec_name(enum mxc_dnssec s)
{
	switch (s) {
	case MXC_DNSSEC_SECURE:
		return "secure";
	case MXC_DNSSEC_INSECURE:
		return "insecure";
	case MXC_DNSSEC_BOGUS:
		return "bogus";
	case MXC_DNSSEC_INDETERMINATE:
		return "indeterminate";
	case MXC_DNSSEC_NONE:
		break;
	}
	return "";
}

const char *mxc_dnssec_reason_name(enum mxc_dnssec_reason r)
{
	return (unsigned)r < MXC_DR__COUNT ? reason_names[r] : "";
}

/* ------------------------------------------------------------------------ */
/* Structures                                                               */

struct lru {
	struct lru *prev, *next;
};

struct vzone;
typedef void (*zone_fn)(void *arg, struct vzone *z);

struct zwait {
	zone_fn fn;
	void *arg;
	struct zwait *next;
};

/*
 * The evaluation of one name N: what the DS question for N proves.
 *   SECURE, cut:   N is the apex of a secure zone; keys is its DNSKEY RRset
 *   SECURE, !cut:  N lies inside a secure zone (proven not a delegation)
 *   INSECURE:      N is at or below an insecure delegation
 *   BOGUS / INDETERMINATE, with the reason
 */
/* A zone key as OpenSSL wants it, made when first needed. */
struct vkey {
	uint16_t tag;
	uint8_t alg;
	bool tried;             /* conversion attempted */
	EVP_PKEY *pkey;         /* NULL: unusable by OpenSSL, ldns decides */
};

struct vzone {
	struct lru lru;         /* in v->zlru while done, v->zpending before */
	char *key;              /* lower-case presentation name, trailing dot */
	ldns_rdf *name;
	bool done;
	unsigned busy;          /* notifications running: not evictable */
	struct mxc_val_result res;
	bool cut;
	ldns_rr_list *keys;
	struct vkey *vkeys;     /* one per record of keys, or NULL until used */
	uint64_t expires_ms;
	struct zwait *waiters;
	struct mxc_validator *v;
	/* while pending */
	ldns_rr_list *ds;       /* the DS RRset, then the usable part of it */
	ldns_rr_list *ds_sigs;
	ldns_rr_list *nsecs;    /* a denial to check once the signer is known */
	ldns_rr_list *nsec_sigs;
	uint32_t ttl;           /* minimum TTL seen along the way */
};

struct vseen {
	struct lru lru;
	char key[2 * 16 + 1];
	uint64_t expires_ms;
};

#define CTX_SLOTS 4           /* verification contexts kept per thread */
#define ATT_KEYS 4            /* keys of one tag and algorithm tried per signature */
#define SIGNED_DATA_MAX (1u << 22) /* the most an answer's RRset can expand to */

/* The canonical RDATA of one record of an RRset, for sorting. */
struct rdslot {
	size_t off;             /* in vcrypto.rdata, while it may still move */
	const uint8_t *p;       /* then fixed */
	uint16_t len;
	uint16_t cls;
};

/* A verification context made for one key, and a reference to the key so
 * that the pointer compared cannot be reused for another while kept. */
struct vslot {
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *ctx;
};

/*
 * What one thread needs to check signatures without allocating per check:
 * the signed data being built, a digest context, the digests fetched once,
 * and verification contexts for the last few keys used. An EVP_PKEY may be
 * shared between threads for verification but an EVP_PKEY_CTX may not, so
 * the loop's thread and every verification thread keep their own; setting
 * one up costs more than the digest it checks. Buffers only grow.
 */
struct vcrypto {
	struct mxc_buf data;    /* the signed data (RFC 4034 §3.1.8.1) */
	struct mxc_buf rdata;   /* scratch: each record's canonical RDATA */
	struct rdslot *order;
	size_t order_cap;
	EVP_MD_CTX *mdctx;
	EVP_MD *md[4];          /* SHA-1, SHA-256, SHA-384, SHA-512 */
	struct vslot slot[CTX_SLOTS];
	unsigned next_slot;
};

struct mxc_validator {
	mxc_val_query_fn query;
	void *query_ctx;
	struct mxc_validator_opts o;
	ldns_rr_list *anchors;    /* DS and/or DNSKEY records */
	ldns_rdf *anchor_names[8];
	size_t n_anchor_names;
	struct mxc_strmap zones;
	struct lru zlru;          /* done zones, most recent first */
	struct lru zpending;      /* zones being evaluated */
	size_t n_zones;
	struct mxc_strmap seen;
	struct lru slru;
	size_t n_seen;
	struct lru checks;        /* checks in flight */
	bool wire_path;           /* plain answers read from the wire (tests turn it off) */
	struct vcrypto crypto;    /* the loop thread's signature checks */
	uv_loop_t *loop;          /* the resolver's, for the verification threads */
	unsigned threads;         /* verification threads to start (0: none) */
	struct vpool *pool;       /* started on the first check it can take */
	struct mxc_validator_stats st;
	bool closing;
};

enum task_kind { T_SIGNED, T_UNSIGNED, T_DENIAL };

/*
 * The check of a plain answer (wire_plain), all of it in one allocation:
 * the RRSIGs and the records as read, then the message up to the end of its
 * answer section (NSCOUNT and ARCOUNT zeroed, so that it is also what the
 * general path would parse), the records' canonical RDATA and the name.
 */
struct fcheck {
	struct mxc_validator *v;
	mxc_val_cb cb;
	void *arg;
	const uint8_t *wire;    /* the message's head */
	const uint8_t *canon;   /* the records' canonical RDATA */
	const uint8_t *qname;   /* lower case */
	const struct wrr *rr;   /* rdata: offset in canon */
	const struct wsig *sig; /* rdata: offset in wire */
	uint32_t len;           /* of wire */
	uint16_t qtype;
	uint16_t nrr, nsig;
	uint8_t qname_len;
};

struct vcheck;

/* One RRset (or one denial) of an answer waiting for its zone's verdict. */
struct vtask {
	struct vcheck *c;
	enum task_kind kind;
	ldns_rr_list *rrset;    /* T_SIGNED */
	ldns_rr_list *sigs;     /* its RRSIGs, all by the same signer */
	ldns_rdf *qname;        /* T_SIGNED wildcard check, T_DENIAL */
	uint16_t qtype;
	struct vtask *next;
};

struct vcheck {
	struct lru link;
	struct mxc_validator *v;
	ldns_pkt *pkt;          /* question and answer; the tasks borrow its records */
	ldns_pkt *auth;         /* with the authority section, when a proof needs it */
	mxc_val_cb cb;
	void *arg;
	unsigned pending;
	struct mxc_val_result res;
	struct vtask *tasks;
};

static void lru_init(struct lru *l)
{
	l->prev = l->next = l;
}

static void lru_unlink(struct lru *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

static void lru_push(struct lru *head, struct lru *e)
{
	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

#define container(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

static int64_t now_s(const struct mxc_validator *v)
{
	return v->o.now ? v->o.now : (int64_t)time(NULL);
}

/* Worse verdicts win when an answer's parts are combined. */
static int rank(enum mxc_dnssec s)
{
	switch (s) {
	case MXC_DNSSEC_SECURE:
		return 1;
	case MXC_DNSSEC_INSECURE:
		return 2;
	case MXC_DNSSEC_INDETERMINATE:
		return 3;
	case MXC_DNSSEC_BOGUS:
		return 4;
	case MXC_DNSSEC_NONE:
		break;
	}
	return 0;
}

static struct mxc_val_result verdict(enum mxc_dnssec s, enum mxc_dnssec_reason r)
{
	struct mxc_val_result res = { s, s == MXC_DNSSEC_SECURE ? MXC_DR_NONE : r };

	return res;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

/* Room for the longest key name_key_into() makes. */
#define NAME_KEY_MAX (4 * (LDNS_MAX_DOMAINLEN + 1) + 2)

/*
 * A lower-case presentation key for the wire name @p d of @p len bytes
 * ("example.com.", other than letters, digits, '-', '_' and '*' as \DDD)
 * into @p buf (NAME_KEY_MAX bytes). Made from the wire form: ldns_rdf2str
 * formats through printf, and this runs once per answer. False when the
 * name is malformed.
 */
static bool name_key_into(const uint8_t *d, size_t len, char *buf)
{
	size_t i = 0, o = 0;

	while (i < len && d[i]) {
		size_t l = d[i++];

		if (l > len - i || o + 4 * l + 2 > NAME_KEY_MAX)
			return false;
		for (size_t k = 0; k < l; k++) {
			uint8_t ch = d[i++];

			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			    ch == '_' || ch == '*') {
				buf[o++] = (char)ch;
			} else {
				buf[o++] = '\\';
				buf[o++] = (char)('0' + ch / 100);
				buf[o++] = (char)('0' + ch / 10 % 10);
				buf[o++] = (char)('0' + ch % 10);
			}
		}
		buf[o++] = '.';
	}
	if (!o)
		buf[o++] = '.';
	buf[o] = '\0';
	return true;
}

/* The key of @p name (new string), or NULL. */
static char *name_key(const ldns_rdf *name)
{
	char buf[NAME_KEY_MAX];

	return name_key_into(ldns_rdf_data(name), ldns_rdf_size(name), buf) ? mxc_strdup(buf) :
									     NULL;
}

static uint8_t lower8(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * True when @p a equals @p b or lies below it: the wire forms compared from
 * the end at a label boundary, without case (ldns_dname_is_subdomain
 * allocates; this runs for every RRset judged).
 */
static bool wire_under_or_at(const uint8_t *da, size_t la, const uint8_t *db, size_t lb)
{
	size_t i = 0;

	if (!la || !lb || lb > la)
		return false;
	while (la - i > lb) {
		if (!da[i])
			return false;
		i += (size_t)da[i] + 1;
	}
	if (la - i != lb)
		return false;
	for (size_t k = 0; k < lb; k++)
		if (lower8(da[i + k]) != lower8(db[k]))
			return false;
	return true;
}

static bool under_or_at(const ldns_rdf *a, const ldns_rdf *b)
{
	return wire_under_or_at(ldns_rdf_data(a), ldns_rdf_size(a), ldns_rdf_data(b),
				ldns_rdf_size(b));
}

/* The ancestor of @p name with @p labels labels (new rdf), or NULL. */
static ldns_rdf *ancestor(const ldns_rdf *name, uint8_t labels)
{
	uint8_t n = ldns_dname_label_count(name);

	if (labels > n)
		return NULL;
	return ldns_dname_clone_from(name, (uint16_t)(n - labels));
}

/* ------------------------------------------------------------------------ */
/* Plain answers, read from the wire                                        */

/*
 * Most answers a census judges are plain: the question's RRset and the
 * RRSIGs over it, nothing else in the answer section. A domain's own MX
 * answer is one, and it is judged once per census; the ldns parse of the
 * general path (an allocation per field, some seventy per answer, all freed
 * again with the verdict) cost more than everything else the loop does for
 * it. So the validator reads such an answer itself: the header, the question
 * and every record of the answer section, more strictly than ldns does
 * (names: labels of at most 63 bytes, 255 bytes in all, compression pointers
 * only backwards and never into the header; RDATA exactly as long as its
 * fields), and it builds from them the very bytes the general path signs
 * (tests/unit/test_validator_wire.c holds one against the other). What it
 * does not take - another record in the answer, another type, a wildcard
 * expansion, a denial, a record or an RRSIG it cannot put in canonical form
 * - goes the general way, so an answer gets the same verdict either way.
 */
#define WIRE_MAX_RRS 32  /* records of the RRset */
#define WIRE_MAX_SIGS 8  /* RRSIGs over it */
#define RRSIG_FIXED 18   /* RRSIG RDATA before the signer's name */

/* One record of the RRset: its canonical RDATA, canonical-length bytes. */
struct wrr {
	uint32_t rdata;   /* offset in the message */
	uint16_t rdlen;
	uint16_t clen;    /* in canonical form (MX: the name uncompressed) */
};

/* One RRSIG over the RRset, its fields read, its bytes left in place. */
struct wsig {
	uint32_t rdata;   /* offset of the RDATA: fixed fields, signer, signature */
	uint16_t sig_len;
	uint8_t signer_len;  /* uncompressed, as RFC 4034 §3.1.7 wants it */
	uint8_t alg;
	uint16_t keytag;
	uint32_t orig_ttl, expiration, inception;
};

/* A plain answer, as wire_plain() reads it. */
struct wanswer {
	uint8_t qname[MXC_DNS_NAME_WIRE_MAX]; /* lower case */
	uint8_t qname_len;
	uint8_t qlabels;
	uint16_t qtype;
	uint32_t end;           /* offset just past the answer section */
	uint16_t nrr, nsig;
	uint32_t canon_len;     /* the records' canonical RDATA, all together */
	struct wrr rr[WIRE_MAX_RRS];
	struct wsig sig[WIRE_MAX_SIGS];
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The name at @p pos of @p m (@p len bytes), uncompressed and lower-cased
 * into @p out (MXC_DNS_NAME_WIRE_MAX bytes): its length in *olen, its labels
 * (the root not counted) in *labels, and in *end the offset just past it
 * where it sits. Compression is followed only when @p ptr allows it, and a
 * pointer must point before the labels it ends and past the header: so the
 * walk ends, and ldns_wire2dname reads the same name (but for case) from
 * every name this takes. False otherwise.
 */
static bool wire_name(const uint8_t *m, size_t len, size_t pos, bool ptr, uint8_t *out,
		      size_t *olen, uint8_t *labels, size_t *end)
{
	unsigned nl;

	if (mxc_dns_name_parse(m, len, pos, ptr ? MXC_DNS_NAME_BACK_PTR : MXC_DNS_NAME_NO_PTR,
			       out, olen, &nl, end) != 0)
		return false;
	*labels = (uint8_t)nl;
	return true;
}

/*
 * The canonical length of a record's RDATA (RFC 4034 §6.2) for the types
 * read from the wire, or 0 when the RDATA is not exactly what its type
 * holds (then ldns decides). MX is the one with a name: uncompressed, and
 * lower-cased when written (wire_canon).
 */
static uint16_t wire_rdata(const uint8_t *m, size_t len, size_t rd, uint16_t rdlen, uint16_t type)
{
	uint8_t name[MXC_DNS_NAME_WIRE_MAX], nl;
	size_t nlen, end;

	switch (type) {
	case LDNS_RR_TYPE_A:
		return rdlen == 4 ? 4 : 0;
	case LDNS_RR_TYPE_AAAA:
		return rdlen == 16 ? 16 : 0;
	case LDNS_RR_TYPE_TLSA:
		/* usage, selector, matching type, then the data */
		return rdlen > 3 ? rdlen : 0;
	case LDNS_RR_TYPE_MX:
		if (rdlen < 3 || !wire_name(m, len, rd + 2, true, name, &nlen, &nl, &end) ||
		    end != rd + rdlen)
			return 0;
		return (uint16_t)(2 + nlen);
	default:
		return 0;
	}
}

/* Write record @p r's canonical RDATA to @p out (r->clen bytes). */
static void wire_canon(const uint8_t *m, size_t len, const struct wrr *r, uint16_t type,
		       uint8_t *out)
{
	uint8_t nl;
	size_t nlen, end;

	if (type != LDNS_RR_TYPE_MX) {
		memcpy(out, m + r->rdata, r->rdlen);
		return;
	}
	memcpy(out, m + r->rdata, 2);
	/* read before by wire_rdata: cannot fail */
	if (!wire_name(m, len, r->rdata + 2, true, out + 2, &nlen, &nl, &end))
		memset(out + 2, 0, r->clen - 2u);
}

/* An RRSIG at @p rd of @p m (@p rdlen bytes, inside the message) over
 * @p a's RRset into @p g; false when it is not one wire_plain() takes. The
 * signer is read within the RDATA: it may not be compressed. */
static bool wire_rrsig(const uint8_t *m, size_t rd, uint16_t rdlen, const struct wanswer *a,
		       struct wsig *g)
{
	uint8_t name[MXC_DNS_NAME_WIRE_MAX], nl;
	size_t nlen, end, stop = rd + rdlen;

	if (rdlen < RRSIG_FIXED + 2 || rd16(m + rd) != a->qtype ||
	    /* a wildcard expansion needs its proof: the general path */
	    m[rd + 3] != a->qlabels ||
	    !wire_name(m, stop, rd + RRSIG_FIXED, false, name, &nlen, &nl, &end) || end >= stop)
		return false;
	g->rdata = (uint32_t)rd;
	g->signer_len = (uint8_t)nlen;
	g->sig_len = (uint16_t)(stop - end);
	g->alg = m[rd + 2];
	g->orig_ttl = rd32(m + rd + 4);
	g->expiration = rd32(m + rd + 8);
	g->inception = rd32(m + rd + 12);
	g->keytag = rd16(m + rd + 16);
	return true;
}

/*
 * Is @p m (@p len bytes) a plain answer: NOERROR, one question, and an
 * answer section of only the question's RRset (class IN, a type
 * wire_rdata() knows) and RRSIGs over it, at least one of each? Then @p a
 * describes it. The authority and additional sections are not read: no
 * plain answer needs them.
 */
static bool wire_plain(const uint8_t *m, size_t len, struct wanswer *a)
{
	uint8_t name[MXC_DNS_NAME_WIRE_MAX], nl;
	size_t pos, nlen;
	unsigned an;

	if (len < LDNS_HEADER_SIZE || len > UINT32_MAX || (m[3] & 0x0f) != LDNS_RCODE_NOERROR ||
	    rd16(m + 4) != 1 || (an = rd16(m + 6)) < 2)
		return false;
	if (!wire_name(m, len, LDNS_HEADER_SIZE, true, a->qname, &nlen, &a->qlabels, &pos) ||
	    pos + 4 > len)
		return false;
	a->qname_len = (uint8_t)nlen;
	a->qtype = rd16(m + pos);
	pos += 4;
	/* "*" as the first label: an answer to a question about the wildcard
	 * itself; rare, and the general path knows its labels rule */
	if (nlen > 2 && a->qname[0] == 1 && a->qname[1] == '*')
		return false;
	a->nrr = a->nsig = 0;
	a->canon_len = 0;
	for (unsigned i = 0; i < an; i++) {
		uint16_t type, rdlen, clen;
		size_t rd;

		if (!wire_name(m, len, pos, true, name, &nlen, &nl, &pos) || pos + 10 > len)
			return false;
		type = rd16(m + pos);
		rdlen = rd16(m + pos + 8);
		rd = pos + 10;
		if (rd + rdlen > len || rd16(m + pos + 2) != LDNS_RR_CLASS_IN ||
		    nlen != a->qname_len || memcmp(name, a->qname, nlen) != 0)
			return false;
		pos = rd + rdlen;
		if (type == a->qtype) {
			if (a->nrr == WIRE_MAX_RRS || !(clen = wire_rdata(m, len, rd, rdlen, type)))
				return false;
			a->rr[a->nrr].rdata = (uint32_t)rd;
			a->rr[a->nrr].rdlen = rdlen;
			a->rr[a->nrr].clen = clen;
			a->canon_len += clen;
			a->nrr++;
		} else if (type == LDNS_RR_TYPE_RRSIG) {
			if (a->nsig == WIRE_MAX_SIGS || !wire_rrsig(m, rd, rdlen, a, &a->sig[a->nsig]))
				return false;
			a->nsig++;
		} else {
			return false;
		}
	}
	a->end = (uint32_t)pos;
	return a->nrr && a->nsig;
}

/* ------------------------------------------------------------------------ */
/* Verified-RRset memory                                                    */

/*
 * The identity of (signed data, signature) in "seen": a SHA-256 prefix, in
 * hex. @p ctx is the validator's kept digest context (no allocation per
 * call). Returns false when hashing failed: then nothing is remembered.
 */
static bool rrset_key(const struct vcrypto *w, const ldns_rr *sig, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	const ldns_rdf *sr = ldns_rr_rrsig_sig(sig);
	const EVP_MD *sha256 = w->md[1] ? w->md[1] : EVP_sha256();
	EVP_MD_CTX *ctx = w->mdctx;
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (!ctx || !sr || !EVP_DigestInit_ex2(ctx, sha256, NULL) ||
	    !EVP_DigestUpdate(ctx, w->data.data, w->data.len) ||
	    !EVP_DigestUpdate(ctx, ldns_rdf_data(sr), ldns_rdf_size(sr)) ||
	    !EVP_DigestFinal_ex(ctx, md, NULL))
		return false;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = 0;
	return true;
}

static bool seen_get(struct mxc_validator *v, const char *key)
{
	struct vseen *s = mxc_strmap_get(&v->seen, key);

	if (!s)
		return false;
	if (s->expires_ms <= mxc_now_ms()) {
		mxc_strmap_del(&v->seen, s->key);
		lru_unlink(&s->lru);
		v->n_seen--;
		mxc_free(s);
		return false;
	}
	lru_unlink(&s->lru);
	lru_push(&v->slru, &s->lru);
	return true;
}

static void seen_put(struct mxc_validator *v, const char *key, uint32_t ttl)
{
	struct vseen *s;

	if (!v->o.cache_entries || mxc_strmap_get(&v->seen, key))
		return;
	while (v->n_seen >= v->o.cache_entries) {
		struct vseen *old = container(v->slru.prev, struct vseen, lru);

		/* Pushed out before its time: if it is needed again, it will be
		 * verified again (the benchmark's "verified twice" count). */
		if (old->expires_ms > mxc_now_ms())
			v->st.rrset_evicted_live++;
		mxc_strmap_del(&v->seen, old->key);
		lru_unlink(&old->lru);
		v->n_seen--;
		mxc_free(old);
	}
	s = mxc_malloc(sizeof(*s));
	if (!s)
		return;
	memcpy(s->key, key, sizeof(s->key));
	s->expires_ms = mxc_now_ms() + (uint64_t)ttl * 1000;
	lru_init(&s->lru);
	if (mxc_strmap_put(&v->seen, s->key, s)) {
		mxc_free(s);
		return;
	}
	lru_push(&v->slru, &s->lru);
	v->n_seen++;
}

/* ------------------------------------------------------------------------ */
/* Signatures                                                               */

/*
 * Has @p rr every field of its type? A record read from the wire may carry
 * fewer (an RDLENGTH of 0 parses), and ldns's accessors assume them.
 */
static bool rr_whole(const ldns_rr *rr)
{
	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_DNSKEY:
		return ldns_rr_rd_count(rr) == 4;
	case LDNS_RR_TYPE_RRSIG:
		return ldns_rr_rd_count(rr) == 9;
	case LDNS_RR_TYPE_NSEC:
		/* the type bitmap may be empty, and absent then */
		return ldns_rr_rd_count(rr) >= 1;
	case LDNS_RR_TYPE_NSEC3:
		return ldns_rr_rd_count(rr) >= 5;
	default:
		return true;
	}
}

/* The RRSIGs of @p sigs that cover @p type at @p owner (new list, may be empty). */
static ldns_rr_list *sigs_for(const ldns_rr_list *sigs, const ldns_rdf *owner, ldns_rr_type type)
{
	ldns_rr_list *out = ldns_rr_list_new();

	for (size_t i = 0; out && i < ldns_rr_list_rr_count(sigs); i++) {
		ldns_rr *s = ldns_rr_list_rr(sigs, i);
		ldns_rdf *tc = rr_whole(s) ? ldns_rr_rrsig_typecovered(s) : NULL;

		if (!tc || ldns_rdf2rr_type(tc) != type ||
		    ldns_dname_compare(ldns_rr_owner(s), owner) != 0)
			continue;
		ldns_rr_list_push_rr(out, s);
	}
	return out;
}

/* Replace each borrowed record of @p l by a copy it owns; NULL on failure. */
static ldns_rr_list *own(ldns_rr_list *l)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(l, i));

		if (!c) {
			/* the first i are ours, the rest borrowed */
			while (ldns_rr_list_rr_count(l) > i)
				ldns_rr_list_pop_rr(l);
			ldns_rr_list_deep_free(l);
			return NULL;
		}
		ldns_rr_list_set_rr(l, c, i);
	}
	return l;
}

static bool alg_usable(uint8_t alg)
{
	/* RFC 8624: RSAMD5, DSA and ECC-GOST are not to be validated. */
	if (alg == LDNS_RSAMD5 || alg == LDNS_DSA || alg == LDNS_DSA_NSEC3 || alg == 12)
		return false;
	return ldns_key_algo_supported(alg) != 0;
}

/* Seconds until the earliest expiration of @p sigs, at least MIN_TTL. */
static uint32_t sig_ttl(const struct mxc_validator *v, const ldns_rr *sig, uint32_t ttl)
{
	ldns_rdf *exp = ldns_rr_rrsig_expiration(sig);
	int64_t left;

	if (exp) {
		left = (int64_t)ldns_rdf2native_time_t(exp) - now_s(v);
		if (left < (int64_t)ttl)
			ttl = left < MIN_TTL ? MIN_TTL : (uint32_t)left;
	}
	return ttl;
}

static uint32_t min_ttl(const ldns_rr_list *l, uint32_t ttl)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_ttl(ldns_rr_list_rr(l, i)) < ttl)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(l, i));
	return ttl;
}

const EVP_MD *mxc_dnssec_alg_md(uint8_t alg)
{
	switch (alg) {
	case LDNS_RSASHA1:
	case LDNS_RSASHA1_NSEC3:
		return EVP_sha1();
	case LDNS_RSASHA256:
	case LDNS_ECDSAP256SHA256:
		return EVP_sha256();
	case LDNS_RSASHA512:
		return EVP_sha512();
	case LDNS_ECDSAP384SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

/* An RSA DNSKEY (RFC 3110: exponent length, exponent, modulus), or NULL. */
static EVP_PKEY *rsa_pkey(const uint8_t *k, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	size_t el, off;

	if (!bld || len < 3)
		goto out;
	if (k[0]) {
		el = k[0];
		off = 1;
	} else {
		el = (size_t)k[1] << 8 | k[2];
		off = 3;
	}
	if (el == 0 || off + el >= len)
		goto out;
	e = BN_bin2bn(k + off, (int)el, NULL);
	n = BN_bin2bn(k + off + el, (int)(len - off - el), NULL);
	if (!e || !n || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* An ECDSA DNSKEY (RFC 6605: the point's x and y), or NULL. */
static EVP_PKEY *ec_pkey(const uint8_t *k, size_t len, uint8_t alg)
{
	const char *group = alg == LDNS_ECDSAP256SHA256 ? "prime256v1" : "secp384r1";
	size_t want = alg == LDNS_ECDSAP256SHA256 ? 64 : 96;
	uint8_t point[1 + 96];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	if (len != want)
		return NULL;
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, k, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, len + 1);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* A DNSKEY record as an OpenSSL key, or NULL (then ldns verifies). */
static EVP_PKEY *dnskey_pkey(const ldns_rr *key, uint8_t alg)
{
	const ldns_rdf *pub = ldns_rr_dnskey_key(key);
	const uint8_t *d;
	size_t len;

	if (!pub)
		return NULL;
	d = ldns_rdf_data(pub);
	len = ldns_rdf_size(pub);
	switch (alg) {
	case LDNS_RSASHA1:
	case LDNS_RSASHA1_NSEC3:
	case LDNS_RSASHA256:
	case LDNS_RSASHA512:
		return rsa_pkey(d, len);
	case LDNS_ECDSAP256SHA256:
	case LDNS_ECDSAP384SHA384:
		return ec_pkey(d, len, alg);
	case LDNS_ED25519:
		return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, d, len) : NULL;
	case LDNS_ED448:
		return len == 57 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, d, len) : NULL;
	default:
		return NULL;
	}
}

EVP_PKEY *mxc_dnskey_pkey(const ldns_rr *key)
{
	const ldns_rdf *alg = ldns_rr_dnskey_algorithm(key);

	return alg ? dnskey_pkey(key, ldns_rdf2native_int8(alg)) : NULL;
}

/* The key cache of @p z, made on first use (tags and algorithms only). */
static struct vkey *zone_vkeys(struct vzone *z)
{
	size_t n = ldns_rr_list_rr_count(z->keys);

	if (z->vkeys || !n)
		return z->vkeys;
	z->vkeys = mxc_calloc(n, sizeof(*z->vkeys));
	for (size_t i = 0; z->vkeys && i < n; i++) {
		const ldns_rr *k = ldns_rr_list_rr(z->keys, i);
		const ldns_rdf *alg = ldns_rr_dnskey_algorithm(k);

		z->vkeys[i].tag = ldns_calc_keytag(k);
		z->vkeys[i].alg = alg ? ldns_rdf2native_int8(alg) : 0;
	}
	return z->vkeys;
}

static void zone_vkeys_free(struct vzone *z)
{
	for (size_t i = 0; z->vkeys && i < ldns_rr_list_rr_count(z->keys); i++)
		EVP_PKEY_free(z->vkeys[i].pkey);
	mxc_free(z->vkeys);
	z->vkeys = NULL;
}

/* Key @p i of @p z as an OpenSSL key, converted once and kept; NULL when
 * OpenSSL cannot take it (then ldns judges). */
static EVP_PKEY *vkey_pkey(struct vzone *z, size_t i)
{
	struct vkey *k = &z->vkeys[i];

	if (!k->tried) {
		k->tried = true;
		k->pkey = dnskey_pkey(ldns_rr_list_rr(z->keys, i), k->alg);
	}
	return k->pkey;
}

/* Lower-case a wire-format name in place (RFC 4034 §6.2). */
static void wire_name_lower(uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i]) {
		size_t l = p[i];

		for (size_t j = i + 1; j <= i + l && j < len; j++)
			if (p[j] >= 'A' && p[j] <= 'Z')
				p[j] = (uint8_t)(p[j] - 'A' + 'a');
		i += l + 1;
	}
}

/* Every byte of a name's wire form: length octets are below 64, so only
 * letters change (what ldns_dname2canonical does). */
static void bytes_lower(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (uint8_t)(p[i] - 'A' + 'a');
}

/*
 * The types whose RDATA names are lower-cased in the canonical form: RFC
 * 4034 §6.2 as RFC 6840 §5.1 left it, which is ldns_rr2canonical()'s list.
 * Signatures made by ldns-signzone and by every other signer we meet agree.
 */
static bool rdata_names_lowered(ldns_rr_type t)
{
	switch (t) {
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_MD:
	case LDNS_RR_TYPE_MF:
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_SOA:
	case LDNS_RR_TYPE_MB:
	case LDNS_RR_TYPE_MG:
	case LDNS_RR_TYPE_MR:
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_MINFO:
	case LDNS_RR_TYPE_MX:
	case LDNS_RR_TYPE_RP:
	case LDNS_RR_TYPE_AFSDB:
	case LDNS_RR_TYPE_RT:
	case LDNS_RR_TYPE_SIG:
	case LDNS_RR_TYPE_PX:
	case LDNS_RR_TYPE_NXT:
	case LDNS_RR_TYPE_NAPTR:
	case LDNS_RR_TYPE_KX:
	case LDNS_RR_TYPE_SRV:
	case LDNS_RR_TYPE_DNAME:
	case LDNS_RR_TYPE_A6:
	case LDNS_RR_TYPE_RRSIG:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------------ */
/* Signature checks (pure: run on the loop or on a verification thread)     */

static int vcrypto_init(struct vcrypto *w)
{
	static const char *const names[4] = { "SHA1", "SHA256", "SHA384", "SHA512" };

	memset(w, 0, sizeof(*w));
	mxc_buf_init(&w->data, SIGNED_DATA_MAX);
	mxc_buf_init(&w->rdata, SIGNED_DATA_MAX);
	w->mdctx = EVP_MD_CTX_new();
	/* A fetched digest saves the implicit fetch (a locked lookup by
	 * name) that the EVP_sha256() kind costs on every EVP_DigestInit. */
	for (int i = 0; i < 4; i++)
		w->md[i] = EVP_MD_fetch(NULL, names[i], NULL);
	return w->mdctx ? 0 : MXC_ENOMEM;
}

static void vcrypto_free(struct vcrypto *w)
{
	for (int i = 0; i < CTX_SLOTS; i++) {
		EVP_PKEY_CTX_free(w->slot[i].ctx);
		EVP_PKEY_free(w->slot[i].pkey);
	}
	for (int i = 0; i < 4; i++)
		EVP_MD_free(w->md[i]);
	EVP_MD_CTX_free(w->mdctx);
	mxc_buf_free(&w->data);
	mxc_buf_free(&w->rdata);
	mxc_free(w->order);
	memset(w, 0, sizeof(*w));
}

/* The digest algorithm @p alg signs with, fetched when possible. */
static const EVP_MD *vcrypto_md(const struct vcrypto *w, uint8_t alg)
{
	int i;

	switch (alg) {
	case LDNS_RSASHA1:
	case LDNS_RSASHA1_NSEC3:
		i = 0;
		break;
	case LDNS_RSASHA256:
	case LDNS_ECDSAP256SHA256:
		i = 1;
		break;
	case LDNS_ECDSAP384SHA384:
		i = 2;
		break;
	case LDNS_RSASHA512:
		i = 3;
		break;
	default:
		return NULL;
	}
	return w->md[i] ? w->md[i] : mxc_dnssec_alg_md(alg);
}

/* This thread's verification context for @p pkey, made on first use. */
static EVP_PKEY_CTX *vcrypto_ctx(struct vcrypto *w, EVP_PKEY *pkey, const EVP_MD *md)
{
	struct vslot *s;
	EVP_PKEY_CTX *ctx;

	for (int i = 0; i < CTX_SLOTS; i++)
		if (w->slot[i].pkey == pkey)
			return w->slot[i].ctx;
	s = &w->slot[w->next_slot++ % CTX_SLOTS];
	EVP_PKEY_CTX_free(s->ctx);
	EVP_PKEY_free(s->pkey);
	s->ctx = NULL;
	s->pkey = NULL;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_up_ref(pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	s->pkey = pkey;
	s->ctx = ctx;
	return ctx;
}

/* One INTEGER of a DER ECDSA-Sig-Value from a big-endian unsigned number. */
static uint8_t *der_int(uint8_t *p, const uint8_t *n, size_t len)
{
	while (len > 1 && !n[0]) {
		n++;
		len--;
	}
	*p++ = 0x02;
	*p++ = (uint8_t)(len + (n[0] >> 7));
	if (n[0] & 0x80)
		*p++ = 0;
	memcpy(p, n, len);
	return p + len;
}

static int rdslot_cmp(const void *a, const void *b)
{
	const struct rdslot *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	c = n ? memcmp(x->p, y->p, n) : 0;
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Room for @p n records in w->order. */
static bool order_room(struct vcrypto *w, size_t n)
{
	struct rdslot *o;

	if (n <= w->order_cap)
		return true;
	o = mxc_realloc(w->order, n * sizeof(*o));
	if (!o)
		return false;
	w->order = o;
	w->order_cap = n;
	return true;
}

/*
 * The records of the signed data, after the RRSIG fields already in
 * w->data: the @p n canonical RDATAs of w->order (p set) sorted (RFC 4034
 * §6.3), each behind @p owner (canonical), @p type, its class and the
 * original @p ttl. Shared by the ldns and the wire paths, so that both sign
 * the same bytes.
 */
static bool signed_records(struct vcrypto *w, const uint8_t *owner, size_t olen, uint16_t type,
			   uint32_t ttl, size_t n)
{
	if (n > 1)
		qsort(w->order, n, sizeof(*w->order), rdslot_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct rdslot *s = &w->order[i];

		if (mxc_buf_append(&w->data, owner, olen) || mxc_buf_append_u16(&w->data, type) ||
		    mxc_buf_append_u16(&w->data, s->cls) || mxc_buf_append_u32(&w->data, ttl) ||
		    mxc_buf_append_u16(&w->data, s->len) ||
		    (s->len && mxc_buf_append(&w->data, s->p, s->len)))
			return false;
	}
	return true;
}

/*
 * The data @p sig signs (RFC 4034 §3.1.8.1) into w->data: the RRSIG RDATA
 * without the signature (signer name in lower case), then @p rrset in
 * canonical form (original TTL, names lower-cased, a wildcard expansion
 * given back its "*" owner, RFC 4035 §5.3.2) and canonical order (RFC 4034
 * §6.3: by RDATA). Written straight from the records: no clone of the
 * RRset, no allocation once the buffers have grown. Byte for byte what
 * ldns_rr_list_clone + ldns_rr2canonical + ldns_rr_list_sort +
 * ldns_rr_list2buffer_wire made before. Returns false when it cannot be
 * built.
 */
static bool build_signed(struct vcrypto *w, const ldns_rr_list *rrset, const ldns_rr *sig)
{
	const ldns_rdf *lab = ldns_rr_rrsig_labels(sig);
	const ldns_rdf *ottl = ldns_rr_rrsig_origttl(sig);
	size_t n = ldns_rr_list_rr_count(rrset);
	uint8_t owner[LDNS_MAX_DOMAINLEN + 3];
	const ldns_rdf *on;
	const uint8_t *od;
	size_t olen, osize;
	uint8_t nl, sl, all;
	uint32_t ttl;

	if (!lab || !ottl || !n || ldns_rr_rd_count(sig) != 9)
		return false;
	mxc_buf_reset(&w->data);
	for (size_t i = 0; i < 8; i++) {
		const ldns_rdf *f = ldns_rr_rdf(sig, i);

		if (!f || mxc_buf_append(&w->data, ldns_rdf_data(f), ldns_rdf_size(f)))
			return false;
	}
	if (w->data.len < 18)
		return false;
	wire_name_lower(w->data.data + 18, w->data.len - 18);

	/* The owner, or the wildcard it was expanded from. */
	on = ldns_rr_owner(ldns_rr_list_rr(rrset, 0));
	od = ldns_rdf_data(on);
	osize = ldns_rdf_size(on);
	if (osize > LDNS_MAX_DOMAINLEN + 1)
		return false;
	all = ldns_dname_label_count(on);
	nl = all;
	sl = ldns_rdf2native_int8(lab);
	if (ldns_dname_is_wildcard(on))
		nl--;
	if (sl > nl) /* RFC 4035 §5.3.1 */
		return false;
	if (sl < nl) {
		size_t pos = 0;

		for (uint8_t k = 0; k < all - sl && pos < osize; k++)
			pos += (size_t)od[pos] + 1;
		if (pos >= osize)
			return false;
		owner[0] = 1;
		owner[1] = '*';
		memcpy(owner + 2, od + pos, osize - pos);
		olen = 2 + osize - pos;
	} else {
		memcpy(owner, od, osize);
		olen = osize;
	}
	bytes_lower(owner, olen);
	ttl = ldns_rdf2native_int32(ottl);

	/* Each record's RDATA in canonical form, then sorted. */
	if (!order_room(w, n))
		return false;
	mxc_buf_reset(&w->rdata);
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrset, i);
		bool lower = rdata_names_lowered(ldns_rr_get_type(rr));
		size_t off = w->rdata.len;

		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			const ldns_rdf *f = ldns_rr_rdf(rr, j);
			size_t at = w->rdata.len;

			if (!f || mxc_buf_append(&w->rdata, ldns_rdf_data(f), ldns_rdf_size(f)))
				return false;
			if (lower && ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME)
				bytes_lower(w->rdata.data + at, ldns_rdf_size(f));
		}
		if (w->rdata.len - off > 0xffff)
			return false;
		w->order[i].off = off;
		w->order[i].len = (uint16_t)(w->rdata.len - off);
		w->order[i].cls = (uint16_t)ldns_rr_get_class(rr);
	}
	for (size_t i = 0; i < n; i++)
		w->order[i].p = w->rdata.data ? w->rdata.data + w->order[i].off : NULL;
	return signed_records(w, owner, olen, (uint16_t)ldns_rr_get_type(ldns_rr_list_rr(rrset, 0)),
			      ttl, n);
}

/*
 * The data RRSIG @p g of plain answer @p f signs into w->data: the same
 * bytes build_signed() makes from ldns's records of the same answer (its
 * labels equal the owner's, so the owner is the question's name).
 */
static bool wire_signed(struct vcrypto *w, const struct fcheck *f, const struct wsig *g)
{
	mxc_buf_reset(&w->data);
	if (mxc_buf_append(&w->data, f->wire + g->rdata, RRSIG_FIXED + (size_t)g->signer_len) ||
	    !order_room(w, f->nrr))
		return false;
	bytes_lower(w->data.data + RRSIG_FIXED, g->signer_len);
	for (size_t i = 0; i < f->nrr; i++) {
		w->order[i].p = f->canon + f->rr[i].rdata;
		w->order[i].len = f->rr[i].clen;
		w->order[i].cls = LDNS_RR_CLASS_IN;
	}
	return signed_records(w, f->qname, f->qname_len, f->qtype, g->orig_ttl, f->nrr);
}

/*
 * The cryptographic check of signature @p s (algorithm @p alg, as the RRSIG
 * carries it) over w->data with @p keys (the signer's
 * keys of the signature's tag and algorithm, as OpenSSL keys): OK when one
 * of them verifies it, CRYPTO_BOGUS when none does, or
 * CRYPTO_NO_MATCHING_KEYTAG_DNSKEY when there is none to try.
 */
static ldns_status sig_crypto(struct vcrypto *w, uint8_t alg, const uint8_t *s, size_t slen,
			      EVP_PKEY *const *keys, size_t nkeys)
{
	const EVP_MD *md = vcrypto_md(w, alg);
	uint8_t der[2 + 2 * (3 + 48)];
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dglen = 0;

	if (!nkeys)
		return LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
	if (!s)
		return LDNS_STATUS_CRYPTO_BOGUS;
	if (alg == LDNS_ECDSAP256SHA256 || alg == LDNS_ECDSAP384SHA384) {
		/* DNSSEC carries r|s (RFC 6605 §4); OpenSSL wants DER. */
		size_t half = alg == LDNS_ECDSAP256SHA256 ? 32 : 48;
		uint8_t *p;

		if (slen != 2 * half)
			return LDNS_STATUS_CRYPTO_BOGUS;
		p = der_int(der + 2, s, half);
		p = der_int(p, s + half, half);
		der[0] = 0x30;
		der[1] = (uint8_t)(p - der - 2);
		s = der;
		slen = (size_t)(p - der);
	}
	if (md && (EVP_DigestInit_ex2(w->mdctx, md, NULL) != 1 ||
		   EVP_DigestUpdate(w->mdctx, w->data.data, w->data.len) != 1 ||
		   EVP_DigestFinal_ex(w->mdctx, dg, &dglen) != 1))
		return LDNS_STATUS_CRYPTO_BOGUS;
	for (size_t i = 0; i < nkeys; i++) {
		int ok = -1;

		if (md) {
			EVP_PKEY_CTX *ctx = vcrypto_ctx(w, keys[i], md);

			if (ctx)
				ok = EVP_PKEY_verify(ctx, s, slen, dg, dglen);
		} else {
			/* EdDSA hashes inside: a one-shot context per check. */
			EVP_MD_CTX *mc = EVP_MD_CTX_new();

			if (mc && EVP_DigestVerifyInit_ex(mc, NULL, NULL, NULL, NULL, keys[i], NULL) == 1)
				ok = EVP_DigestVerify(mc, s, slen, w->data.data, w->data.len);
			EVP_MD_CTX_free(mc);
		}
		if (ok == 1)
			return LDNS_STATUS_OK;
	}
	/* A forged signature leaves errors on this thread's queue. */
	ERR_clear_error();
	return LDNS_STATUS_CRYPTO_BOGUS;
}

/* A signature's validity window from @p inc to @p exp at @p now (RFC 4034
 * §3.1.5: serial number arithmetic, as ldns does). */
static ldns_status sig_window(uint32_t inc, uint32_t exp, int64_t now)
{
	uint32_t t = (uint32_t)now;

	if ((int32_t)(exp - inc) < 0)
		return LDNS_STATUS_CRYPTO_EXPIRATION_BEFORE_INCEPTION;
	if ((int32_t)(inc - t) > 0)
		return LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED;
	if ((int32_t)(exp - t) < 0)
		return LDNS_STATUS_CRYPTO_SIG_EXPIRED;
	return LDNS_STATUS_OK;
}

/* The window with the clock skew allowed either way. */
static ldns_status window_skew(uint32_t inc, uint32_t exp, int64_t now, uint32_t skew)
{
	ldns_status st = sig_window(inc, exp, now);

	if ((st == LDNS_STATUS_CRYPTO_SIG_EXPIRED &&
	     sig_window(inc, exp, now - skew) == LDNS_STATUS_OK) ||
	    (st == LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED &&
	     sig_window(inc, exp, now + skew) == LDNS_STATUS_OK))
		return LDNS_STATUS_OK;
	return st;
}

/* The same for an RRSIG record. */
static ldns_status sig_window_skew(const ldns_rr *sig, int64_t now, uint32_t skew)
{
	return window_skew(ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig)),
			   ldns_rdf2native_int32(ldns_rr_rrsig_expiration(sig)), now, skew);
}

/* Signature field of an RRSIG record for sig_crypto (NULL when absent). */
static ldns_status sig_crypto_rr(struct vcrypto *w, const ldns_rr *sig, EVP_PKEY *const *keys,
				 size_t nkeys)
{
	const ldns_rdf *sr = ldns_rr_rrsig_sig(sig);

	return sig_crypto(w, ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(sig)),
			  sr ? ldns_rdf_data(sr) : NULL, sr ? ldns_rdf_size(sr) : 0, keys, nkeys);
}

/*
 * The reason after a signature failed with @p st: a validity window beats a
 * plain mismatch, because "expired" is what an operator can act on.
 */
static enum mxc_dnssec_reason why_after(enum mxc_dnssec_reason why, ldns_status st)
{
	if (st == LDNS_STATUS_CRYPTO_SIG_EXPIRED)
		return MXC_DR_SIG_EXPIRED;
	if (st == LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED)
		return MXC_DR_SIG_NOT_YET_VALID;
	if (why != MXC_DR_SIG_EXPIRED && why != MXC_DR_SIG_NOT_YET_VALID)
		return MXC_DR_BAD_SIGNATURE;
	return why;
}

/* One signature to try, with the keys it may be made with. */
struct vattempt {
	const ldns_rr *sig;     /* NULL for a plain answer's: wsig */
	uint8_t wsig;           /* index in fcheck.sig */
	bool malformed;
	uint8_t nkeys;
	EVP_PKEY *keys[ATT_KEYS];
};

/*
 * The signatures of an RRset verify() would try, in its order, made ready
 * on the loop so that the check itself (plan_run) needs nothing but the
 * records, the keys and a vcrypto: it can run on any thread.
 */
struct vplan {
	enum mxc_dnssec_reason why; /* before any signature is tried */
	size_t n;
	struct vattempt a[MAX_SIGS];
};

/*
 * Is @p sig one that @p signer made with an algorithm we can use? A
 * signature of an unusable algorithm sets *why to unsupported-algorithm
 * while nothing else was found (any tried signature gives its own reason).
 * @p al receives the algorithm.
 */
static bool sig_usable(const ldns_rr *sig, const struct vzone *signer,
		       enum mxc_dnssec_reason *why, uint8_t *al)
{
	const ldns_rdf *sn = ldns_rr_rrsig_signame(sig);
	const ldns_rdf *alg = ldns_rr_rrsig_algorithm(sig);

	if (!sn || !alg || ldns_dname_compare(sn, signer->name) != 0)
		return false;
	*al = ldns_rdf2native_int8(alg);
	if (!alg_usable(*al)) {
		if (*why == MXC_DR_NO_RRSIG)
			*why = MXC_DR_UNSUPPORTED_ALG;
		return false;
	}
	return true;
}

/*
 * The OpenSSL keys of @p signer (whose converted keys are @p vk) with key
 * tag @p tag and algorithm @p al (a signature's), in key order, at most @p max of them.
 * Returns how many, -1 when a matching key is not OpenSSL's to check, or
 * -2 when more than @p max match (the first @p max are in @p keys).
 */
static int sig_keys(struct vzone *signer, const struct vkey *vk, uint16_t tag, uint8_t al,
		    EVP_PKEY **keys, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < ldns_rr_list_rr_count(signer->keys); k++) {
		if (vk[k].tag != tag || vk[k].alg != al)
			continue;
		if (n == max)
			return -2;
		keys[n] = vkey_pkey(signer, k);
		if (!keys[n++])
			return -1;
	}
	return (int)n;
}

/*
 * Make the plan for @p rrset's @p sigs by @p signer. Returns false when a
 * key the check needs is not OpenSSL's (then ldns judges, on the loop) or
 * when more keys share a tag than a plan holds.
 */
static bool plan_make(struct vzone *signer, const ldns_rr_list *sigs, struct vplan *p)
{
	struct vkey *vk = zone_vkeys(signer);

	p->why = MXC_DR_NO_RRSIG;
	p->n = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs) && p->n < MAX_SIGS; i++) {
		const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
		struct vattempt *a;
		uint8_t al;
		int nk;

		if (!sig_usable(sig, signer, &p->why, &al))
			continue;
		a = &p->a[p->n++];
		a->sig = sig;
		a->nkeys = 0;
		a->malformed = !ldns_rr_rrsig_keytag(sig) || !ldns_rr_rrsig_inception(sig) ||
			       !ldns_rr_rrsig_expiration(sig);
		if (a->malformed)
			continue;
		if (!vk && ldns_rr_list_rr_count(signer->keys))
			return false;
		nk = vk ? sig_keys(signer, vk, ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig)), al,
				   a->keys, ATT_KEYS) :
			  0;
		if (nk < 0)
			return false;
		a->nkeys = (size_t)nk;
	}
	return true;
}

/*
 * Carry out plan @p p on @p rrset (or on plain answer @p f's RRset when
 * not NULL): success with any signature is enough
 * (RFC 4035 §5.3.3); as ldns did, a signature is checked before its
 * validity window. Touches nothing but its arguments: safe on a
 * verification thread while the loop leaves the records alone.
 * @p nverify counts the signature verifications made.
 */
static struct mxc_val_result plan_run(struct vcrypto *w, const ldns_rr_list *rrset,
				      const struct fcheck *f, const struct vplan *p, int64_t now,
				      uint32_t skew, unsigned *nverify)
{
	enum mxc_dnssec_reason why = p->why;

	for (size_t i = 0; i < p->n; i++) {
		const struct vattempt *a = &p->a[i];
		const struct wsig *g = f ? &f->sig[a->wsig] : NULL;
		ldns_status st;

		if (a->malformed || !(g ? wire_signed(w, f, g) : build_signed(w, rrset, a->sig))) {
			why = why_after(why, LDNS_STATUS_ERR);
			continue;
		}
		++*nverify;
		if (g) {
			st = sig_crypto(w, g->alg, f->wire + g->rdata + RRSIG_FIXED + g->signer_len,
					g->sig_len, a->keys, a->nkeys);
			if (st == LDNS_STATUS_OK)
				st = window_skew(g->inception, g->expiration, now, skew);
		} else {
			st = sig_crypto_rr(w, a->sig, a->keys, a->nkeys);
			if (st == LDNS_STATUS_OK)
				st = sig_window_skew(a->sig, now, skew);
		}
		if (st == LDNS_STATUS_OK)
			return verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE);
		why = why_after(why, st);
	}
	/* Only signatures of algorithms we cannot use, from a zone whose
	 * DS RRset promised a usable one: still bogus (RFC 4035 §5.2). */
	return verdict(MXC_DNSSEC_BOGUS, why);
}

/*
 * Is @p rrset remembered once verified? A domain's MX RRset is judged once
 * in a census (each domain is scanned once): remembering it would only push
 * out what is shared (NSEC3 records, DS sets, the mail hosts' answers).
 */
static bool remembered(const ldns_rr_list *rrset)
{
	return ldns_rr_get_type(ldns_rr_list_rr(rrset, 0)) != LDNS_RR_TYPE_MX;
}

/*
 * Verify @p rrset with one of @p sigs made by zone @p signer with its keys,
 * on the loop. An RRset that is remembered is looked up first (by its
 * signed data and signature) and stored once verified; one that is not
 * follows the same plan a verification thread would.
 */
static struct mxc_val_result verify(struct mxc_validator *v, ldns_rr_list *rrset,
				    const ldns_rr_list *sigs, struct vzone *signer)
{
	enum mxc_dnssec_reason why = MXC_DR_NO_RRSIG;
	int64_t now = now_s(v);
	struct vkey *vk;
	size_t tried = 0;

	if (!remembered(rrset)) {
		struct vplan plan;

		if (plan_make(signer, sigs, &plan)) {
			unsigned n = 0;
			struct mxc_val_result res =
				plan_run(&v->crypto, rrset, NULL, &plan, now, v->o.skew, &n);

			v->st.sig_verify += n;
			return res;
		}
	}
	vk = zone_vkeys(signer);
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs) && tried < MAX_SIGS; i++) {
		ldns_rr *sig = ldns_rr_list_rr(sigs, i);
		EVP_PKEY *keys[MAX_KEYS];
		int nkeys = -1;
		char key[33];
		ldns_status st;
		bool have_key;
		uint8_t al;

		if (!sig_usable(sig, signer, &why, &al))
			continue;
		tried++;
		if (!ldns_rr_rrsig_keytag(sig) || !ldns_rr_rrsig_inception(sig) ||
		    !ldns_rr_rrsig_expiration(sig) || !build_signed(&v->crypto, rrset, sig)) {
			why = why_after(why, LDNS_STATUS_ERR);
			continue;
		}
		have_key = remembered(rrset) && rrset_key(&v->crypto, sig, key);
		if (have_key && seen_get(v, key)) {
			v->st.rrset_cached++;
			return verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE);
		}
		v->st.sig_verify++;
		/* More matching keys than MAX_KEYS: the first MAX_KEYS are tried. */
		if (vk)
			nkeys = sig_keys(signer, vk, ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig)),
					 al, keys, MAX_KEYS);
		if (nkeys == -2)
			nkeys = MAX_KEYS;
		st = nkeys >= 0 ? sig_crypto_rr(&v->crypto, sig, keys, (size_t)nkeys) :
				  ldns_verify_rrsig_keylist_notime(rrset, sig, signer->keys, NULL);
		if (st == LDNS_STATUS_OK)
			st = sig_window_skew(sig, now, v->o.skew);
		if (st == LDNS_STATUS_OK) {
			if (have_key)
				seen_put(v, key, sig_ttl(v, sig, min_ttl(rrset, v->o.max_ttl)));
			return verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE);
		}
		why = why_after(why, st);
	}
	return verdict(MXC_DNSSEC_BOGUS, why);
}

/* ------------------------------------------------------------------------ */
/* Denial of existence                                                      */

enum proof {
	PF_NONE,        /* nothing proven */
	PF_NODATA,      /* the name exists without the type */
	PF_NXDOMAIN,    /* the name does not exist (and no wildcard) */
	PF_NO_DS,       /* a delegation without DS: insecure below */
	PF_OPTOUT,      /* covered by an opt-out span: insecure below */
	PF_ITERATIONS,  /* NSEC3 too expensive to check: insecure (RFC 9276) */
	PF_UNSUPPORTED, /* NSEC3 hash we do not know: insecure */
	PF_COVERED,     /* (wildcard answers) the query name is covered */
};

static bool has_type(const ldns_rr *nsec, ldns_rr_type t)
{
	ldns_rdf *bm = ldns_nsec_get_bitmap(nsec);

	return bm && ldns_nsec_bitmap_covers_type(bm, t);
}

/* owner < name < next in canonical order, allowing the last record's wrap. */
static bool nsec_covers(const ldns_rr *nsec, const ldns_rdf *name)
{
	const ldns_rdf *owner = ldns_rr_owner(nsec);
	const ldns_rdf *next = ldns_rr_rdf(nsec, 0);

	if (!next)
		return false;
	if (ldns_dname_compare(owner, next) < 0)
		return ldns_dname_compare(owner, name) < 0 && ldns_dname_compare(name, next) < 0;
	/* the last NSEC of the zone: its next name is the apex */
	return ldns_dname_compare(owner, name) < 0 || ldns_dname_compare(name, next) < 0;
}

static enum proof nsec_proof(const ldns_rr_list *nsecs, const ldns_rdf *name, ldns_rr_type t)
{
	uint8_t nl = ldns_dname_label_count(name);
	ldns_rdf *ce = NULL;
	enum proof p = PF_NONE;
	bool covered = false;

	for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
		const ldns_rr *n = ldns_rr_list_rr(nsecs, i);

		if (ldns_dname_compare(ldns_rr_owner(n), name) == 0) {
			if (has_type(n, t) || has_type(n, LDNS_RR_TYPE_CNAME))
				return PF_NONE;
			if (t == LDNS_RR_TYPE_DS && has_type(n, LDNS_RR_TYPE_NS) &&
			    !has_type(n, LDNS_RR_TYPE_SOA))
				return PF_NO_DS;
			return PF_NODATA;
		}
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
		const ldns_rr *n = ldns_rr_list_rr(nsecs, i);
		const ldns_rdf *next = ldns_rr_rdf(n, 0);

		if (!nsec_covers(n, name))
			continue;
		/* An empty non-terminal: the next name lies below it. */
		if (next && ldns_dname_is_subdomain(next, name))
			return PF_NODATA;
		covered = true;
		/* The closest encloser: the longest ancestor of name that is an
		 * ancestor of (or equal to) one end of the covering span. */
		for (uint8_t k = (uint8_t)(nl - 1); k > 0 && !ce; k--) {
			ldns_rdf *a = ancestor(name, k);

			if (a && (under_or_at(ldns_rr_owner(n), a) || (next && under_or_at(next, a))))
				ce = a;
			else
				ldns_rdf_deep_free(a);
		}
		break;
	}
	if (!covered)
		return PF_NONE;
	if (!ce)
		ce = ldns_dname_new_frm_str(".");
	if (ce) {
		ldns_rdf *star = ldns_dname_new_frm_str("*");
		ldns_rdf *wc = star ? ldns_dname_cat_clone(star, ce) : NULL;

		for (size_t i = 0; wc && i < ldns_rr_list_rr_count(nsecs); i++) {
			const ldns_rr *n = ldns_rr_list_rr(nsecs, i);

			if (nsec_covers(n, wc)) {
				p = PF_NXDOMAIN;
				break;
			}
			/* The wildcard exists without the type: a wildcard NODATA. */
			if (ldns_dname_compare(ldns_rr_owner(n), wc) == 0 && !has_type(n, t) &&
			    !has_type(n, LDNS_RR_TYPE_CNAME)) {
				p = PF_NODATA;
				break;
			}
		}
		ldns_rdf_deep_free(star);
		ldns_rdf_deep_free(wc);
		ldns_rdf_deep_free(ce);
	}
	return p;
}

/* RFC 4648 base32hex, as NSEC3 owner labels use it; returns bytes or -1. */
static int b32hex_decode(const uint8_t *in, size_t len, uint8_t *out, size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = in[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'v')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			d = c - 'A' + 10;
		else
			return -1;
		acc = (acc << 5) | (unsigned)d;
		bits += 5;
		if (bits >= 8) {
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return (int)n;
}

struct n3params {
	uint8_t alg;
	uint16_t iter;
	uint8_t salt_len;
	const uint8_t *salt;
	const ldns_rdf *zone;  /* owner minus the hash label */
};

/* The iterated SHA-1 hash of @p name (RFC 5155 §5), 20 bytes. */
static void n3_hash(const struct n3params *p, const ldns_rdf *name, uint8_t out[20])
{
	uint8_t buf[LDNS_MAX_DOMAINLEN + 1 + 255];
	size_t len = ldns_rdf_size(name);

	memcpy(buf, ldns_rdf_data(name), len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (uint8_t)(buf[i] - 'A' + 'a');
	memcpy(buf + len, p->salt, p->salt_len);
	SHA1(buf, len + p->salt_len, out);
	for (unsigned k = 0; k < p->iter; k++) {
		memcpy(buf, out, 20);
		memcpy(buf + 20, p->salt, p->salt_len);
		SHA1(buf, 20u + p->salt_len, out);
	}
}

/* The owner hash and next hash of an NSEC3 record; false if malformed. */
static bool n3_ends(const ldns_rr *n3, uint8_t own[20], uint8_t nxt[20])
{
	const ldns_rdf *o = ldns_rr_owner(n3);
	const ldns_rdf *next = ldns_rr_rdf(n3, 4);
	const uint8_t *d = ldns_rdf_data(o);

	if (!next || ldns_rdf_size(next) != 21 || ldns_rdf_data(next)[0] != 20 ||
	    ldns_rdf_size(o) < 1 || d[0] != 32)
		return false;
	if (b32hex_decode(d + 1, 32, own, 20) != 20)
		return false;
	memcpy(nxt, ldns_rdf_data(next) + 1, 20);
	return true;
}

static bool n3_in_zone(const ldns_rr *n3, const struct n3params *p)
{
	ldns_rdf *z = ldns_dname_left_chop(ldns_rr_owner(n3));
	bool ok = z && ldns_dname_compare(z, p->zone) == 0;

	ldns_rdf_deep_free(z);
	return ok;
}

static const ldns_rr *n3_match(const ldns_rr_list *l, const struct n3params *p,
			       const ldns_rdf *name)
{
	uint8_t h[20], own[20], nxt[20];

	n3_hash(p, name, h);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *n3 = ldns_rr_list_rr(l, i);

		if (n3_in_zone(n3, p) && n3_ends(n3, own, nxt) && memcmp(own, h, 20) == 0)
			return n3;
	}
	return NULL;
}

static const ldns_rr *n3_cover(const ldns_rr_list *l, const struct n3params *p,
			       const ldns_rdf *name)
{
	uint8_t h[20], own[20], nxt[20];

	n3_hash(p, name, h);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *n3 = ldns_rr_list_rr(l, i);
		int a, b;

		if (!n3_in_zone(n3, p) || !n3_ends(n3, own, nxt))
			continue;
		a = memcmp(own, h, 20);
		b = memcmp(h, nxt, 20);
		if (memcmp(own, nxt, 20) < 0 ? (a < 0 && b < 0) : (a < 0 || b < 0))
			return n3;
	}
	return NULL;
}

/*
 * NSEC3 proofs (RFC 5155 §8): a matching record for NODATA and for an
 * insecure delegation; the closest encloser proof (a match for the
 * encloser, a cover for the next closer name) plus a cover for the wildcard
 * for NXDOMAIN; an opt-out cover of the next closer name for a delegation
 * that may be unsigned.
 */
static enum proof nsec3_proof(const struct mxc_validator *v, const ldns_rr_list *l,
			      const ldns_rdf *name, ldns_rr_type t, bool wildcard_only)
{
	const ldns_rr *first = ldns_rr_list_rr(l, 0);
	struct n3params p;
	ldns_rdf *zone, *salt;
	enum proof res = PF_NONE;
	uint8_t nl = ldns_dname_label_count(name);

	if (!first)
		return PF_NONE;
	salt = ldns_rr_rdf(first, 3);
	zone = ldns_dname_left_chop(ldns_rr_owner(first));
	if (!zone || !salt || ldns_rdf_size(salt) < 1) {
		ldns_rdf_deep_free(zone);
		return PF_NONE;
	}
	p.alg = ldns_nsec3_algorithm(first);
	p.iter = ldns_nsec3_iterations(first);
	p.salt_len = ldns_rdf_data(salt)[0];
	p.salt = ldns_rdf_data(salt) + 1;
	p.zone = zone;
	if (p.salt_len + 1u != ldns_rdf_size(salt))
		goto out;
	if (p.alg != 1) {
		res = PF_UNSUPPORTED;
		goto out;
	}
	if (p.iter > v->o.nsec3_max_iterations) {
		res = PF_ITERATIONS;
		goto out;
	}
	if (wildcard_only) {
		/* name is the next closer name of a wildcard answer */
		res = n3_cover(l, &p, name) ? PF_COVERED : PF_NONE;
		goto out;
	}
	{
		const ldns_rr *m = n3_match(l, &p, name);

		if (m) {
			if (has_type(m, t) || has_type(m, LDNS_RR_TYPE_CNAME))
				res = PF_NONE;
			else if (t == LDNS_RR_TYPE_DS && has_type(m, LDNS_RR_TYPE_NS) &&
				 !has_type(m, LDNS_RR_TYPE_SOA))
				res = PF_NO_DS;
			else
				res = PF_NODATA;
			goto out;
		}
	}
	for (uint8_t k = (uint8_t)(nl - 1); k >= ldns_dname_label_count(zone) && k > 0; k--) {
		ldns_rdf *ce = ancestor(name, k);
		ldns_rdf *nc = ancestor(name, (uint8_t)(k + 1));
		const ldns_rr *cov;

		if (!ce || !nc || !n3_match(l, &p, ce)) {
			ldns_rdf_deep_free(ce);
			ldns_rdf_deep_free(nc);
			continue;
		}
		cov = n3_cover(l, &p, nc);
		if (cov && ldns_nsec3_optout(cov)) {
			/* An opt-out span may hide an unsigned delegation: for a DS
			 * that proves an insecure one, and any other denial under it
			 * is insecure too (RFC 5155 9.2). */
			res = PF_OPTOUT;
		} else if (cov) {
			ldns_rdf *star = ldns_dname_new_frm_str("*");
			ldns_rdf *wc = star ? ldns_dname_cat_clone(star, ce) : NULL;
			const ldns_rr *wm = wc ? n3_match(l, &p, wc) : NULL;

			if (wc && n3_cover(l, &p, wc))
				res = PF_NXDOMAIN;
			else if (wm && !has_type(wm, t) && !has_type(wm, LDNS_RR_TYPE_CNAME))
				res = PF_NODATA;
			ldns_rdf_deep_free(star);
			ldns_rdf_deep_free(wc);
		}
		ldns_rdf_deep_free(ce);
		ldns_rdf_deep_free(nc);
		break;
	}
out:
	ldns_rdf_deep_free(zone);
	return res;
}

/* NSEC or NSEC3, whichever the records are. */
static enum proof denial_proof(const struct mxc_validator *v, const ldns_rr_list *nsecs,
			       const ldns_rdf *name, ldns_rr_type t)
{
	const ldns_rr *first = ldns_rr_list_rr(nsecs, 0);

	if (!first)
		return PF_NONE;
	if (ldns_rr_get_type(first) == LDNS_RR_TYPE_NSEC3)
		return nsec3_proof(v, nsecs, name, t, false);
	return nsec_proof(nsecs, name, t);
}

/* Verify every NSEC/NSEC3 RRset of @p nsecs with the zone's keys. */
static struct mxc_val_result verify_denial(struct mxc_validator *v, const ldns_rr_list *nsecs,
					   const ldns_rr_list *sigs, struct vzone *z)
{
	struct mxc_val_result res = verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE);

	for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs) && i < MAX_DENIAL; i++) {
		ldns_rr *n = ldns_rr_list_rr(nsecs, i);
		ldns_rr_list *set = ldns_rr_list_new();
		ldns_rr_list *s = sigs_for(sigs, ldns_rr_owner(n), ldns_rr_get_type(n));

		if (!set || !s) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(s);
			return verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
		}
		ldns_rr_list_push_rr(set, n);
		res = verify(v, set, s, z);
		ldns_rr_list_free(set);
		ldns_rr_list_free(s);
		if (res.status != MXC_DNSSEC_SECURE)
			break;
	}
	return res;
}

/*
 * The NSEC/NSEC3 records and all RRSIGs of a section, in new lists: copies
 * of the records (free with ldns_rr_list_deep_free), or with @p borrow the
 * section's own records, for lists freed (ldns_rr_list_free) before the
 * section is: a denial's check clones nothing then.
 */
static void split_denial(const ldns_rr_list *sec, bool borrow, ldns_rr_list **nsecs,
			 ldns_rr_list **sigs)
{
	*nsecs = ldns_rr_list_new();
	*sigs = ldns_rr_list_new();
	for (size_t i = 0; *nsecs && *sigs && i < ldns_rr_list_rr_count(sec); i++) {
		ldns_rr *rr = ldns_rr_list_rr(sec, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (!rr_whole(rr))
			continue;
		if ((t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) &&
		    ldns_rr_list_rr_count(*nsecs) < MAX_DENIAL)
			ldns_rr_list_push_rr(*nsecs, borrow ? rr : ldns_rr_clone(rr));
		else if (t == LDNS_RR_TYPE_RRSIG)
			ldns_rr_list_push_rr(*sigs, borrow ? rr : ldns_rr_clone(rr));
	}
}

/* The signer named by the first whole RRSIG over NSEC/NSEC3/SOA in @p rrs
 * (a section, or the RRSIGs split_denial took from one). */
static const ldns_rdf *denial_signer(const ldns_rr_list *rrs)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *s = ldns_rr_list_rr(rrs, i);
		ldns_rdf *tc;
		ldns_rr_type t;

		if (ldns_rr_get_type(s) != LDNS_RR_TYPE_RRSIG || !rr_whole(s))
			continue;
		tc = ldns_rr_rrsig_typecovered(s);
		t = tc ? ldns_rdf2rr_type(tc) : 0;
		if (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_SOA)
			return ldns_rr_rrsig_signame(s);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Zone evaluations                                                         */

static void zone_eval(struct mxc_validator *v, const ldns_rdf *name, zone_fn fn, void *arg);

static void zone_scratch_free(struct vzone *z)
{
	ldns_rr_list_deep_free(z->ds);
	ldns_rr_list_deep_free(z->ds_sigs);
	ldns_rr_list_deep_free(z->nsecs);
	ldns_rr_list_deep_free(z->nsec_sigs);
	z->ds = z->ds_sigs = z->nsecs = z->nsec_sigs = NULL;
}

static void zone_free(struct vzone *z)
{
	zone_scratch_free(z);
	zone_vkeys_free(z);
	ldns_rr_list_deep_free(z->keys);
	ldns_rdf_deep_free(z->name);
	mxc_free(z->key);
	mxc_free(z);
}

static void zone_evict(struct mxc_validator *v)
{
	struct lru *e = v->zlru.prev;

	while (v->n_zones > v->o.cache_entries && e != &v->zlru) {
		struct vzone *z = container(e, struct vzone, lru);

		e = e->prev;
		if (z->busy || z->waiters)
			continue;
		mxc_strmap_del(&v->zones, z->key);
		lru_unlink(&z->lru);
		v->n_zones--;
		zone_free(z);
	}
}

/* Record the verdict of @p z and tell everyone waiting on it. */
static void zone_finish(struct vzone *z, struct mxc_val_result res, bool cut, uint32_t ttl)
{
	struct mxc_validator *v = z->v;
	struct zwait *w = z->waiters;

	if (res.status == MXC_DNSSEC_BOGUS && ttl > BOGUS_TTL)
		ttl = BOGUS_TTL;
	if (res.status == MXC_DNSSEC_INDETERMINATE)
		ttl = INDET_TTL;
	if (ttl > v->o.max_ttl)
		ttl = v->o.max_ttl;
	if (ttl < MIN_TTL)
		ttl = MIN_TTL;
	z->res = res;
	z->cut = cut && res.status == MXC_DNSSEC_SECURE;
	if (res.status != MXC_DNSSEC_SECURE) {
		zone_vkeys_free(z);
		ldns_rr_list_deep_free(z->keys);
		z->keys = NULL;
	}
	z->done = true;
	z->expires_ms = mxc_now_ms() + (uint64_t)ttl * 1000;
	zone_scratch_free(z);
	z->waiters = NULL;
	lru_unlink(&z->lru);
	lru_push(&v->zlru, &z->lru);
	z->busy++;
	while (w) {
		struct zwait *next = w->next;

		w->fn(w->arg, z);
		mxc_free(w);
		w = next;
	}
	z->busy--;
	zone_evict(v);
}

/* The anchor zone @p name falls under (deepest), or NULL. */
static const ldns_rdf *anchor_of(const struct mxc_validator *v, const ldns_rdf *name)
{
	const ldns_rdf *best = NULL;

	for (size_t i = 0; i < v->n_anchor_names; i++) {
		const ldns_rdf *a = v->anchor_names[i];

		if (under_or_at(name, a) &&
		    (!best || ldns_dname_label_count(a) > ldns_dname_label_count(best)))
			best = a;
	}
	return best;
}

static bool is_anchor(const struct mxc_validator *v, const ldns_rdf *name)
{
	for (size_t i = 0; i < v->n_anchor_names; i++)
		if (ldns_dname_compare(v->anchor_names[i], name) == 0)
			return true;
	return false;
}

/* Is an ancestor of @p name (below its anchor) known to be insecure? */
static bool below_insecure(struct mxc_validator *v, const ldns_rdf *name, const ldns_rdf *anchor)
{
	uint8_t nl = ldns_dname_label_count(name);
	uint8_t al = ldns_dname_label_count(anchor);
	uint64_t now = mxc_now_ms();

	for (uint8_t k = (uint8_t)(nl - 1); k > al; k--) {
		ldns_rdf *a = ancestor(name, k);
		char *key = a ? name_key(a) : NULL;
		struct vzone *z = key ? mxc_strmap_get(&v->zones, key) : NULL;
		bool hit = z && z->done && z->expires_ms > now &&
			   z->res.status == MXC_DNSSEC_INSECURE;

		mxc_free(key);
		ldns_rdf_deep_free(a);
		if (hit)
			return true;
	}
	return false;
}

struct zq {
	struct vzone *z;
	uint16_t type;
	bool again;  /* this is the retry of a SERVFAIL */
};

static void on_zone_answer(void *arg, const struct mxc_dns_answer *a);

static void zone_ask_flags(struct vzone *z, uint16_t type, bool again)
{
	struct mxc_validator *v = z->v;
	struct zq *q = mxc_malloc(sizeof(*q));
	char *name = ldns_rdf2str(z->name);
	int r = MXC_ENOMEM;

	if (q && name) {
		q->z = z;
		q->type = type;
		q->again = again;
		v->st.queries++;
		r = v->query(v->query_ctx, name, type,
			     MXC_DNS_PRIORITY | (again ? MXC_DNS_NOCACHE : 0), on_zone_answer, q);
	}
	LDNS_FREE(name);
	if (r) {
		mxc_free(q);
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
	}
}

static void zone_ask(struct vzone *z, uint16_t type)
{
	zone_ask_flags(z, type, false);
}

/*
 * The DNSKEY RRset of an anchor or of a zone with a usable DS RRset
 * (z->ds): a key that matches a DS (or is an anchor key) must sign the RRset.
 */
static void on_dnskey(struct vzone *z, const ldns_pkt *pkt)
{
	struct mxc_validator *v = z->v;
	ldns_rr_list *ans = ldns_pkt_answer(pkt);
	ldns_rr_list *keys = ldns_rr_list_new();
	ldns_rr_list *sep = ldns_rr_list_new();
	ldns_rr_list *sigs = ldns_rr_list_new();
	const ldns_rr_list *trust = z->ds ? z->ds : v->anchors;
	struct vzone signer = { 0 };
	struct mxc_val_result res;
	uint32_t ttl;

	if (!keys || !sep || !sigs) {
		res = verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_dname_compare(ldns_rr_owner(rr), z->name) != 0)
			continue;
		if (!rr_whole(rr))
			continue;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY &&
		    ldns_rr_list_rr_count(keys) < MAX_KEYS)
			ldns_rr_list_push_rr(keys, ldns_rr_clone(rr));
		else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
			ldns_rr_list_push_rr(sigs, ldns_rr_clone(rr));
	}
	if (!ldns_rr_list_rr_count(keys)) {
		res = verdict(MXC_DNSSEC_BOGUS, MXC_DR_NO_DNSKEY);
		goto out;
	}
	/* The keys the parent (or the anchor) vouches for. */
	for (size_t i = 0; i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rr *k = ldns_rr_list_rr(keys, i);
		uint16_t tag = ldns_calc_keytag(k);
		ldns_rdf *kalg = ldns_rr_dnskey_algorithm(k);

		for (size_t j = 0; j < ldns_rr_list_rr_count(trust); j++) {
			ldns_rr *t = ldns_rr_list_rr(trust, j);
			bool match = false;

			if (ldns_dname_compare(ldns_rr_owner(t), z->name) != 0)
				continue;
			if (ldns_rr_get_type(t) == LDNS_RR_TYPE_DNSKEY) {
				match = ldns_rr_compare(t, k) == 0 ||
					(ldns_calc_keytag(t) == tag &&
					 ldns_rdf_compare(ldns_rr_rdf(t, 3), ldns_rr_rdf(k, 3)) == 0);
			} else if (ldns_rr_get_type(t) == LDNS_RR_TYPE_DS &&
				   ldns_rdf2native_int16(ldns_rr_rdf(t, 0)) == tag && kalg &&
				   ldns_rdf2native_int8(ldns_rr_rdf(t, 1)) ==
					   ldns_rdf2native_int8(kalg)) {
				ldns_rr *d = ldns_key_rr2ds(
					k, (ldns_hash)ldns_rdf2native_int8(ldns_rr_rdf(t, 2)));

				match = d && ldns_rr_compare_ds(d, t);
				ldns_rr_free(d);
			}
			if (match) {
				ldns_rr_list_push_rr(sep, k);
				break;
			}
		}
	}
	if (!ldns_rr_list_rr_count(sep)) {
		res = verdict(MXC_DNSSEC_BOGUS, MXC_DR_NO_MATCHING_DS);
		goto out;
	}
	signer.name = z->name;
	signer.keys = sep;
	{
		ldns_rr_list *ks = sigs_for(sigs, z->name, LDNS_RR_TYPE_DNSKEY);
		ldns_rr_list *set = ldns_rr_list_clone(keys);

		res = ks && set ? verify(v, set, ks, &signer) :
				  verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
		/* The keys converted for this check belong to the stack copy. */
		zone_vkeys_free(&signer);
		ldns_rr_list_free(ks);
		ldns_rr_list_deep_free(set);
	}
	if (res.status == MXC_DNSSEC_SECURE) {
		ttl = min_ttl(keys, z->ttl);
		for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++)
			ttl = sig_ttl(v, ldns_rr_list_rr(sigs, i), ttl);
		z->keys = keys;
		keys = NULL;
		ldns_rr_list_free(sep);
		ldns_rr_list_deep_free(sigs);
		zone_finish(z, res, true, ttl);
		return;
	}
out:
	ldns_rr_list_free(sep);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(sigs);
	zone_finish(z, res, false, z->ttl);
}

/* DS RRsets of algorithms or digests we cannot use count as absent (RFC 4035 5.2). */
static size_t usable_ds(ldns_rr_list *ds)
{
	size_t n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(ds); i++) {
		ldns_rr *d = ldns_rr_list_rr(ds, i);
		uint8_t alg = ldns_rdf2native_int8(ldns_rr_rdf(d, 1));
		uint8_t dig = ldns_rdf2native_int8(ldns_rr_rdf(d, 2));

		if (alg_usable(alg) && (dig == LDNS_SHA1 || dig == LDNS_SHA256 || dig == LDNS_SHA384))
			n++;
	}
	return n;
}

/*
 * What a signer zone makes of everything it signed when it cannot vouch for
 * it (not secure, or not a zone apex); status NONE when its keys can be used.
 */
static struct mxc_val_result signer_unusable(const struct vzone *p)
{
	struct mxc_val_result none = { MXC_DNSSEC_NONE, MXC_DR_NONE };

	if (!p)
		return verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
	if (p->res.status != MXC_DNSSEC_SECURE)
		return p->res;
	if (!p->cut)
		return verdict(MXC_DNSSEC_BOGUS, MXC_DR_SIGNER_NOT_ZONE);
	return none;
}

/* The zone that signed z's DS RRset is known: check the DS, then ask DNSKEY. */
static void ds_signer_ready(void *arg, struct vzone *p)
{
	struct vzone *z = arg;
	struct mxc_val_result res;

	res = signer_unusable(p);
	if (res.status != MXC_DNSSEC_NONE) {
		zone_finish(z, res, false, z->ttl);
		return;
	}
	res = verify(z->v, z->ds, z->ds_sigs, p);
	if (res.status != MXC_DNSSEC_SECURE) {
		zone_finish(z, res, false, z->ttl);
		return;
	}
	if (!usable_ds(z->ds)) {
		zone_finish(z, verdict(MXC_DNSSEC_INSECURE, MXC_DR_UNSUPPORTED_ALG), false, z->ttl);
		return;
	}
	zone_ask(z, LDNS_RR_TYPE_DNSKEY);
}

/* An unsigned DS answer: worth what the zone that gave it is worth. */
static void ds_unsigned_ready(void *arg, struct vzone *p)
{
	struct vzone *z = arg;

	if (p->res.status == MXC_DNSSEC_SECURE)
		zone_finish(z, verdict(MXC_DNSSEC_BOGUS, MXC_DR_NO_RRSIG), false, z->ttl);
	else
		zone_finish(z, p->res, false, z->ttl);
}

/* A signed denial of z's DS: which of the proofs does it make? */
static void ds_denial_ready(void *arg, struct vzone *p)
{
	struct vzone *z = arg;
	struct mxc_val_result res;

	res = signer_unusable(p);
	if (res.status != MXC_DNSSEC_NONE) {
		zone_finish(z, res, false, z->ttl);
		return;
	}
	res = verify_denial(z->v, z->nsecs, z->nsec_sigs, p);
	if (res.status != MXC_DNSSEC_SECURE) {
		zone_finish(z, res, false, z->ttl);
		return;
	}
	switch (denial_proof(z->v, z->nsecs, z->name, LDNS_RR_TYPE_DS)) {
	case PF_NO_DS:
	case PF_OPTOUT:
		zone_finish(z, verdict(MXC_DNSSEC_INSECURE, MXC_DR_NO_DS), false, z->ttl);
		break;
	case PF_ITERATIONS:
		zone_finish(z, verdict(MXC_DNSSEC_INSECURE, MXC_DR_NSEC3_ITERATIONS), false, z->ttl);
		break;
	case PF_UNSUPPORTED:
		zone_finish(z, verdict(MXC_DNSSEC_INSECURE, MXC_DR_UNSUPPORTED_ALG), false, z->ttl);
		break;
	case PF_NODATA:
	case PF_NXDOMAIN:
		/* Not a delegation: the name lies inside the secure zone p. */
		zone_finish(z, verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE), false, z->ttl);
		break;
	default:
		zone_finish(z, verdict(MXC_DNSSEC_BOGUS, MXC_DR_NSEC_PROOF_MISSING), false, z->ttl);
		break;
	}
}

/* The name one label up, or the SOA owner in @p auth when that is higher. */
static ldns_rdf *zone_above(const ldns_rdf *name, const ldns_rr_list *auth)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_dname_is_subdomain(name, ldns_rr_owner(rr)))
			return ldns_rdf_clone(ldns_rr_owner(rr));
	}
	return ldns_dname_left_chop(name);
}

static void on_ds(struct vzone *z, const ldns_pkt *pkt)
{
	struct mxc_validator *v = z->v;
	ldns_rr_list *ans = ldns_pkt_answer(pkt);
	const ldns_rdf *signer;
	ldns_rdf *up;

	z->ds = ldns_rr_list_new();
	if (!z->ds) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
		return;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS && rr_whole(rr) &&
		    ldns_dname_compare(ldns_rr_owner(rr), z->name) == 0)
			ldns_rr_list_push_rr(z->ds, ldns_rr_clone(rr));
	}
	z->ttl = min_ttl(z->ds, z->ttl);
	if (ldns_rr_list_rr_count(z->ds)) {
		z->ds_sigs = own(sigs_for(ans, z->name, LDNS_RR_TYPE_DS));
		if (!z->ds_sigs) {
			zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
			return;
		}
		signer = ldns_rr_list_rr_count(z->ds_sigs) ?
			ldns_rr_rrsig_signame(ldns_rr_list_rr(z->ds_sigs, 0)) : NULL;
		if (signer && ldns_dname_is_subdomain(z->name, signer)) {
			zone_eval(v, signer, ds_signer_ready, z);
			return;
		}
		up = zone_above(z->name, ldns_pkt_authority(pkt));
		if (!up) {
			zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
			return;
		}
		zone_eval(v, up, ds_unsigned_ready, z);
		ldns_rdf_deep_free(up);
		return;
	}
	/* No DS: a denial, signed or not. */
	split_denial(ldns_pkt_authority(pkt), false, &z->nsecs, &z->nsec_sigs);
	if (!z->nsecs || !z->nsec_sigs) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
		return;
	}
	z->ttl = min_ttl(ldns_pkt_authority(pkt), z->ttl);
	signer = denial_signer(z->nsec_sigs);
	if (signer && ldns_dname_is_subdomain(z->name, signer)) {
		zone_eval(v, signer, ds_denial_ready, z);
		return;
	}
	up = zone_above(z->name, ldns_pkt_authority(pkt));
	if (!up) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
		return;
	}
	zone_eval(v, up, ds_unsigned_ready, z);
	ldns_rdf_deep_free(up);
}

static void on_zone_answer(void *arg, const struct mxc_dns_answer *a)
{
	struct zq *q = arg;
	struct vzone *z = q->z;
	uint16_t type = q->type;
	bool again = q->again;
	const ldns_pkt *pkt;
	ldns_pkt *own = NULL;

	mxc_free(q);
	if (a->status == MXC_DNS_CANCELED || z->v->closing) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_TIMEOUT), false, 0);
		return;
	}
	if (a->status != MXC_DNS_ANSWER) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE,
				       a->status == MXC_DNS_TIMEOUT ? MXC_DR_TIMEOUT : MXC_DR_MALFORMED),
			    false, 0);
		return;
	}
	if (a->rcode != LDNS_RCODE_NOERROR && a->rcode != LDNS_RCODE_NXDOMAIN) {
		/* A busy recursive resolver answers SERVFAIL now and then: one
		 * verdict of the chain should not hang on one such answer. */
		if (!again && !z->v->closing) {
			zone_ask_flags(z, type, true);
			return;
		}
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_SERVFAIL), false, 0);
		return;
	}
	pkt = mxc_dns_answer_pkt(a);
	/* An answer that did not come through the resolver (tests, fuzzing)
	 * has no shared parse: make our own. */
	if (!pkt && !a->lazy && a->wire &&
	    ldns_wire2pkt(&own, a->wire, a->wire_len) == LDNS_STATUS_OK)
		pkt = own;
	if (!pkt) {
		ldns_pkt_free(own);
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED), false, 0);
		return;
	}
	if (type == LDNS_RR_TYPE_DNSKEY)
		on_dnskey(z, pkt);
	else
		on_ds(z, pkt);
	ldns_pkt_free(own);
}

/*
 * A zone already judged and still fresh: its verdict is handed to @p fn at
 * once. @return false when @p z is NULL, not done or expired.
 */
static bool zone_serve_known(struct mxc_validator *v, struct vzone *z, zone_fn fn, void *arg)
{
	if (!z || !z->done || z->expires_ms <= mxc_now_ms())
		return false;
	v->st.zone_hits++;
	lru_unlink(&z->lru);
	lru_push(&v->zlru, &z->lru);
	z->busy++;
	fn(arg, z);
	z->busy--;
	return true;
}

/* Start (or join, or answer from memory) the evaluation of @p name. */
static void zone_eval(struct mxc_validator *v, const ldns_rdf *name, zone_fn fn, void *arg)
{
	char kbuf[NAME_KEY_MAX];
	char *key = NULL;
	struct vzone *z;
	const ldns_rdf *anchor;
	struct zwait *w;

	/* Looked up with a key on the stack: a copy is made only for a zone
	 * that is new, not for every answer that finds its zone known. */
	if (!name_key_into(ldns_rdf_data(name), ldns_rdf_size(name), kbuf))
		goto oom;
	z = mxc_strmap_get(&v->zones, kbuf);
	if (zone_serve_known(v, z, fn, arg))
		return;
	w = mxc_malloc(sizeof(*w));
	if (!w)
		goto oom;
	w->fn = fn;
	w->arg = arg;
	if (z && !z->done) {
		w->next = z->waiters;
		z->waiters = w;
		v->st.zone_joined++;
		return;
	}
	if (!z) {
		key = mxc_strdup(kbuf);
		z = key ? mxc_calloc(1, sizeof(*z)) : NULL;
		if (!z || !(z->name = ldns_rdf_clone(name))) {
			mxc_free(z);
			mxc_free(w);
			goto oom;
		}
		z->key = key;
		z->v = v;
		lru_init(&z->lru);
		if (mxc_strmap_put(&v->zones, z->key, z)) {
			mxc_free(w);
			zone_free(z);
			return (void)fn(arg, NULL);
		}
		v->n_zones++;
	} else {
		/* Expired: evaluate again in place. */
		lru_unlink(&z->lru);
		zone_vkeys_free(z);
		ldns_rr_list_deep_free(z->keys);
		z->keys = NULL;
		z->done = false;
	}
	lru_push(&v->zpending, &z->lru);
	z->waiters = w;
	w->next = NULL;
	z->ttl = v->o.max_ttl;
	v->st.zone_evals++;
	anchor = anchor_of(v, name);
	if (!anchor) {
		zone_finish(z, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_NO_TRUST_ANCHOR), false,
			    v->o.max_ttl);
		return;
	}
	if (is_anchor(v, name)) {
		zone_ask(z, LDNS_RR_TYPE_DNSKEY);
		return;
	}
	if (below_insecure(v, name, anchor)) {
		zone_finish(z, verdict(MXC_DNSSEC_INSECURE, MXC_DR_NO_DS), false, v->o.max_ttl);
		return;
	}
	zone_ask(z, LDNS_RR_TYPE_DS);
	return;
oom:
	mxc_free(key);
	fn(arg, NULL);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */

static void check_merge(struct vcheck *c, struct mxc_val_result r)
{
	if (rank(r.status) > rank(c->res.status))
		c->res = r;
}

static void task_free(struct vtask *t)
{
	/* The records are the check's packet's. */
	ldns_rr_list_free(t->rrset);
	ldns_rr_list_free(t->sigs);
	ldns_rdf_deep_free(t->qname);
	mxc_free(t);
}

static void check_done(struct vcheck *c)
{
	struct mxc_validator *v = c->v;
	struct vtask *t = c->tasks;

	if (--c->pending)
		return;
	lru_unlink(&c->link);
	while (t) {
		struct vtask *next = t->next;

		task_free(t);
		t = next;
	}
	if (c->res.status == MXC_DNSSEC_NONE)
		c->res = verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
	c->cb(c->arg, c->res);
	ldns_pkt_free(c->pkt);
	ldns_pkt_free(c->auth);
	mxc_free(c);
	(void)v;
}

/* The authority section of the check's answer (empty unless a task needs it). */
static const ldns_rr_list *check_authority(const struct vcheck *c)
{
	return ldns_pkt_authority(c->auth ? c->auth : c->pkt);
}

/* ------------------------------------------------------------------------ */
/* Verification threads                                                     */

/*
 * A domain's own MX RRset needs a signature verification that no cache can
 * save, and on the loop's one thread it would cost as much as everything
 * else the scan does for the domain. So with a loop the validator hands
 * those checks to a few threads of its own: the loop makes a plan (which
 * signatures, which keys, all decided from its zone cache), a thread builds
 * the signed data and checks the signature, and the verdict comes back to
 * the loop through a uv_async_t. Nothing but the plan, the task's own
 * records (untouched by the loop meanwhile) and the thread's vcrypto is
 * used off the loop; zones, caches, counters and checks stay on it.
 *
 * Only RRsets that are not remembered go to the threads, so the
 * verified-RRset memory (and its "never twice while the TTL holds"
 * promise) is only ever read and written on the loop. Jobs in flight are
 * bounded (JOBS_IN_FLIGHT, about a kilobyte each with a plain answer's
 * check); past the bound the loop verifies the RRset itself. The bound is
 * a memory bound, not the back-pressure: the scan's window of domains is
 * that. With 64 jobs per thread the loop ran into it whenever the machine
 * was busy and verified a third of the MX RRsets itself, leaving the
 * resolver and its upstream idle meanwhile; with room for a window's worth
 * it keeps asking while the threads verify (bench/README.md, DNSSEC).
 */
#define JOBS_IN_FLIGHT 1024
#define MAX_THREADS 16
#define WAKE_BATCH 8      /* jobs that wake a sleeping thread at once */
#define WAKE_MS 1         /* ... or the age of the oldest, loop time */
#define WORKER_TAKE 16    /* jobs a thread takes from the queue at a time */

struct vjob {
	struct vjob *next;
	struct vtask *t;          /* waits in its check; only its records are read */
	struct fcheck *f;         /* or a plain answer's check (t NULL) */
	struct vplan plan;        /* keys held with a reference of the job's own */
	int64_t now;
	uint32_t skew;
	struct mxc_val_result res;
	unsigned nverify;
};

struct vworker {
	struct vpool *p;
	uv_thread_t tid;
	struct vcrypto c;
};

struct vpool {
	uv_async_t async;         /* results are ready */
	uv_prepare_t flush;       /* hands the loop's batch over before it polls */
	uv_timer_t wake;          /* runs while jobs are held back */
	unsigned open_handles;    /* the pool is freed when all are closed */
	struct mxc_validator *v;
	uv_mutex_t lock;          /* guards the two queues, idle and stop */
	uv_cond_t cond;
	struct vjob *q_head, *q_tail;   /* waiting for a thread */
	unsigned q_len;
	struct vjob *d_head, *d_tail;   /* checked, waiting for the loop */
	unsigned idle;            /* threads waiting on cond */
	bool stop;
	struct vjob *l_head, *l_tail;   /* loop only: this iteration's batch */
	uint64_t held_since;      /* loop only: 1 + loop time of the oldest job
				   * queued without waking a thread, or 0 */
	unsigned inflight;        /* loop only: submitted and not yet done */
	unsigned max_inflight;
	unsigned n;               /* threads running */
	struct vworker w[];
};

/* Threads for @p asked (MXC_VAL_THREADS_AUTO: every CPU but the loop's). */
static unsigned threads_wanted(int asked)
{
	unsigned n;

	if (asked >= 0)
		n = (unsigned)asked;
	else
		n = uv_available_parallelism() > 1 ? uv_available_parallelism() - 1 : 0;
	return n > MAX_THREADS ? MAX_THREADS : n;
}

static void job_release(struct vjob *j)
{
	for (size_t i = 0; i < j->plan.n; i++)
		for (uint8_t k = 0; k < j->plan.a[i].nkeys; k++)
			EVP_PKEY_free(j->plan.a[i].keys[k]);
	mxc_free(j);
}

static void fcheck_done(struct fcheck *f, struct mxc_val_result res);

/* On the loop: the thread's verdict joins the check's. */
static void job_done(struct mxc_validator *v, struct vjob *j)
{
	struct vcheck *c;

	v->st.sig_verify += j->nverify;
	v->st.sig_threaded += j->nverify;
	if (j->f) {
		struct fcheck *f = j->f;
		struct mxc_val_result res = j->res;

		job_release(j);
		fcheck_done(f, res);
		return;
	}
	c = j->t->c;
	check_merge(c, j->res);
	job_release(j);
	check_done(c);
}

static void worker_main(void *arg)
{
	struct vworker *w = arg;
	struct vpool *p = w->p;

	uv_mutex_lock(&p->lock);
	for (;;) {
		struct vjob *batch, *last;
		unsigned k = 1;

		while (!p->q_head && !p->stop) {
			p->idle++;
			uv_cond_wait(&p->cond, &p->lock);
			p->idle--;
		}
		/* On stop the queue is still emptied: every job gets its verdict. */
		batch = p->q_head;
		if (!batch)
			break;
		/* A few at a time: one lock and one wake-up of the loop for
		 * them all, and the other threads still get their share. */
		for (last = batch; k < WORKER_TAKE && last->next; k++)
			last = last->next;
		p->q_head = last->next;
		if (!p->q_head)
			p->q_tail = NULL;
		p->q_len -= k;
		last->next = NULL;
		uv_mutex_unlock(&p->lock);

		for (struct vjob *j = batch; j; j = j->next)
			j->res = plan_run(&w->c, j->t ? j->t->rrset : NULL, j->f, &j->plan,
					  j->now, j->skew, &j->nverify);

		uv_mutex_lock(&p->lock);
		if (p->d_tail)
			p->d_tail->next = batch;
		else
			p->d_head = batch;
		p->d_tail = last;
		uv_async_send(&p->async);
	}
	uv_mutex_unlock(&p->lock);
}

/* On the loop: deliver what the threads have checked. */
static void pool_collect(struct vpool *p)
{
	struct vjob *j;

	uv_mutex_lock(&p->lock);
	j = p->d_head;
	p->d_head = p->d_tail = NULL;
	uv_mutex_unlock(&p->lock);
	while (j) {
		struct vjob *next = j->next;

		p->inflight--;
		job_done(p->v, j);
		j = next;
	}
	/* Idle threads must not keep the loop running (uv_run returns when
	 * nothing else is pending); busy ones must. */
	if (!p->inflight)
		uv_unref((uv_handle_t *)&p->async);
}

static void pool_async_cb(uv_async_t *h)
{
	pool_collect(h->data);
}

/* The poll returned for the timer: the prepare callback after it hands
 * the jobs over, now old enough. */
static void pool_wake_cb(uv_timer_t *h)
{
	(void)h;
}

/*
 * Give the jobs of this loop iteration to the threads. A sleeping thread is
 * woken only for a batch (WAKE_BATCH jobs waiting) or when the oldest has
 * waited WAKE_MS: a wake-up
 * per job (futex, context switch, then an eventfd write and an epoll
 * return for the verdict) cost a quarter of a verification. Run before the
 * loop polls, so nothing waits across a blocking poll.
 */
static void pool_flush(struct vpool *p)
{
	uint64_t now = uv_now(p->v->loop);
	unsigned n = 0, queued;

	for (struct vjob *j = p->l_head; j; j = j->next)
		n++;
	if (!n && !p->held_since)
		return;
	uv_mutex_lock(&p->lock);
	if (n) {
		if (p->q_tail)
			p->q_tail->next = p->l_head;
		else
			p->q_head = p->l_head;
		p->q_tail = p->l_tail;
		p->q_len += n;
		p->l_head = p->l_tail = NULL;
		if (!p->held_since)
			p->held_since = now + 1; /* 0 means none held */
	}
	queued = p->q_len;
	if (!queued || queued >= WAKE_BATCH || p->stop || now + 1 - p->held_since >= WAKE_MS) {
		if (queued && p->idle == 1)
			uv_cond_signal(&p->cond);
		else if (queued && p->idle)
			uv_cond_broadcast(&p->cond);
		p->held_since = 0;
	}
	uv_mutex_unlock(&p->lock);
	/* Jobs held back must not wait across a poll that could block for
	 * long: a timer bounds it at WAKE_MS. (An idle handle did that by
	 * making every poll return at once: the loop spun a core whenever a
	 * paced scan had fewer than WAKE_BATCH jobs waiting, which was most
	 * of the time.) The timer is unreferenced: it bounds the poll, the
	 * async handle keeps the loop alive while jobs are out. */
	if (p->held_since) {
		if (!uv_is_active((uv_handle_t *)&p->wake))
			uv_timer_start(&p->wake, pool_wake_cb, WAKE_MS, 0);
	} else {
		uv_timer_stop(&p->wake);
	}
}

static void pool_prepare_cb(uv_prepare_t *h)
{
	pool_flush(h->data);
}

/* Every handle closed: the pool's memory can go. */
static void pool_closed(uv_handle_t *h)
{
	struct vpool *p = h->data;

	if (!--p->open_handles)
		mxc_free(p);
}

/* Stop the threads and the handle; the pool's memory goes with the handle's
 * close callback, the next time the loop runs. */
static void pool_stop(struct vpool *p)
{
	pool_flush(p);
	/* The threads empty the queue before they leave, woken or not. */
	uv_mutex_lock(&p->lock);
	p->stop = true;
	uv_cond_broadcast(&p->cond);
	uv_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		uv_thread_join(&p->w[i].tid);
	pool_collect(p);
	for (unsigned i = 0; i < p->n; i++)
		vcrypto_free(&p->w[i].c);
	uv_cond_destroy(&p->cond);
	uv_mutex_destroy(&p->lock);
	/* A wake-up the threads sent last is dropped with the handle. */
	uv_close((uv_handle_t *)&p->async, pool_closed);
	if (p->open_handles == 3) {
		uv_close((uv_handle_t *)&p->flush, pool_closed);
		uv_close((uv_handle_t *)&p->wake, pool_closed);
	} else {
		p->open_handles = 1;
	}
}

/* Deliver every job still out (their checks' callbacks run) and stop. */
static void pool_free(struct vpool *p)
{
	if (p)
		pool_stop(p);
}

/* The pool, started on first use; NULL when there is none to be had. */
static struct vpool *pool_get(struct mxc_validator *v)
{
	struct vpool *p;
	unsigned n = v->threads;

	if (v->pool || !n || v->closing)
		return v->pool;
	v->threads = 0; /* one try: if it fails, the loop verifies */
	p = mxc_calloc(1, sizeof(*p) + n * sizeof(p->w[0]));
	if (!p)
		return NULL;
	p->v = v;
	p->max_inflight = JOBS_IN_FLIGHT;
	if (uv_mutex_init(&p->lock)) {
		mxc_free(p);
		return NULL;
	}
	if (uv_cond_init(&p->cond)) {
		uv_mutex_destroy(&p->lock);
		mxc_free(p);
		return NULL;
	}
	if (uv_async_init(v->loop, &p->async, pool_async_cb)) {
		uv_cond_destroy(&p->cond);
		uv_mutex_destroy(&p->lock);
		mxc_free(p);
		return NULL;
	}
	p->async.data = p;
	p->open_handles = 1;
	uv_unref((uv_handle_t *)&p->async);
	uv_prepare_init(v->loop, &p->flush);
	p->flush.data = p;
	uv_prepare_start(&p->flush, pool_prepare_cb);
	uv_unref((uv_handle_t *)&p->flush);
	uv_timer_init(v->loop, &p->wake);
	p->wake.data = p;
	uv_unref((uv_handle_t *)&p->wake);
	p->open_handles = 3;
	for (unsigned i = 0; i < n; i++) {
		struct vworker *w = &p->w[p->n];

		w->p = p;
		if (vcrypto_init(&w->c)) {
			vcrypto_free(&w->c);
			break;
		}
		if (uv_thread_create(&w->tid, worker_main, w)) {
			vcrypto_free(&w->c);
			break;
		}
		p->n++;
	}
	if (!p->n) {
		mxc_log_warn("validator: no verification thread could be started; "
			     "verifying on the loop");
		pool_stop(p);
		return NULL;
	}
	v->pool = p;
	return p;
}

/* Queue job @p j (plan made, t or f set) for this iteration's batch. */
static void job_submit(struct mxc_validator *v, struct vpool *p, struct vjob *j)
{
	/* The zone's keys may be freed (an expired zone evaluated again)
	 * while the job is out: the job holds its own references. */
	for (size_t i = 0; i < j->plan.n; i++)
		for (uint8_t k = 0; k < j->plan.a[i].nkeys; k++)
			EVP_PKEY_up_ref(j->plan.a[i].keys[k]);
	j->now = now_s(v);
	j->skew = v->o.skew;
	j->nverify = 0;
	j->next = NULL;
	p->inflight++;
	uv_ref((uv_handle_t *)&p->async);
	if (p->l_tail)
		p->l_tail->next = j;
	else
		p->l_head = j;
	p->l_tail = j;
}

/*
 * Hand the signed RRset of task @p t (signer @p z, usable) to a verification
 * thread. Returns false when it stays on the loop: no threads, an RRset the
 * validator remembers, a key only ldns can use, or the threads are full.
 */
static bool offload(struct mxc_validator *v, struct vtask *t, struct vzone *z)
{
	struct vpool *p = pool_get(v);
	struct vjob *j;

	if (!p || p->inflight >= p->max_inflight || remembered(t->rrset))
		return false;
	j = mxc_malloc(sizeof(*j));
	if (!j)
		return false;
	if (!plan_make(z, t->sigs, &j->plan)) {
		mxc_free(j);
		return false;
	}
	j->t = t;
	j->f = NULL;
	job_submit(v, p, j);
	return true;
}

/* ------------------------------------------------------------------------ */
/* Plain answers: the check                                                 */

static int general_check(struct mxc_validator *v, const uint8_t *wire, size_t len,
			 mxc_val_cb cb, void *arg);

/* Deliver the verdict of a plain answer's check and free it. */
static void fcheck_done(struct fcheck *f, struct mxc_val_result res)
{
	f->cb(f->arg, res);
	mxc_free(f);
}

/*
 * Is RRSIG @p g one that @p signer made with an algorithm we can use? The
 * same as sig_usable() for an RRSIG read from the wire.
 */
static bool wsig_usable(const struct fcheck *f, const struct wsig *g, const struct vzone *signer,
			enum mxc_dnssec_reason *why)
{
	const uint8_t *sn = f->wire + g->rdata + RRSIG_FIXED;
	const uint8_t *zn = ldns_rdf_data(signer->name);

	if (g->signer_len != ldns_rdf_size(signer->name))
		return false;
	for (size_t i = 0; i < g->signer_len; i++)
		if (lower8(sn[i]) != lower8(zn[i]))
			return false;
	if (!alg_usable(g->alg)) {
		if (*why == MXC_DR_NO_RRSIG)
			*why = MXC_DR_UNSUPPORTED_ALG;
		return false;
	}
	return true;
}

/* plan_make() for a plain answer's RRSIGs. */
static bool wplan_make(struct vzone *signer, const struct fcheck *f, struct vplan *p)
{
	struct vkey *vk = zone_vkeys(signer);

	p->why = MXC_DR_NO_RRSIG;
	p->n = 0;
	for (size_t i = 0; i < f->nsig && p->n < MAX_SIGS; i++) {
		const struct wsig *g = &f->sig[i];
		struct vattempt *a;
		int nk;

		if (!wsig_usable(f, g, signer, &p->why))
			continue;
		a = &p->a[p->n++];
		a->sig = NULL;
		a->wsig = (uint8_t)i;
		a->malformed = false;
		a->nkeys = 0;
		if (!vk && ldns_rr_list_rr_count(signer->keys))
			return false;
		nk = vk ? sig_keys(signer, vk, g->keytag, g->alg, a->keys, ATT_KEYS) : 0;
		if (nk < 0)
			return false;
		a->nkeys = (uint8_t)nk;
	}
	return true;
}

/*
 * A key only ldns can use (or more keys of one tag than a plan holds): the
 * answer goes the general way after all, from the copy. Counted once.
 */
static void fcheck_general(struct fcheck *f)
{
	struct mxc_validator *v = f->v;

	v->st.checks--;
	v->st.wire_checks--;
	if (general_check(v, f->wire, f->len, f->cb, f->arg) != 0) {
		v->st.checks++;
		f->cb(f->arg, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED));
	}
	mxc_free(f);
}

/* offload() for a plain answer. */
static bool foffload(struct mxc_validator *v, struct fcheck *f, struct vzone *z)
{
	struct vpool *p = pool_get(v);
	struct vjob *j;

	if (!p || p->inflight >= p->max_inflight)
		return false;
	j = mxc_malloc(sizeof(*j));
	if (!j)
		return false;
	if (!wplan_make(z, f, &j->plan)) {
		mxc_free(j);
		return false;
	}
	j->t = NULL;
	j->f = f;
	job_submit(v, p, j);
	return true;
}

/* The signer's zone is known: verify on a thread, or here. */
static void fcheck_ready(void *arg, struct vzone *z)
{
	struct fcheck *f = arg;
	struct mxc_validator *v = f->v;
	struct mxc_val_result res = signer_unusable(z);
	struct vplan plan;
	unsigned n = 0;

	if (res.status == MXC_DNSSEC_NONE) {
		if (foffload(v, f, z))
			return; /* job_done finishes */
		if (!wplan_make(z, f, &plan)) {
			fcheck_general(f);
			return;
		}
		res = plan_run(&v->crypto, NULL, f, &plan, now_s(v), v->o.skew, &n);
		v->st.sig_verify += n;
	}
	/* One signed RRset was all there was: its verdict is the answer's. */
	fcheck_done(f, res);
}

/* zone_eval() for a name in wire form: a known zone is found without
 * making an ldns name of it. */
static void zone_eval_wire(struct mxc_validator *v, const uint8_t *name, size_t len, zone_fn fn,
			   void *arg)
{
	char key[NAME_KEY_MAX];
	struct vzone *z = name_key_into(name, len, key) ? mxc_strmap_get(&v->zones, key) : NULL;
	ldns_rdf *rdf;

	if (zone_serve_known(v, z, fn, arg))
		return;
	rdf = ldns_dname_new_frm_data((uint16_t)len, name);
	if (!rdf) {
		fn(arg, NULL);
		return;
	}
	zone_eval(v, rdf, fn, arg);
	ldns_rdf_deep_free(rdf);
}

/* The check of plain answer @p wire as wire_plain() read it into @p a
 * (new, v, cb and arg unset), or NULL. */
static struct fcheck *fcheck_new(const uint8_t *wire, size_t len, const struct wanswer *a)
{
	struct fcheck *f;
	struct wsig *sig;
	struct wrr *rr;
	uint8_t *bytes, *canon;
	size_t off = 0;

	/* One allocation: the check, its RRSIGs, its records, then the bytes
	 * (the message's head, the canonical RDATA, the name). */
	f = mxc_malloc(sizeof(*f) + a->nsig * sizeof(*sig) + a->nrr * sizeof(*rr) + a->end +
		       a->canon_len + a->qname_len);
	if (!f)
		return NULL;
	sig = (struct wsig *)(void *)(f + 1);
	rr = (struct wrr *)(void *)(sig + a->nsig);
	bytes = (uint8_t *)(void *)(rr + a->nrr);
	canon = bytes + a->end;
	memcpy(sig, a->sig, a->nsig * sizeof(*sig));
	memcpy(bytes, wire, a->end);
	/* What the general path would parse, should it have to (fcheck_general). */
	memset(bytes + 8, 0, 4);
	for (size_t i = 0; i < a->nrr; i++) {
		wire_canon(wire, len, &a->rr[i], a->qtype, canon + off);
		rr[i] = a->rr[i];
		rr[i].rdata = (uint32_t)off;
		off += a->rr[i].clen;
	}
	memcpy(canon + off, a->qname, a->qname_len);
	memset(f, 0, sizeof(*f));
	f->wire = bytes;
	f->len = a->end;
	f->canon = canon;
	f->qname = canon + off;
	f->qname_len = a->qname_len;
	f->qtype = a->qtype;
	f->rr = rr;
	f->nrr = a->nrr;
	f->sig = sig;
	f->nsig = a->nsig;
	return f;
}

/*
 * Judge @p wire if it is a plain answer whose RRset is not remembered (a
 * domain's MX RRset, the verification no cache saves: see remembered()).
 * Returns false, having done nothing, when the general path must judge it.
 */
static bool wire_check(struct mxc_validator *v, const uint8_t *wire, size_t len, mxc_val_cb cb,
		       void *arg)
{
	const struct wsig *sig;
	struct wanswer a;
	struct fcheck *f;

	if (!v->wire_path || !wire_plain(wire, len, &a) || a.qtype != LDNS_RR_TYPE_MX ||
	    /* a signer that is not above the owner: bogus, the general way */
	    !wire_under_or_at(a.qname, a.qname_len, wire + a.sig[0].rdata + RRSIG_FIXED,
			      a.sig[0].signer_len))
		return false;
	f = fcheck_new(wire, len, &a);
	if (!f)
		return false;
	f->v = v;
	f->cb = cb;
	f->arg = arg;
	sig = f->sig;
	v->st.checks++;
	v->st.wire_checks++;
	zone_eval_wire(v, f->wire + sig[0].rdata + RRSIG_FIXED, sig[0].signer_len, fcheck_ready, f);
	return true;
}

/* The NSEC/NSEC3 records of the check's authority section, verified with z. */
static enum proof authority_proof(struct vcheck *c, struct vzone *z, const ldns_rdf *name,
				  uint16_t type, bool wildcard_nc, struct mxc_val_result *res)
{
	ldns_rr_list *nsecs, *sigs;
	enum proof p = PF_NONE;

	/* Borrowed from the check's packet, which outlives this call. */
	split_denial(check_authority(c), true, &nsecs, &sigs);
	if (!nsecs || !sigs) {
		*res = verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED);
	} else {
		*res = verify_denial(c->v, nsecs, sigs, z);
		if (res->status == MXC_DNSSEC_SECURE) {
			const ldns_rr *first = ldns_rr_list_rr(nsecs, 0);

			if (wildcard_nc && first && ldns_rr_get_type(first) == LDNS_RR_TYPE_NSEC3) {
				p = nsec3_proof(c->v, nsecs, name, type, true);
			} else if (wildcard_nc) {
				for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++)
					if (nsec_covers(ldns_rr_list_rr(nsecs, i), name))
						p = PF_COVERED;
			} else {
				p = denial_proof(c->v, nsecs, name, type);
			}
		}
	}
	ldns_rr_list_free(nsecs);
	ldns_rr_list_free(sigs);
	return p;
}

static void signed_ready(void *arg, struct vzone *z)
{
	struct vtask *t = arg;
	struct vcheck *c = t->c;
	struct mxc_val_result res;

	res = signer_unusable(z);
	if (res.status != MXC_DNSSEC_NONE) {
		check_merge(c, res);
	} else if (!t->qname && offload(c->v, t, z)) {
		return; /* a verification thread has it; job_done finishes */
	} else {
		res = verify(c->v, t->rrset, t->sigs, z);
		if (res.status == MXC_DNSSEC_SECURE && t->qname) {
			/* A wildcard expansion: the query name must be proven absent. */
			enum proof p = authority_proof(c, z, t->qname, t->qtype, true, &res);

			if (res.status == MXC_DNSSEC_SECURE) {
				if (p == PF_ITERATIONS || p == PF_UNSUPPORTED)
					res = verdict(MXC_DNSSEC_INSECURE, p == PF_ITERATIONS ?
						      MXC_DR_NSEC3_ITERATIONS : MXC_DR_UNSUPPORTED_ALG);
				else if (p != PF_COVERED)
					res = verdict(MXC_DNSSEC_BOGUS, MXC_DR_WILDCARD_PROOF_MISSING);
			}
		}
		check_merge(c, res);
	}
	check_done(c);
}

static void unsigned_ready(void *arg, struct vzone *z)
{
	struct vtask *t = arg;
	struct vcheck *c = t->c;

	if (!z)
		check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED));
	else if (z->res.status == MXC_DNSSEC_SECURE)
		check_merge(c, verdict(MXC_DNSSEC_BOGUS, MXC_DR_NO_RRSIG));
	else
		check_merge(c, z->res);
	check_done(c);
}

static void denial_ready(void *arg, struct vzone *z)
{
	struct vtask *t = arg;
	struct vcheck *c = t->c;
	struct mxc_val_result res;
	enum proof p;

	res = signer_unusable(z);
	if (res.status != MXC_DNSSEC_NONE) {
		check_merge(c, res);
	} else {
		p = authority_proof(c, z, t->qname, t->qtype, false, &res);
		if (res.status == MXC_DNSSEC_SECURE) {
			bool nx = ldns_pkt_get_rcode(c->pkt) == LDNS_RCODE_NXDOMAIN;

			if (p == PF_ITERATIONS)
				res = verdict(MXC_DNSSEC_INSECURE, MXC_DR_NSEC3_ITERATIONS);
			else if (p == PF_UNSUPPORTED)
				res = verdict(MXC_DNSSEC_INSECURE, MXC_DR_UNSUPPORTED_ALG);
			else if (p == PF_OPTOUT || p == PF_NO_DS)
				res = verdict(MXC_DNSSEC_INSECURE, MXC_DR_NO_DS);
			else if (!(nx ? p == PF_NXDOMAIN : (p == PF_NODATA || p == PF_NO_DS)))
				res = verdict(MXC_DNSSEC_BOGUS, MXC_DR_NSEC_PROOF_MISSING);
		}
		check_merge(c, res);
	}
	check_done(c);
}

static struct vtask *task_new(struct vcheck *c, enum task_kind kind)
{
	struct vtask *t = mxc_calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->c = c;
	t->kind = kind;
	t->next = c->tasks;
	c->tasks = t;
	c->pending++;
	return t;
}

/* Is @p owner's unsigned CNAME synthesised from a DNAME in @p ans? */
static bool from_dname(const ldns_rr_list *ans, const ldns_rdf *owner)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNAME &&
		    ldns_dname_is_subdomain(owner, ldns_rr_owner(rr)))
			return true;
	}
	return false;
}

/* Group the answer section into RRsets and start a task for each. */
static int start_answer(struct vcheck *c, const ldns_rdf *qname, uint16_t qtype,
			ldns_rdf **final_name, bool *have_final)
{
	ldns_rr_list *ans = ldns_pkt_answer(c->pkt);
	size_t n = ldns_rr_list_rr_count(ans), sets = 0;
	bool *used = n ? mxc_calloc(n, sizeof(bool)) : NULL;
	ldns_rdf *sname = ldns_rdf_clone(qname);

	if ((n && !used) || !sname) {
		mxc_free(used);
		ldns_rdf_deep_free(sname);
		return MXC_ENOMEM;
	}
	*have_final = false;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		ldns_rr_type type = ldns_rr_get_type(rr);
		ldns_rr_list *set, *sigs;
		struct vtask *t;

		if (used[i] || type == LDNS_RR_TYPE_RRSIG)
			continue;
		if (++sets > MAX_RRSETS) {
			check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_WORK_LIMIT));
			break;
		}
		set = ldns_rr_list_new();
		for (size_t j = i; set && j < n; j++) {
			ldns_rr *o = ldns_rr_list_rr(ans, j);

			if (!used[j] && ldns_rr_get_type(o) == type &&
			    ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) == 0) {
				used[j] = true;
				ldns_rr_list_push_rr(set, o);
			}
		}
		sigs = set ? sigs_for(ans, ldns_rr_owner(rr), type) : NULL;
		if (!set || !sigs) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(sigs);
			mxc_free(used);
			ldns_rdf_deep_free(sname);
			return MXC_ENOMEM;
		}
		/* Follow the chain: the RRset at the current name. */
		if (ldns_dname_compare(ldns_rr_owner(rr), sname) == 0) {
			if (type == qtype)
				*have_final = true;
			else if (type == LDNS_RR_TYPE_CNAME && ldns_rr_rdf(rr, 0)) {
				ldns_rdf_deep_free(sname);
				sname = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
			}
		}
		if (type == LDNS_RR_TYPE_CNAME && !ldns_rr_list_rr_count(sigs) &&
		    from_dname(ans, ldns_rr_owner(rr))) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(sigs);
			continue;
		}
		t = task_new(c, ldns_rr_list_rr_count(sigs) ? T_SIGNED : T_UNSIGNED);
		if (!t) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(sigs);
			mxc_free(used);
			ldns_rdf_deep_free(sname);
			return MXC_ENOMEM;
		}
		/* Both borrow the packet's records, which outlive the tasks. */
		t->rrset = set;
		t->sigs = sigs;
		if (t->kind == T_SIGNED) {
			ldns_rr *s0 = ldns_rr_list_rr(sigs, 0);
			ldns_rdf *lab = ldns_rr_rrsig_labels(s0);
			uint8_t owner_labels = ldns_dname_label_count(ldns_rr_owner(rr));

			if (ldns_dname_is_wildcard(ldns_rr_owner(rr)))
				owner_labels--;
			if (lab && ldns_rdf2native_int8(lab) < owner_labels) {
				/* the next closer name of the wildcard expansion */
				t->qname = ancestor(ldns_rr_owner(rr),
						    (uint8_t)(ldns_rdf2native_int8(lab) + 1));
				t->qtype = type;
			}
		}
	}
	mxc_free(used);
	*final_name = sname;
	return 0;
}

static void launch(struct vcheck *c)
{
	struct vtask *t;

	for (t = c->tasks; t; t = t->next) {
		switch (t->kind) {
		case T_SIGNED: {
			ldns_rdf *signer = ldns_rr_rrsig_signame(ldns_rr_list_rr(t->sigs, 0));
			const ldns_rdf *owner = ldns_rr_owner(ldns_rr_list_rr(t->rrset, 0));

			if (!signer || !under_or_at(owner, signer)) {
				check_merge(c, verdict(MXC_DNSSEC_BOGUS, MXC_DR_BAD_SIGNATURE));
				check_done(c);
				break;
			}
			zone_eval(c->v, signer, signed_ready, t);
			break;
		}
		case T_UNSIGNED:
			zone_eval(c->v, ldns_rr_owner(ldns_rr_list_rr(t->rrset, 0)), unsigned_ready, t);
			break;
		case T_DENIAL: {
			const ldns_rdf *signer = denial_signer(check_authority(c));

			if (signer && under_or_at(t->qname, signer)) {
				zone_eval(c->v, signer, denial_ready, t);
			} else {
				/* Unsigned denial: judged by the zone that gave it. */
				const ldns_rr_list *auth = check_authority(c);
				ldns_rdf *z = zone_above(t->qname, auth);

				for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
					ldns_rr *rr = ldns_rr_list_rr(auth, i);

					if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
					    under_or_at(t->qname, ldns_rr_owner(rr))) {
						ldns_rdf_deep_free(z);
						z = ldns_rdf_clone(ldns_rr_owner(rr));
					}
				}
				if (z)
					zone_eval(c->v, z, unsigned_ready, t);
				else
					unsigned_ready(t, NULL);
				ldns_rdf_deep_free(z);
			}
			break;
		}
		}
	}
}

/* Does any task of @p c need the authority section (a denial, or the proof
 * that a wildcard answer's query name does not exist)? */
static bool needs_authority(const struct vcheck *c)
{
	for (const struct vtask *t = c->tasks; t; t = t->next)
		if (t->kind == T_DENIAL || t->qname)
			return true;
	return false;
}

/* Judge any answer, through ldns: see mxc_validator_check(). */
static int general_check(struct mxc_validator *v, const uint8_t *wire, size_t len,
			 mxc_val_cb cb, void *arg)
{
	struct vcheck *c;
	uint8_t *copy;
	ldns_status st;
	ldns_rr *q;
	ldns_rdf *final = NULL;
	bool have_final = false;
	uint8_t rcode, nscount[2] = { 0, 0 };
	int r;

	if (v->closing)
		return MXC_ECANCELED;
	c = mxc_calloc(1, sizeof(*c));
	copy = len >= LDNS_HEADER_SIZE ? mxc_malloc(len) : NULL;
	if (!c || (len >= LDNS_HEADER_SIZE && !copy)) {
		mxc_free(c);
		mxc_free(copy);
		return MXC_ENOMEM;
	}
	/*
	 * Nothing in the additional section is judged, and the authority
	 * section only for a denial or a wildcard answer: parsing them (an
	 * MX answer carries the zone's NS RRset and its hosts' addresses
	 * with their RRSIGs) cost more than the rest, one allocation per
	 * field. A copy with NSCOUNT and ARCOUNT 0 makes ldns stop after the
	 * answer section; the authority is parsed when a task needs it.
	 */
	if (copy) {
		memcpy(copy, wire, len);
		nscount[0] = copy[8];
		nscount[1] = copy[9];
		copy[8] = copy[9] = copy[10] = copy[11] = 0;
		wire = copy;
	}
	st = ldns_wire2pkt(&c->pkt, wire, len);
	if (st != LDNS_STATUS_OK ||
	    !(q = ldns_rr_list_rr(ldns_pkt_question(c->pkt), 0))) {
		ldns_pkt_free(c->pkt);
		mxc_free(copy);
		mxc_free(c);
		return MXC_EPARSE;
	}
	c->v = v;
	c->cb = cb;
	c->arg = arg;
	c->pending = 1; /* held while the tasks are launched */
	lru_init(&c->link);
	lru_push(&v->checks, &c->link);
	v->st.checks++;
	rcode = ldns_pkt_get_rcode(c->pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		mxc_free(copy);
		check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_SERVFAIL));
		check_done(c);
		return 0;
	}
	r = start_answer(c, ldns_rr_owner(q), ldns_rr_get_type(q), &final, &have_final);
	if (r) {
		mxc_free(copy);
		c->pending = 1; /* the tasks made so far are freed, never launched */
		check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED));
		check_done(c);
		return 0;
	}
	if (!have_final || rcode == LDNS_RCODE_NXDOMAIN) {
		struct vtask *t = task_new(c, T_DENIAL);

		if (t) {
			t->qname = final;
			t->qtype = ldns_rr_get_type(q);
			final = NULL;
		} else {
			check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED));
		}
	}
	ldns_rdf_deep_free(final);
	if (copy && (nscount[0] || nscount[1]) && needs_authority(c)) {
		copy[8] = nscount[0];
		copy[9] = nscount[1];
		if (ldns_wire2pkt(&c->auth, copy, len) != LDNS_STATUS_OK) {
			c->auth = NULL;
			check_merge(c, verdict(MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED));
		}
	}
	mxc_free(copy);
	/* Nothing failed so far counts as secure until a task says otherwise. */
	check_merge(c, verdict(MXC_DNSSEC_SECURE, MXC_DR_NONE));
	launch(c);
	check_done(c);
	return 0;
}

int mxc_validator_check(struct mxc_validator *v, const uint8_t *wire, size_t len,
			mxc_val_cb cb, void *arg)
{
	if (v->closing)
		return MXC_ECANCELED;
	if (wire_check(v, wire, len, cb, arg))
		return 0;
	return general_check(v, wire, len, cb, arg);
}

void mxc__validator_wire_path(struct mxc_validator *v, bool on)
{
	v->wire_path = on;
}

/* The general path's signed data for RRSIG @p i over the question's RRset. */
static bool general_signed(struct vcrypto *w, const uint8_t *msg, size_t len, unsigned i)
{
	uint8_t *copy = mxc_malloc(len);
	ldns_pkt *pkt = NULL;
	ldns_rr_list *set = NULL, *sigs = NULL;
	const ldns_rr *q;
	bool ok = false;

	if (!copy)
		return false;
	memcpy(copy, msg, len);
	memset(copy + 8, 0, 4);
	if (ldns_wire2pkt(&pkt, copy, len) != LDNS_STATUS_OK ||
	    !(q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0)) || !(set = ldns_rr_list_new()))
		goto out;
	for (size_t k = 0; k < ldns_rr_list_rr_count(ldns_pkt_answer(pkt)); k++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), k);

		if (ldns_rr_get_type(rr) == ldns_rr_get_type(q) &&
		    ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(q)) == 0)
			ldns_rr_list_push_rr(set, rr);
	}
	sigs = sigs_for(ldns_pkt_answer(pkt), ldns_rr_owner(q), ldns_rr_get_type(q));
	if (sigs && i < ldns_rr_list_rr_count(sigs) && ldns_rr_list_rr_count(set))
		ok = build_signed(w, set, ldns_rr_list_rr(sigs, i));
out:
	ldns_rr_list_free(set);
	ldns_rr_list_free(sigs);
	ldns_pkt_free(pkt);
	mxc_free(copy);
	return ok;
}

int mxc__validator_signed_data(const uint8_t *msg, size_t len, unsigned i, bool wire,
			       uint8_t *out, size_t cap)
{
	struct vcrypto w;
	struct wanswer a;
	struct fcheck *f = NULL;
	bool ok;
	int r;

	if (wire && (!wire_plain(msg, len, &a) || i >= a.nsig))
		return 0;
	if (vcrypto_init(&w)) {
		vcrypto_free(&w);
		return MXC_ENOMEM;
	}
	if (wire) {
		f = fcheck_new(msg, len, &a);
		ok = f && wire_signed(&w, f, &f->sig[i]);
	} else {
		ok = general_signed(&w, msg, len, i);
	}
	if (!ok)
		r = 0;
	else if (w.data.len > cap || w.data.len > INT32_MAX)
		r = MXC_ETOOBIG;
	else
		r = (int)w.data.len;
	if (r > 0)
		memcpy(out, w.data.data, w.data.len);
	mxc_free(f);
	vcrypto_free(&w);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */

void mxc_validator_opts_default(struct mxc_validator_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->skew = 300;
	o->nsec3_max_iterations = 150;
	o->max_ttl = 86400;
	o->cache_entries = 100000;
	o->threads = MXC_VAL_THREADS_AUTO;
}

static int anchor_add_names(struct mxc_validator *v, char *err, size_t errlen)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(v->anchors); i++) {
		const ldns_rdf *o = ldns_rr_owner(ldns_rr_list_rr(v->anchors, i));

		if (is_anchor(v, o))
			continue;
		if (v->n_anchor_names == sizeof(v->anchor_names) / sizeof(v->anchor_names[0])) {
			snprintf(err, errlen, "too many trust anchor zones (at most %zu)",
				 v->n_anchor_names);
			return MXC_EFULL;
		}
		v->anchor_names[v->n_anchor_names] = ldns_rdf_clone(o);
		if (!v->anchor_names[v->n_anchor_names])
			return MXC_ENOMEM;
		v->n_anchor_names++;
	}
	return 0;
}

int mxc_trust_anchor_read(FILE *f, const char *path, ldns_rr_list **out, char *err,
			   size_t errlen)
{
	ldns_rr_list *l;
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 0, r = 0;

	*out = NULL;
	l = ldns_rr_list_new();
	if (!l)
		return MXC_ENOMEM;
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN || st == LDNS_STATUS_SYNTAX_INCLUDE)
			continue;
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "%s:%d: %s", path, line, ldns_get_errorstr_by_id(st));
			r = MXC_EPARSE;
			break;
		}
		if ((ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS &&
		     ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY) || !rr_whole(rr)) {
			snprintf(err, errlen,
				 "%s:%d: a trust anchor must be a whole DS or DNSKEY record", path,
				 line);
			ldns_rr_free(rr);
			r = MXC_EPARSE;
			break;
		}
		ldns_rr_list_push_rr(l, rr);
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	if (!r && !ldns_rr_list_rr_count(l)) {
		snprintf(err, errlen, "%s: no DS or DNSKEY records", path);
		r = MXC_EPARSE;
	}
	if (r) {
		ldns_rr_list_deep_free(l);
		return r;
	}
	*out = l;
	return 0;
}

int mxc_trust_anchor_load(const char *path, ldns_rr_list **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int r;

	*out = NULL;
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	r = mxc_trust_anchor_read(f, path, out, err, errlen);
	fclose(f);
	return r;
}

static int resolver_query(void *ctx, const char *name, uint16_t type, unsigned flags,
			  mxc_dns_cb cb, void *arg)
{
	return mxc_resolver_query_flags(ctx, name, type, flags, cb, arg);
}

void mxc_validator_set_query(struct mxc_validator *v, mxc_val_query_fn fn, void *ctx)
{
	v->query = fn;
	v->query_ctx = ctx;
}

int mxc_validator_new(struct mxc_resolver *r, const struct mxc_validator_opts *o,
		      struct mxc_validator **out, char *err, size_t errlen)
{
	struct mxc_validator *v = mxc_calloc(1, sizeof(*v));
	int rc = 0;

	*out = NULL;
	if (!v)
		return MXC_ENOMEM;
	v->query = resolver_query;
	v->query_ctx = r;
	v->o = *o;
	v->o.anchors = NULL;
	if (!v->o.max_ttl)
		v->o.max_ttl = 86400;
	mxc_strmap_init(&v->zones);
	mxc_strmap_init(&v->seen);
	lru_init(&v->zlru);
	lru_init(&v->zpending);
	lru_init(&v->slru);
	lru_init(&v->checks);
	v->wire_path = true;
	if (vcrypto_init(&v->crypto)) {
		mxc_validator_free(v);
		return MXC_ENOMEM;
	}
	/* The resolver's loop (resolver_internal.h): the verification
	 * threads report to it. */
	v->loop = r ? r->loop : NULL;
	v->threads = v->loop ? threads_wanted(o->threads) : 0;
	if (o->anchors) {
		v->anchors = ldns_rr_list_new();
		for (size_t i = 0; v->anchors && i < ldns_rr_list_rr_count(o->anchors); i++) {
			const ldns_rr *a = ldns_rr_list_rr(o->anchors, i);

			if ((ldns_rr_get_type(a) == LDNS_RR_TYPE_DS ||
			     ldns_rr_get_type(a) == LDNS_RR_TYPE_DNSKEY) && rr_whole(a))
				ldns_rr_list_push_rr(v->anchors, ldns_rr_clone(a));
		}
		if (!v->anchors || !ldns_rr_list_rr_count(v->anchors)) {
			snprintf(err, errlen, "no trust anchors given");
			rc = v->anchors ? MXC_EPARSE : MXC_ENOMEM;
		}
	} else if (o->anchor_file) {
		rc = mxc_trust_anchor_load(o->anchor_file, &v->anchors, err, errlen);
	} else {
		v->anchors = ldns_rr_list_new();
		for (size_t i = 0; !rc && v->anchors &&
				   i < sizeof(root_anchors) / sizeof(root_anchors[0]);
		     i++) {
			ldns_rr *rr = NULL;

			if (ldns_rr_new_frm_str(&rr, root_anchors[i], 0, NULL, NULL) !=
			    LDNS_STATUS_OK)
				rc = MXC_EPARSE;
			else
				ldns_rr_list_push_rr(v->anchors, rr);
		}
		if (!v->anchors)
			rc = MXC_ENOMEM;
	}
	if (!rc)
		rc = anchor_add_names(v, err, errlen);
	if (rc) {
		mxc_validator_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void mxc_validator_get_stats(const struct mxc_validator *v, struct mxc_validator_stats *st)
{
	*st = v->st;
}

void mxc_validator_free(struct mxc_validator *v)
{
	if (!v)
		return;
	v->closing = true;
	/* Checks on the verification threads are finished first: their
	 * verdicts are delivered here, before anything they use is freed. */
	pool_free(v->pool);
	v->pool = NULL;
	/* Zones still waiting for an answer were finished by the resolver's
	 * close (their callbacks ran with MXC_DNS_CANCELED), which the owner
	 * does first; whatever is left is freed here. */
	for (struct lru *head = &v->zlru; head; head = head == &v->zlru ? &v->zpending : NULL) {
		while (head->next != head) {
			struct vzone *z = container(head->next, struct vzone, lru);

			lru_unlink(&z->lru);
			zone_free(z);
		}
	}
	while (v->slru.next != &v->slru) {
		struct vseen *s = container(v->slru.next, struct vseen, lru);

		lru_unlink(&s->lru);
		mxc_free(s);
	}
	mxc_strmap_free(&v->zones);
	mxc_strmap_free(&v->seen);
	ldns_rr_list_deep_free(v->anchors);
	vcrypto_free(&v->crypto);
	for (size_t i = 0; i < v->n_anchor_names; i++)
		ldns_rdf_deep_free(v->anchor_names[i]);
	mxc_free(v);
}
