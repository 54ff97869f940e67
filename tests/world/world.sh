#!/bin/bash
# world.sh - the loopback DNS world the end-to-end tests scan.
#
#   world.sh start DIR     build the world under DIR and start its servers
#   world.sh stop DIR      stop the servers recorded under DIR
#   world.sh status DIR    exit 0 if both servers recorded under DIR run
#
# The world is a private DNS tree that lives on 127.0.0.1 only: NSD serves a
# private root zone ".", the TLDs test. and example. (names reserved by RFC
# 6761 and RFC 2606, so nothing here can collide with a real delegation) and
# the second-level zones of tests/world/zones/, plus bulk.test, a zone of
# generated domains for the larger tests. Unbound is the recursive resolver
# the scanner talks to; its only way into the tree is a stub zone per hosted
# zone pointing at NSD's port. Stub zones, not root hints, because NS records
# cannot carry a port: a delegation followed by address would go to port 53.
# The one delegation that is not stubbed is lame.test, whose server address
# (127.0.0.9 port 53) has nothing listening: that is the lame case.
#
# The world is signed. A zone whose source file carries the comment
#   ; mxc-sign: ALGORITHM [nsec | nsec3 [optout] [iterations=N] [salt=HEX]]
#               [inception=WHEN] [expiration=WHEN]
#               [ds=good|none|mismatch|unknown-digest]
# gets a fresh key at every start (DIR/keys) and its copy is signed with
# ldns-signzone, children before parents, each child's DS added to its
# parent's copy before the parent is signed, the root last. A zone without
# the comment stays unsigned and its delegation has no DS (insecure). The
# broken cases of truth_dnssec.csv damage a signed zone after signing with
#   ; mxc-break: drop-rrsig OWNER TYPE   (remove the RRSIG over an RRset)
#   ; mxc-break: drop OWNER TYPE         (remove an RRset and its RRSIG)
#   ; mxc-break: wrong-key OWNER TYPE    (re-sign it with a key not in the
#                                         zone's DNSKEY RRset)
#   ; mxc-break: bad-signature OWNER TYPE (change a byte of its signature)
# The root's key is the trust anchor (DIR/keys/root.ds, DIR/keys/root.key)
# and Unbound validates with it; tests/world/README.md has the details.
#
# Everything the world writes stays under DIR: generated configs, keys,
# copies of the zones (signed copies, never the sources), logs, and the PIDs
# of the two servers, which run in the foreground of a background job so
# that `stop` can end exactly them, never anything by name. DIR/env holds
# shell assignments (UNBOUND_ADDR, NSD_ADDR, TRUST_ANCHOR, ...) that tests
# source.
#
# Ports: MXC_WORLD_PORT_BASE=B puts Unbound on B and NSD on B+1. Without it
# the first free pair among 25530, 25540, ... is used, so that several build
# trees on one machine can each run a world. Unbound also listens on port 53
# of a free 127.0.53.N (RESOLV_ADDR in DIR/env) for tools that only know
# resolv.conf; that needs the right to bind port 53, and without it
# RESOLV_ADDR is left empty. MXC_WORLD_BULK sets how many
# domains bulk.test holds (default 3000). MXC_WORLD_UNBOUND_VERBOSITY sets
# Unbound's log verbosity (default 1) when a test needs debugging.
set -euo pipefail
# A failure inside $(...) ends the substitution too (the signer's steps).
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOOPBACK=127.0.0.1
# Seconds to wait for a server to answer, and for one to exit after SIGTERM.
START_WAIT=20
STOP_WAIT=10

die() {
	echo "world.sh: $*" >&2
	exit 1
}

log() {
	echo "world.sh: $*" >&2
}

# shellcheck source=tests/world/proc.sh
source "$HERE/proc.sh"

usage() {
	echo "usage: world.sh start|stop|status DIR" >&2
	exit 2
}

# True if something listens on UDP or TCP port $1 of the loopback.
port_busy() {
	local p=$1
	ss -Hlnu "sport = :$p" | grep -q . && return 0
	ss -Hlnt "sport = :$p" | grep -q . && return 0
	return 1
}



