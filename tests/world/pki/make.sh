#!/bin/bash
# make.sh - regenerate the test PKI of the mail part of the world.
#
#   tests/world/pki/make.sh            write the keys and certificates here
#   tests/world/pki/make.sh --tlsa     print the TLSA data the zones need
#
# Not run at test time: the TLSA records in tests/world/zones/mail.test.zone
# and mail-plain.test.zone are digests of these keys and certificates, so a
# regenerated PKI means new TLSA records (print them with --tlsa and paste
# them into the zones, and the truth stays as it is). Everything is made with
# `openssl ca` because only it can set an explicit start and end date in the
# OpenSSL 3.0 of Debian 12: the expired certificate needs a window in the
# past, and the others a fixed end (2036) rather than "N days from today".
#
# What it makes (see README.md for which host serves which):
#   root.{key,crt}        test root CA (self-signed, CA:TRUE)
#   inter.{key,crt}       intermediate CA, signed by the root
#   <host>.{key,crt}      leaf certificates signed by the intermediate
#   <host>.chain.pem      leaf + intermediate (+ root for mx-ta): what the
#                         server presents
#   rotate-old.key        the key the rotated hosts used before the rotation;
#                         rotate-old.crt its certificate (served by no one)
#   rotate-new.key        the key they use now
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"

# Start and end of the long-lived certificates, and of the expired one.
LONG_START=20250101000000Z
LONG_END=20361231235959Z
OLD_START=20230101000000Z
OLD_END=20240101000000Z

# ECDSA P-256 keys: quick to make and to handshake with; the rotation keys
# are RSA so that one case has the other common key type.
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# spki_sha256 CERT: SHA-256 of the DER SubjectPublicKeyInfo (TLSA x 1 1).
spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}
# key_spki_sha256 KEY: the same from a private key.
key_spki_sha256() {
	openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}
