/**
 * \file
 * Pure parsers for what an SMTP server says: replies (RFC 5321 section
 * 4.2), the EHLO extension list (section 4.1.1.1) and the traces an on-path
 * box leaves when it strips STARTTLS from that list.
 *
 * The reply parser works on the bytes received so far and tells whether a
 * whole reply is there, so the prober can call it after every read without
 * keeping parser state: a reply is small (capped) and re-scanning it is
 * cheaper than a resumable state machine. Lines are returned as spans into
 * the caller's buffer; nothing is allocated and nothing is copied.
 *
 * Deviations a census wants to see rather than refuse are tolerated and
 * flagged: bare LF line ends, and lines longer than RFC 5321's 512 octets
 * (up to a hard cap). What cannot be read as a reply (a line without a
 * three-digit code, codes that change between lines, too many lines, a line
 * past the hard cap) is an error with a static reason.
 */
#ifndef MXC_PROBES_SMTP_REPLY_H
#define MXC_PROBES_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

/** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
#define MXC_SMTP_LINE_RFC 512
/** Hard cap on one reply line (text and line end); longer is an error. */
#define MXC_SMTP_LINE_MAX 2048
/** Most lines kept for one reply; a longer reply is an error. */
#define MXC_SMTP_LINES_MAX 64

/** Flags of a parsed reply: tolerated deviations. */
enum mxc_smtp_reply_flag {
	MXC_SMTP_REPLY_BARE_LF = 1u << 0,   /**< a line ended in LF alone */
	MXC_SMTP_REPLY_LONG_LINE = 1u << 1, /**< a line over 512 octets */
	MXC_SMTP_REPLY_NO_SEP = 1u << 2,    /**< a last line of the bare code */
};

/** A span of the caller's buffer. */
struct mxc_span {
	size_t off; /**< offset from the start of the buffer */
	size_t len; /**< length in bytes */
};

/** One complete reply. */
struct mxc_smtp_reply {
	int code;            /**< 100..599 */
	unsigned flags;      /**< enum mxc_smtp_reply_flag bits */
	size_t nlines;       /**< lines in the reply, 1..MXC_SMTP_LINES_MAX */
	/** The text of each line after "NNN-" or "NNN " (no line end). */
	struct mxc_span text[MXC_SMTP_LINES_MAX];
	size_t consumed;     /**< bytes of the buffer the reply occupies */
	const char *error;   /**< static reason when the parse failed */
};

/**
 * Parse one reply from the start of @p buf.
 * @param buf bytes received so far (any bytes; need not end in a line end)
 * @param len length of @p buf
 * @param out filled when the return value is 1; error set when negative
 * @return 1 when a whole reply is there, 0 when more bytes are needed,
 *         MXC_EPARSE when the bytes cannot be a reply (out->error says why:
 *         "syntax", "code-mismatch", "line-too-long", "too-many-lines",
 *         "bad-code", "nul-byte")
 */
int mxc_smtp_reply_parse(const uint8_t *buf, size_t len, struct mxc_smtp_reply *out);

/** EHLO extensions the census records. */
enum mxc_ehlo_ext {
	MXC_EHLO_STARTTLS = 1u << 0,
	MXC_EHLO_SIZE = 1u << 1,
	MXC_EHLO_PIPELINING = 1u << 2,
	MXC_EHLO_8BITMIME = 1u << 3,
	MXC_EHLO_SMTPUTF8 = 1u << 4,
	MXC_EHLO_CHUNKING = 1u << 5,
	MXC_EHLO_ENHANCEDSTATUSCODES = 1u << 6,
	MXC_EHLO_DSN = 1u << 7,
	MXC_EHLO_REQUIRETLS = 1u << 8,
	MXC_EHLO_AUTH = 1u << 9,
	MXC_EHLO_BINARYMIME = 1u << 10,
};

/** Longest keyword kept as stripping evidence. */
#define MXC_EHLO_KEYWORD_MAX 32

/** What an EHLO reply announced. */
struct mxc_ehlo {
	unsigned ext;        /**< enum mxc_ehlo_ext bits */
	uint64_t size;       /**< SIZE parameter; 0 when absent or no limit */
	unsigned unknown;    /**< keywords not in enum mxc_ehlo_ext */
	unsigned malformed;  /**< lines whose keyword is not RFC 5321 syntax */
	/** 1 when a line looks like STARTTLS overwritten by a middlebox. */
	int stripped;
	/** That keyword as received (printable ASCII), "" when none. */
	char stripped_keyword[MXC_EHLO_KEYWORD_MAX + 1];
};

/**
 * Read the extension list of a 250 reply to EHLO. The first line is the
 * server's greeting and names no extension.
 * @param buf the buffer @p r was parsed from
 * @param r a reply parsed from @p buf
 * @param out filled; zeroed first
 * @return 0, or MXC_EINVAL when @p r is not a 250 reply
 */
int mxc_ehlo_parse(const uint8_t *buf, const struct mxc_smtp_reply *r, struct mxc_ehlo *out);

/**
 * Whether a keyword looks like STARTTLS overwritten in place: eight
 * characters (the length of STARTTLS, since rewriting boxes keep the packet
 * length) that are not a known extension, made mostly of X's (`XXXXXXXA`,
 * as Cisco's ESMTP inspection writes, or `XXXXXXXX`), or STARTTLS with some
 * letters masked by X (`STARTXXX`).
 * @param kw keyword bytes
 * @param len length of @p kw
 * @return 1 if so, else 0
 */
int mxc_ehlo_keyword_stripped(const uint8_t *kw, size_t len);

#endif