# The world's other servers (mail, HTTPS, ...) are parts: each
# tests/world/parts/<name>/part.sh takes "start DIR" and "stop DIR", keeps
# its files under DIR/<name>, may append assignments to DIR/env, and stops
# exactly the PIDs it started. Parts start after the DNS is up (in name
# order) and stop before it (in reverse order).
parts() {
	local p
	for p in "$HERE"/parts/*/part.sh; do
		[[ -e $p ]] && echo "$p"
	done
}

do_stop() {
	local dir=$1 rc=0 p
	[[ -d $dir ]] || return 0
	while read -r p; do
		[[ -n $p ]] || continue
		bash "$p" stop "$dir" || rc=1
	done < <(parts | sort -r)
	stop_one "$dir/run/unbound.pid" "$dir/unbound.conf" unbound || rc=1
	stop_one "$dir/run/nsd.pid" "$dir/nsd.conf" nsd || rc=1
	return $rc
}

# Zone name of a zone file: "root.zone" serves ".", "x.test.zone" x.test.
zone_of() {
	local base
	base=$(basename "$1" .zone)
	if [[ $base == root ]]; then
		echo "."
	else
		echo "$base."
	fi
}

# bulk.test: $1 generated domains d00000.bulk.test ... for the resume and
# shard tests. Deterministic (a function of the index only), so every run
# of the world is the same. Mixes the cases the scanner handles differently
# so that a larger run exercises them all: MX at shared hosts (most), an
# own host, implicit MX, null MX, nothing, and a few names absent from the
# zone (NXDOMAIN).
gen_bulk() {
	local n=$1 zone=$2 list=$3
	awk -v n="$n" -v zone="$zone" -v list="$list" 'BEGIN {
		print "; bulk.test: generated by world.sh, do not edit." > zone
		print "$ORIGIN bulk.test." > zone
		print "$TTL 3600" > zone
		print "@\tIN SOA\tns1.bulk.test. hostmaster.bulk.test. 2026010101 3600 600 86400 300" > zone
		print "@\tIN NS\tns1.bulk.test." > zone
		print "ns1\tIN A\t127.0.0.1" > zone
		for (h = 0; h < 8; h++) {
			printf "mx%d\tIN A\t192.0.2.%d\n", h, 100 + h > zone
			if (h % 2 == 0)
				printf "mx%d\tIN AAAA\t2001:db8:b::%x\n", h, 256 + h > zone
		}
		print "_25._tcp.mx0\tIN TLSA\t3 1 1 " \
		      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" > zone
		print "# bulk.test domains, generated by world.sh" > list
		for (i = 0; i < n; i++) {
			d = sprintf("d%05d", i)
			print d ".bulk.test" > list
			k = i % 100
			if (k == 97)
				continue;		# not in the zone: NXDOMAIN
			if (k == 98) {
				printf "%s\tIN MX\t0 .\n", d > zone
				continue
			}
			if (k == 99) {
				printf "%s\tIN TXT\t\"v=spf1 -all\"\n", d > zone
				continue
			}
			if (k == 96) {
				printf "%s\tIN A\t198.51.100.%d\n", d, 1 + i % 250 > zone
				continue
			}
			if (k == 95) {
				printf "%s\tIN MX\t10 mail.%s.bulk.test.\n", d, d > zone
				printf "mail.%s\tIN A\t203.0.113.%d\n", d, 1 + i % 250 > zone
				continue
			}
			# Zipf-like: low-numbered hosts serve most domains.
			h = (i * 7919) % 64
			p = (h < 32) ? 0 : (h < 48) ? 1 : (h < 56) ? 2 : (h < 60) ? 3 : 4 + h % 4
			printf "%s\tIN MX\t10 mx%d.bulk.test.\n", d, p > zone
			if (i % 3 == 0)
				printf "%s\tIN MX\t20 mx%d.bulk.test.\n", d, (p + 1) % 8 > zone
			if (i % 5 < 3)
				printf "%s\tIN TXT\t\"v=spf1 mx -all\"\n", d > zone
			if (i % 10 < 3)
				printf "_dmarc.%s\tIN TXT\t\"v=DMARC1; p=none\"\n", d > zone
			if (i % 10 == 0)
				printf "_mta-sts.%s\tIN TXT\t\"v=STSv1; id=20260101T000000;\"\n", d > zone
		}
	}'
}

# --- Signing -----------------------------------------------------------
#
# The signer works on the copies in DIR/zones, one zone at a time, deepest
# first, so that every child's DS is in its parent's copy before the parent
# is signed. A zone is first flattened by ldns-read-zone (absolute names,
# one record a line), which keeps the awk below to whole fields; the
# signed text ldns-signzone writes has the same shape, and that is what the
# breaks edit and NSD serves. Keys are made fresh at every start: a world is
# short-lived, and a key that never leaves DIR cannot go stale or leak into
# a real resolver.

# Labels of a zone name: "." has none, "a.test." two.
labels() {
	local z=$1 dots
	[[ $z == . ]] && { echo 0; return; }
	dots=${z//[^.]/}
	echo "${#dots}"
}

# File-name form of a zone: "." is "root", "a.test." is "a.test".
zone_tag() {
	if [[ $1 == . ]]; then echo root; else echo "${1%.}"; fi
}

# Directive lines "LINENO<TAB>ARGS" of whole-line comments "; mxc-$2: ARGS"
# in zone file $1. A comment naming another mxc-* directive is a typo that
# would silently leave a case unbuilt, so it is reported as "?LINENO<TAB>NAME".
directive_lines() {
	awk -v want="$2" '
		{ sub(/\r$/, "") }
		/^[ \t]*;[ \t]*mxc-[a-z]*:/ {
			s = $0
			sub(/^[ \t]*;[ \t]*mxc-/, "", s)
			name = s
			sub(/:.*/, "", name)
			sub(/^[a-z]*:[ \t]*/, "", s)
			sub(/[ \t]+$/, "", s)
			if (name == want)
				print NR "\t" s
			else if (name != "sign" && name != "break")
				print "?" NR "\t" name
		}' "$1"
}