# cert_sha256 CERT: SHA-256 of the DER certificate (TLSA x 0 1).
cert_sha256() {
	openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

if [[ ${1:-} == --tlsa ]]; then
	printf 'mx-valid     3 1 1 %s\n' "$(spki_sha256 mx-valid.crt)"
	printf 'mx-ta        2 1 1 %s\n' "$(spki_sha256 root.crt)"
	printf 'mx-ee0       3 0 1 %s\n' "$(cert_sha256 mx-ee0.crt)"
	printf 'mx-expired   3 1 1 %s\n' "$(spki_sha256 mx-expired.crt)"
	printf 'mx-self      3 1 1 %s\n' "$(spki_sha256 mx-self.crt)"
	printf 'rotate-old   3 1 1 %s\n' "$(key_spki_sha256 rotate-old.key)"
	printf 'rotate-new   3 1 1 %s\n' "$(key_spki_sha256 rotate-new.key)"
	printf 'mx-usage1    1 1 1 %s\n' "$(spki_sha256 mx-usage1.crt)"
	printf 'mx.mail-plain 3 1 1 %s\n' "$(spki_sha256 mx.mail-plain.crt)"
	exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
touch "$WORK/index.txt"
echo 1000 >"$WORK/serial"

cat >"$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = testca

[ testca ]
database = $WORK/index.txt
serial = $WORK/serial
new_certs_dir = $WORK
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no

[ anything ]
commonName = supplied

[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN

[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = \$ENV::SAN
CNF

# sign OUT KEY CN EXT START END [CA_CERT CA_KEY]: a certificate for KEY
# with subject CN, extensions EXT, the given window; self-signed without
# a CA. SAN (environment) is read by the leaf extensions.
sign() {
	local out=$1 key=$2 cn=$3 ext=$4 start=$5 end=$6 cacert=${7:-} cakey=${8:-}
	openssl req -new -config "$WORK/ca.cnf" -key "$key" -subj "/CN=$cn" \
		-out "$WORK/req.csr"
	if [[ -z $cacert ]]; then
		openssl ca -batch -notext -config "$WORK/ca.cnf" -selfsign \
			-keyfile "$key" -extensions "$ext" -startdate "$start" \
			-enddate "$end" -in "$WORK/req.csr" -out "$out" 2>/dev/null
	else
		openssl ca -batch -notext -config "$WORK/ca.cnf" -cert "$cacert" \
			-keyfile "$cakey" -extensions "$ext" -startdate "$start" \
			-enddate "$end" -in "$WORK/req.csr" -out "$out" 2>/dev/null
	fi
}

export SAN=DNS:unused
ec_key root.key
sign root.crt root.key "mxcensus test root CA" v3_root "$LONG_START" "$LONG_END"
ec_key inter.key
sign inter.crt inter.key "mxcensus test mail CA" v3_inter "$LONG_START" "$LONG_END" \
	root.crt root.key

# leaf NAME KEY SAN START END: NAME.crt signed by the intermediate, and
# NAME.chain.pem = leaf + intermediate.
leaf() {
	local name=$1 key=$2 san=$3 start=$4 end=$5
	local cn=${san%%,*}
	SAN=$san sign "$name.crt" "$key" "${cn#DNS:}" v3_leaf "$start" "$end" \
		inter.crt inter.key
	cat "$name.crt" inter.crt >"$name.chain.pem"
}

for h in mx-valid mx-ta mx-ee0 mx-usage1 mx-expired mx-wrongname mx.mail-plain odd; do
	ec_key "$h.key"
done
leaf mx-valid mx-valid.key DNS:mx-valid.mail.test "$LONG_START" "$LONG_END"
leaf mx-ta mx-ta.key DNS:mx-ta.mail.test "$LONG_START" "$LONG_END"
# DANE-TA needs the trust anchor in the chain the server sends (RFC 7671
# section 5.2.2): the root goes after the intermediate here.
cat root.crt >>mx-ta.chain.pem
leaf mx-ee0 mx-ee0.key DNS:mx-ee0.mail.test "$LONG_START" "$LONG_END"
leaf mx-usage1 mx-usage1.key DNS:mx-usage1.mail.test "$LONG_START" "$LONG_END"
leaf mx-expired mx-expired.key DNS:mx-expired.mail.test "$OLD_START" "$OLD_END"
# Valid chain, the name of another host.
leaf mx-wrongname mx-wrongname.key DNS:other-name.mail.test "$LONG_START" "$LONG_END"
leaf mx.mail-plain mx.mail-plain.key DNS:mx.mail-plain.test "$LONG_START" "$LONG_END"
leaf odd odd.key "DNS:odd-ok.mail.test,DNS:odd-plain.mail.test,DNS:odd-stripped.mail.test,DNS:odd-reject454.mail.test,DNS:odd-drop.mail.test,DNS:odd-banner.mail.test,DNS:odd-drip.mail.test,DNS:odd-garbage.mail.test,DNS:odd-silent.mail.test" \
	"$LONG_START" "$LONG_END"

# Self-signed, for its own name.
ec_key mx-self.key
SAN=DNS:mx-self.mail.test sign mx-self.crt mx-self.key mx-self.mail.test v3_self \
	"$LONG_START" "$LONG_END"
cp mx-self.crt mx-self.chain.pem

# Rotation: the old key (what TLSA records published before the rotation
# name) and the new one the servers use now.
rsa_key rotate-old.key
rsa_key rotate-new.key
leaf rotate-old rotate-old.key "DNS:mx-stale.mail.test,DNS:mx-rollover.mail.test" \
	"$LONG_START" "$LONG_END"
leaf mx-stale rotate-new.key DNS:mx-stale.mail.test "$LONG_START" "$LONG_END"
leaf mx-rollover rotate-new.key DNS:mx-rollover.mail.test "$LONG_START" "$LONG_END"

chmod 644 ./*.key ./*.crt ./*.pem
echo "make.sh: PKI written to $HERE; now update the TLSA records:" >&2
"$0" --tlsa