# When an offset "+30d", "-1d", "+2h", "-15m" from the start-up time
# $2 (seconds since the epoch) falls, in ldns-signzone's YYYYMMDDhhmmss
# (UTC). Empty output for a malformed offset.
sign_time() {
	local off=$1 now=$2 n unit
	[[ $off =~ ^([+-][0-9]{1,4})([dhm])$ ]] || return 0
	n=${BASH_REMATCH[1]}
	unit=${BASH_REMATCH[2]}
	case $unit in
	d) n=$((n * 86400)) ;;
	h) n=$((n * 3600)) ;;
	m) n=$((n * 60)) ;;
	esac
	date -u -d "@$((now + n))" +%Y%m%d%H%M%S
}

# New key of algorithm $2 for zone $3 in key directory $1; prints its base
# name (K<zone>+<alg>+<tag>). One key per zone with the SEP flag (a
# combined signing key): the world tests validation, not key rollover.
make_key() {
	local keydir=$1 alg=$2 zone=$3 bits=()
	[[ $alg == RSA* ]] && bits=(-b 2048)
	(cd "$keydir" && ldns-keygen -a "$alg" "${bits[@]}" -k "$zone") ||
		die "ldns-keygen -a $alg $zone failed"
}

# Records of flattened zone text $1 with owner $2 and type $3 (RRSIG: those
# covering type $3 when $4 is "rrsig"), or all others when $5 is "invert".
select_rrs() {
	awk -v owner="$2" -v type="$3" -v sig="$4" -v invert="$5" '
		/^[ \t]*(;|$)/ { next }
		{
			hit = tolower($1) == tolower(owner) &&
				(sig == "rrsig" ? ($4 == "RRSIG" && toupper($5) == type) : $4 == type)
			if (hit != (invert == "invert"))
				print
		}' "$1"
}

# Absolute form of owner $1 of a mxc-break directive in zone $2.
break_owner() {
	local o=$1 z=$2
	if [[ $o == @ ]]; then
		echo "$z"
	elif [[ $o == *. ]]; then
		echo "$o"
	elif [[ $z == . ]]; then
		echo "$o."
	else
		echo "$o.$z"
	fi
}

# Apply the mxc-break directives of source $1 (for messages) / copy $2 to
# signed zone $3 of zone $4; $5 is the key directory, $6 the algorithm and
# $7.. the ldns-signzone validity options, which a wrong-key signature
# shares so that only its key is wrong.
apply_breaks() {
	local src=$1 copy=$2 signed=$3 z=$4 keydir=$5 alg=$6
	shift 6
	local validity=("$@") ln args action owner type rogue="" work
	local -a w
	work=$(dirname "$signed")/$(zone_tag "$z")
	while IFS=$'\t' read -r ln args; do
		[[ -n $ln ]] || continue
		read -r -a w <<<"$args"
		((${#w[@]} == 3)) ||
			die "$src:$ln: mxc-break takes ACTION OWNER TYPE, not '$args'"
		action=${w[0]}
		owner=$(break_owner "${w[1]}" "$z")
		type=${w[2]^^}
		[[ $type =~ ^[A-Z][A-Z0-9]*$ ]] || die "$src:$ln: '${w[2]}' is not a record type"
		case $action in
		drop-rrsig)
			[[ -n $(select_rrs "$signed" "$owner" "$type" rrsig "") ]] ||
				die "$src:$ln: no RRSIG over $owner $type to drop after signing"
			select_rrs "$signed" "$owner" "$type" rrsig invert >"$work.brk"
			;;
		drop)
			[[ -n $(select_rrs "$signed" "$owner" "$type" "" "") ]] ||
				die "$src:$ln: no $owner $type RRset to drop after signing"
			select_rrs "$signed" "$owner" "$type" "" invert |
				select_rrs /dev/stdin "$owner" "$type" rrsig invert >"$work.brk"
			;;
		wrong-key)
			[[ -n $(select_rrs "$signed" "$owner" "$type" rrsig "") ]] ||
				die "$src:$ln: no signed $owner $type RRset to re-sign"
			# Same algorithm and owner, never published: the signature
			# is well formed and names a key the zone does not have.
			[[ -n $rogue ]] || rogue=$(make_key "$keydir" "$alg" "$z")
			{
				select_rrs "$signed" "$z" SOA "" ""
				select_rrs "$signed" "$owner" "$type" "" ""
			} >"$work.rogue.in"
			ldns-signzone -d "${validity[@]}" -o "$z" -f "$work.rogue.out" \
				"$work.rogue.in" "$keydir/$rogue" 2>"$work.rogue.log" ||
				die "$src:$ln: re-signing $owner $type failed: $(<"$work.rogue.log")"
			{
				select_rrs "$signed" "$owner" "$type" rrsig invert
				select_rrs "$work.rogue.out" "$owner" "$type" rrsig ""
			} >"$work.brk"
			;;
		bad-signature)
			[[ -n $(select_rrs "$signed" "$owner" "$type" rrsig "") ]] ||
				die "$src:$ln: no RRSIG over $owner $type to damage"
			# One base64 character in the middle of the signature (the
			# last field) changes: still well formed, key tag still
			# right, and no longer the key's signature.
			{
				select_rrs "$signed" "$owner" "$type" rrsig invert
				select_rrs "$signed" "$owner" "$type" rrsig "" | awk '{
					i = int(length($NF) / 2)
					c = substr($NF, i, 1)
					$NF = substr($NF, 1, i - 1) (c == "A" ? "B" : "A") substr($NF, i + 1)
					print
				}'
			} >"$work.brk"
			;;
		*)
			die "$src:$ln: unknown mxc-break action '$action' (drop-rrsig, drop, wrong-key, bad-signature)"
			;;
		esac
		mv "$work.brk" "$signed"
	done < <(directive_lines "$copy" break)
}

# Sign copy $2 of zone $1 if its source carries an mxc-sign directive, and
# hand its DS to the parent: appended to the parent's copy $3 (not yet
# signed, as children go first), or for the root written as the trust
# anchor. $4 is DIR, $5 the start-up time. Prints "signed" or "unsigned".
sign_zone() {
	local z=$1 copy=$2 parent_copy=$3 dir=$4 now=$5
	local src keydir=$dir/keys work tag ln args key ds a
	local alg denial=nsec optout=0 iter=0 salt="" inc=-1h exp=+30d dsmode=good
	local -a lines w opts validity
	tag=$(zone_tag "$z")
	src=$HERE/zones/$(basename "$copy")
	[[ -e $src ]] || src=$copy
	work=$dir/sign/$tag

	mapfile -t lines < <(directive_lines "$copy" sign)
	for ln in "${lines[@]}"; do
		[[ $ln != \?* ]] || {
			a=${ln%%$'\t'*}
			die "$src:${a#\?}: unknown directive 'mxc-${ln#*$'\t'}:' (mxc-sign, mxc-break)"
		}
	done
	if ((${#lines[@]} == 0)); then
		[[ -z $(directive_lines "$copy" break) ]] ||
			die "$src: mxc-break without mxc-sign: an unsigned zone has nothing to break"
		echo unsigned
		return
	fi
	((${#lines[@]} == 1)) || die "$src:${lines[1]%%$'\t'*}: a second mxc-sign directive"
	ln=${lines[0]%%$'\t'*}
	args=${lines[0]#*$'\t'}
	read -r -a w <<<"$args"
	((${#w[@]} > 0)) || die "$src:$ln: mxc-sign needs an algorithm"
	alg=${w[0]^^}
	case $alg in
	RSAMD5 | RSASHA1 | RSASHA1-NSEC3-SHA1 | RSASHA256 | RSASHA512) ;;
	ECDSAP256SHA256 | ECDSAP384SHA384 | ED25519 | ED448) ;;
	*) die "$src:$ln: unknown algorithm '${w[0]}' (RSASHA256, ECDSAP256SHA256, ECDSAP384SHA384, ED25519, ...)" ;;
	esac
	for a in "${w[@]:1}"; do
		case $a in
		nsec | nsec3) denial=$a ;;
		optout) optout=1 ;;
		iterations=*)
			iter=${a#*=}
			if ! [[ $iter =~ ^[0-9]{1,4}$ ]] || ((iter > 2500)); then
				die "$src:$ln: iterations must be 0..2500, not '$iter'"
			fi
			;;
		salt=*)
			salt=${a#*=}
			[[ $salt =~ ^([0-9a-fA-F]{2}){1,64}$ ]] ||
				die "$src:$ln: salt must be 1..64 bytes of hex, not '$salt'"
			;;
		inception=*) inc=${a#*=} ;;
		expiration=*) exp=${a#*=} ;;
		ds=good | ds=none | ds=mismatch | ds=unknown-digest) dsmode=${a#ds=} ;;
		*) die "$src:$ln: unknown mxc-sign option '$a'" ;;
		esac
	done
	if [[ $denial == nsec ]] && ((optout || iter)) || [[ $denial == nsec && -n $salt ]]; then
		die "$src:$ln: optout, iterations and salt need nsec3"
	fi
	validity=(-i "$(sign_time "$inc" "$now")" -e "$(sign_time "$exp" "$now")")
	[[ -n ${validity[1]} ]] || die "$src:$ln: inception '$inc' is not an offset like -1h, +1d"
	[[ -n ${validity[3]} ]] || die "$src:$ln: expiration '$exp' is not an offset like +30d, -1d"

	key=$(make_key "$keydir" "$alg" "$z")
	ldns-read-zone -z "$copy" >"$work.flat" 2>"$work.log" ||
		die "$src: ldns-read-zone cannot read the zone: $(<"$work.log")"

	opts=(-o "$z")
	if [[ $denial == nsec3 ]]; then
		opts+=(-n -a 1 -t "$iter")
		[[ -n $salt ]] && opts+=(-s "$salt")
		((optout)) && opts+=(-p)
	fi
	: >"$work.aside"
	if ((optout)); then
		# ldns-signzone -p sets the flag but still gives every insecure
		# delegation an NSEC3 record. Real opt-out leaves them out of
		# the chain: sign without them (their NS and glue are never
		# signed anyway) and put them back afterwards.
		awk -v apex="$z" -v aside="$work.aside" '
			NR == FNR {
				if ($4 == "NS" && tolower($1) != tolower(apex))
					ns[tolower($1)] = 1
				if ($4 == "DS")
					ds[tolower($1)] = 1
				next
			}
			{
				o = tolower($1)
				for (c in ns)
					if (!(c in ds) && (o == c ||
					    substr(o, length(o) - length(c)) == "." c)) {
						print > aside
						next
					}
				print
			}' "$work.flat" "$work.flat" >"$work.in"
	else
		cp "$work.flat" "$work.in"
	fi
	ldns-signzone "${opts[@]}" "${validity[@]}" -f "$work.signed" "$work.in" \
		"$keydir/$key" 2>"$work.log" ||
		die "$src: ldns-signzone failed: $(<"$work.log")"
	cat "$work.aside" >>"$work.signed"
	apply_breaks "$src" "$copy" "$work.signed" "$z" "$keydir" "$alg" "${validity[@]}"

	case $dsmode in
	good) ds=$(ldns-key2ds -n -2 "$keydir/$key.key") ;;
	none) ds="" ;;
	mismatch)
		# The digest of a key that exists but signs nothing here.
		ds=$(ldns-key2ds -n -2 "$keydir/$(make_key "$keydir" "$alg" "$z").key")
		;;
	unknown-digest)
		# Digest type 200 is unassigned: no validator can check it.
		ds=$(ldns-key2ds -n -2 "$keydir/$key.key" | awk '{ $7 = 200; print }')
		;;
	esac
	if [[ $z == . ]]; then
		[[ $dsmode == good ]] || die "$src:$ln: the root is the trust anchor; its ds= must be good"
		printf '%s\n' "$ds" >"$keydir/root.ds"
		# Without ldns's trailing ";{id = ...}" comment.
		awk '$4 == "DNSKEY" { sub(/[ \t]*;.*/, ""); print }' "$work.signed" >"$keydir/root.key"
	elif [[ -n $ds ]]; then
		if [[ -z $parent_copy ]]; then
			log "$z is signed but the world holds no parent zone for its DS"
		elif [[ -z $(directive_lines "$parent_copy" sign) ]]; then
			log "$z is signed under an unsigned parent: an island of security"
		else
			printf '; DS of %s, added by world.sh (ds=%s)\n%s\n' \
				"$z" "$dsmode" "$ds" >>"$parent_copy"
		fi
	fi
	cp "$work.signed" "$copy"
	echo signed
}

# Sign the zones of DIR/zones (see sign_zone) deepest first. The root must
# be signed: it is the trust anchor of the world.
sign_world() {
	local dir=$1 now f z p best bl l n=0 got
	local -A file_of=()
	now=$(date -u +%s)
	rm -rf "$dir/keys" "$dir/sign"
	mkdir -p "$dir/keys" "$dir/sign"
	for f in "$dir"/zones/*.zone; do
		file_of[$(zone_of "$f")]=$f
	done
	[[ -n ${file_of[.]:-} ]] || die "no root zone (zones/root.zone)"
	while read -r _ z; do
		# The parent is the longest other hosted zone that ends the name.
		best=""
		bl=-1
		for p in "${!file_of[@]}"; do
			[[ $p != "$z" ]] || continue
			[[ $p == . || $z == *."$p" ]] || continue
			l=$(labels "$p")
			if ((l > bl)); then
				best=$p
				bl=$l
			fi
		done
		got=$(sign_zone "$z" "${file_of[$z]}" "${best:+${file_of[$best]}}" "$dir" "$now")
		if [[ $got == signed ]]; then
			n=$((n + 1))
		elif [[ $z == . ]]; then
			die "the root zone has no mxc-sign directive; the world needs a trust anchor"
		fi
	done < <(for z in "${!file_of[@]}"; do echo "$(labels "$z") $z"; done | sort -k1,1nr -k2,2)
	log "signed $n zones; trust anchor $dir/keys/root.ds"
}

write_nsd_conf() {
	local dir=$1 port=$2 f z
	{
		cat <<EOF
# Generated by world.sh: NSD of the mxcensus test world. Do not edit.
server:
	ip-address: $LOOPBACK@$port
	port: $port
	do-ip4: yes
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$dir/zones"
	zonelistfile: "$dir/nsd.zonelist"
	xfrdfile: "$dir/nsd.xfrd.state"
	xfrdir: "$dir/tmp"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	verbosity: 1
	hide-version: yes
	# Answer every query the tests send: no response rate limiting.
	rrl-ratelimit: 0

remote-control:
	control-enable: no
EOF
		for f in "$dir"/zones/*.zone; do
			z=$(zone_of "$f")
			printf '\nzone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
				"$z" "$(basename "$f")"
		done
	} >"$dir/nsd.conf"
}

write_unbound_conf() {
	local dir=$1 port=$2 nsd_port=$3 resolv=$4 f z
	{
		cat <<EOF
# Generated by world.sh: the recursive resolver of the mxcensus test world.
# Do not edit. Its only way into the DNS is the stub zones below, all of
# which point at our NSD on the loopback.
server:
	interface: $LOOPBACK
	port: $port
EOF
		if [[ -n $resolv ]]; then
			printf '\t# For tools that read resolv.conf, which has no port.\n'
			printf '\tinterface: %s@53\n' "$resolv"
		fi
		cat <<EOF
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	# Queries leave from the loopback only, so that nothing can reach
	# another network even if a delegation named another address.
	outgoing-interface: $LOOPBACK
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	logfile: "$dir/unbound.log"
	use-syslog: no
	do-daemonize: no
	verbosity: ${MXC_WORLD_UNBOUND_VERBOSITY:-1}
	num-threads: 1
	so-reuseport: no
	num-queries-per-thread: 4096
	outgoing-range: 8192
	# Our servers live on 127.0.0.0/8, which Unbound refuses by default.
	do-not-query-localhost: no
	# test. is one of Unbound's built-in empty local zones (RFC 6761):
	# turn that off so that it is resolved through our stub.
	local-zone: "test." nodefault
	# Validating, from the private root's key. Plain queries get the
	# reference verdict (AD bit, or SERVFAIL for bogus); queries with the
	# CD bit get the data whatever its state, which is how the scanner
	# asks so that it can judge the answers itself.
	module-config: "validator iterator"
	trust-anchor-file: "$dir/keys/root.ds"
	# Why an answer is bogus, in the log and as an Extended DNS Error
	# (RFC 8914) in the answer, which the tests compare with the truth.
	val-log-level: 2
	ede: yes
	# Every answer from the zones as served: no denial synthesized from
	# cached NSEC records (RFC 8198), no bogus answer kept for long.
	aggressive-nsec: no
	val-bogus-ttl: 5
	# Give up on unreachable servers (lame.test) within about a second,
	# not minutes (measured: 0.8 s with 500 ms, 2.3 s with 1000 ms; below
	# Unbound's initial 376 ms guess, healthy servers fail too), and do
	# not remember them as down for long.
	infra-cache-max-rtt: 500
	infra-host-ttl: 60
	infra-keep-probing: yes
	outbound-msg-retry: 2
	# Unbound drops an answer it took longer than discard-timeout to find,
	# expecting the client to have retried; a SERVFAIL that took a while
	# is exactly what the tests want to see, so keep it.
	discard-timeout: 10000
	# No stale answers, no prefetch: every test sees the zones as they are.
	serve-expired: no
	prefetch: no
	minimal-responses: yes
	# Whole names to each server: fewer queries, simpler logs.
	qname-minimisation: no

remote-control:
	control-enable: no
EOF
		for f in "$dir"/zones/*.zone; do
			z=$(zone_of "$f")
			printf '\nstub-zone:\n\tname: "%s"\n\tstub-addr: %s@%s\n\tstub-prime: no\n' \
				"$z" "$LOOPBACK" "$nsd_port"
		done
	} >"$dir/unbound.conf"
}

# Poll until `dig @127.0.0.1 -p $1 $2 $3` answers with status $4 and the
# server's PID (file $5, marker $6) stays alive; bounded by START_WAIT.
wait_answer() {
	local port=$1 qname=$2 qtype=$3 want=$4 pidfile=$5 marker=$6 name=$7 i out
	local rd=+recurse
	[[ $name == nsd ]] && rd=+norecurse
	for ((i = 0; i < START_WAIT * 4; i++)); do
		# kill -0 only: right after the fork the child may not have
		# exec'd yet, so its command line is still ours.
		if ! kill -0 "$(<"$pidfile")" 2>/dev/null; then
			log "$name exited during start-up; its log:"
			tail -n 20 "${marker%.conf}.log" "${marker%.conf}.out" >&2 2>/dev/null || true
			return 1
		fi
		# NSD is asked without recursion, Unbound with it.
		out=$(dig @"$LOOPBACK" -p "$port" "$qname" "$qtype" +time=2 +tries=1 \
			"$rd" 2>/dev/null || true)
		if grep -q "status: $want" <<<"$out"; then
			return 0
		fi
		sleep 0.25
	done
	log "$name on port $port did not answer $qname $qtype within ${START_WAIT}s"
	return 1
}

pick_ports() {
	local base
	if [[ -n ${MXC_WORLD_PORT_BASE:-} ]]; then
		if ! [[ $MXC_WORLD_PORT_BASE =~ ^[0-9]+$ ]] ||
			((MXC_WORLD_PORT_BASE < 1024 || MXC_WORLD_PORT_BASE > 65534)); then
			die "MXC_WORLD_PORT_BASE must be a port number in 1024..65534"
		fi
		base=$MXC_WORLD_PORT_BASE
		if port_busy "$base" || port_busy $((base + 1)); then
			die "port $base or $((base + 1)) is in use (MXC_WORLD_PORT_BASE)"
		fi
		echo "$base"
		return
	fi
	# Below the ephemeral range (32768-60999 on Linux): a port there may be
	# taken at any moment by some process's outgoing socket, our own
	# resolver's random source ports included.
	for ((base = 25530; base < 25730; base += 10)); do
		if ! port_busy "$base" && ! port_busy $((base + 1)); then
			echo "$base"
			return
		fi
	done
	die "no free port pair in 25530..25729; set MXC_WORLD_PORT_BASE"
}

# A 127.0.53.N whose port 53 is free, for Unbound's resolv.conf address,
# starting at an N derived from Unbound's port $1 so that worlds on other
# ports rarely race for the same one. Empty (with a note) when this process
# may not bind port 53 or a wildcard listener holds it.
pick_resolv_addr() {
	local port=$1 n i held
	if (($(id -u) != 0)) &&
		(($(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024) > 53)); then
		log "no right to bind port 53: RESOLV_ADDR left empty"
		return 0
	fi
	held=$({ ss -Hlnu 'sport = :53'; ss -Hlnt 'sport = :53'; } | awk '{ print $4 }')
	if grep -qE '^(0\.0\.0\.0|\*|\[::\]):53$' <<<"$held"; then
		log "a wildcard listener holds port 53: RESOLV_ADDR left empty"
		return 0
	fi
	for ((i = 0; i < 254; i++)); do
		n=$(((port + i) % 254 + 1))
		if ! grep -qE "^127\.0\.53\.$n(%[a-z0-9]+)?:53\$" <<<"$held"; then
			echo "127.0.53.$n"
			return 0
		fi
	done
	log "every 127.0.53.N:53 is taken: RESOLV_ADDR left empty"
}

# Fail unless Unbound on port $1 validates: one.test (signed, under the
# signed test.) must come back with the AD bit. Without this a broken
# trust anchor would show up as a wall of "insecure" in every test.
check_validating() {
	local port=$1 out
	out=$(dig @"$LOOPBACK" -p "$port" one.test MX +time=5 +tries=2 2>&1 || true)
	grep -q '^;; flags:.* ad[ ;]' <<<"$out" && return 0
	log "Unbound does not validate the signed world (no AD bit on one.test MX):"
	printf '%s\n' "$out" | sed -n '/HEADER/,/^$/p' >&2
	return 1
}

do_start() {
	local dir=$1 base ub_port nsd_port bulk f z p resolv
	command -v nsd >/dev/null || die "nsd is not installed"
	command -v ldns-signzone >/dev/null || die "ldns-signzone is not installed (ldnsutils)"
	command -v unbound >/dev/null || die "unbound is not installed"
	command -v dig >/dev/null || die "dig is not installed (bind9-dnsutils)"

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# Idempotent: a world already running here is stopped first.
	do_stop "$dir" || die "could not stop the world already running in $dir"

	bulk=${MXC_WORLD_BULK:-3000}
	if ! [[ $bulk =~ ^[0-9]+$ ]] || ((bulk > 99999)); then
		die "MXC_WORLD_BULK must be 0..99999"
	fi
	base=$(pick_ports)
	ub_port=$base
	nsd_port=$((base + 1))

	rm -rf "$dir/zones" "$dir/run" "$dir/tmp" "$dir/env" "$dir/keys" "$dir/sign"
	rm -f "$dir"/nsd.* "$dir"/unbound.* "$dir/bulk.txt"
	mkdir -p "$dir/zones" "$dir/run" "$dir/tmp"
	cp "$HERE"/zones/*.zone "$dir/zones/"
	gen_bulk "$bulk" "$dir/zones/bulk.test.zone" "$dir/bulk.txt"
	sign_world "$dir"
	for f in "$dir"/zones/*.zone; do
		z=$(zone_of "$f")
		nsd-checkzone "$z" "$f" >/dev/null || die "zone $z ($f) is broken"
	done

	write_nsd_conf "$dir" "$nsd_port"
	resolv=$(pick_resolv_addr "$ub_port")
	write_unbound_conf "$dir" "$ub_port" "$nsd_port" "$resolv"
	nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejects $dir/nsd.conf"
	unbound-checkconf "$dir/unbound.conf" >/dev/null ||
		die "unbound-checkconf rejects $dir/unbound.conf"

	# Foreground servers in background jobs: $! is the server itself.
	nsd -d -c "$dir/nsd.conf" </dev/null >"$dir/nsd.out" 2>&1 &
	echo $! >"$dir/run/nsd.pid"
	if ! wait_answer "$nsd_port" . SOA NOERROR "$dir/run/nsd.pid" \
		"$dir/nsd.conf" nsd; then
		do_stop "$dir" || true
		die "NSD did not start"
	fi

	unbound -d -c "$dir/unbound.conf" </dev/null >"$dir/unbound.out" 2>&1 &
	echo $! >"$dir/run/unbound.pid"
	# Through the whole chain: root stub -> test. -> provider.test.
	if ! wait_answer "$ub_port" mx1.provider.test A NOERROR \
		"$dir/run/unbound.pid" "$dir/unbound.conf" unbound; then
		do_stop "$dir" || true
		die "Unbound did not start"
	fi
	if ! check_validating "$ub_port"; then
		do_stop "$dir" || true
		die "Unbound does not validate with $dir/keys/root.ds"
	fi

	{
		echo "# Generated by world.sh start; source this file."
		printf 'WORLD_DIR=%q\n' "$dir"
		printf 'WORLD_SOURCE=%q\n' "$HERE"
		printf 'WORLD_DOMAINS=%q\n' "$HERE/domains.txt"
		printf 'WORLD_TRUTH=%q\n' "$HERE/truth.csv"
		printf 'WORLD_TRUTH_HOSTS=%q\n' "$HERE/truth_hosts.csv"
		printf 'UNBOUND_ADDR=%q\n' "$LOOPBACK:$ub_port"
		printf 'UNBOUND_PORT=%q\n' "$ub_port"
		printf 'NSD_ADDR=%q\n' "$LOOPBACK:$nsd_port"
		printf 'NSD_PORT=%q\n' "$nsd_port"
		printf 'UNBOUND_PID=%q\n' "$(<"$dir/run/unbound.pid")"
		printf 'NSD_PID=%q\n' "$(<"$dir/run/nsd.pid")"
		printf 'BULK_LIST=%q\n' "$dir/bulk.txt"
		printf 'BULK_COUNT=%q\n' "$bulk"
		printf 'WORLD_TRUTH_DNSSEC=%q\n' "$HERE/truth_dnssec.csv"
		printf 'TRUST_ANCHOR=%q\n' "$dir/keys/root.ds"
		printf 'TRUST_ANCHOR_KEY=%q\n' "$dir/keys/root.key"
		printf 'RESOLV_ADDR=%q\n' "$resolv"
	} >"$dir/env.tmp"
	mv "$dir/env.tmp" "$dir/env"
	while read -r p; do
		[[ -n $p ]] || continue
		if ! bash "$p" start "$dir"; then
			do_stop "$dir" || true
			die "world part $p did not start"
		fi
	done < <(parts)
	log "world up in $dir: unbound $LOOPBACK:$ub_port${resolv:+ and $resolv:53}, nsd $LOOPBACK:$nsd_port"
}

do_status() {
	local dir=$1
	pid_live "$dir/run/nsd.pid" "$dir/nsd.conf" &&
		pid_live "$dir/run/unbound.pid" "$dir/unbound.conf"
}

[[ $# -eq 2 ]] || usage
case $1 in
start) do_start "$2" ;;
stop)
	[[ -d $2 ]] || exit 0
	do_stop "$(cd "$2" && pwd)"
	;;
status) do_status "$(cd "$2" && pwd)" ;;
*) usage ;;
esac
