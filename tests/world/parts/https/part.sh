#!/bin/bash
# part.sh - the HTTPS part of the test world: MTA-STS policy servers.
#
#   part.sh start DIR    make a test CA and certificates, start nginx and
#                        stall.py, append STS_* and HTTPS_* to DIR/env
#   part.sh stop DIR     stop exactly the PIDs recorded under DIR/https
#
# nginx listens on 127.0.3.1 and serves one policy host per server_name,
# mta-sts.<case>.sts.test, each case a way a policy can be right or wrong
# (tests/world/zones/sts.test.zone says which is which, truth_sts.csv what
# a fetch must conclude). stall.py plays the servers nginx will not: one
# that stalls after the handshake (127.0.3.2), one that drips (127.0.3.3),
# one that sends an endless body (127.0.3.4), one that answers binary
# garbage (127.0.3.5), one whose headers never end (127.0.3.6). Nothing
# listens on 127.0.3.9.
#
# The PKI is made at every start under DIR/https/pki: a test CA (its PEM is
# STS_CA_FILE, for --ca-file and curl --cacert), one certificate for every
# good policy host, one for another name (other.sts.test) and one
# self-signed that no CA vouches for.
#
# Port: MXC_WORLD_HTTPS_PORT, or the first of 4443, 4453, ... free on all
# six addresses. nginx runs in the foreground of a background job (-p and
# -e under DIR/https, so it never touches /var), and $! is what stop ends.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NET=127.0.3
NGINX_ADDR=$NET.1
STALL_ADDR=$NET.2
DRIP_ADDR=$NET.3
ENDLESS_ADDR=$NET.4
GARBAGE_ADDR=$NET.5
HEADERS_ADDR=$NET.6
START_WAIT=20
STOP_WAIT=10

# Policy hosts nginx serves with the good certificate. Each has a body in
# policies/<case>.txt except notfound (404), redirect (301) and big
# (generated, over 64 KiB).
NGINX_CASES=(enforce testing none wildok wildbad some crlf notxt ctype badmode
	badline notfound redirect big)
PY_CASES=(stall drip endless garbage headers)

die() {
	echo "https/part.sh: $*" >&2
	exit 1
}

log() {
	echo "https/part.sh: $*" >&2
}

# shellcheck source=tests/world/proc.sh
source "$HERE/../../proc.sh"



do_stop() {
	local h=$1/https rc=0
	[[ -d $h ]] || return 0
	stop_one "$h/run/nginx.pid" "$h/nginx.conf" nginx || rc=1
	stop_one "$h/run/stall.pid" "$h/stall.ready" stall.py || rc=1
	return $rc
}

port_busy() {
	local p=$1 a
	for a in "$NGINX_ADDR" "$STALL_ADDR" "$DRIP_ADDR" "$ENDLESS_ADDR" \
		"$GARBAGE_ADDR" "$HEADERS_ADDR"; do
		ss -Hlnt "src $a:$p" | grep -q . && return 0
	done
	ss -Hlnt "src 0.0.0.0:$p" | grep -q . && return 0
	return 1
}

pick_port() {
	local p
	if [[ -n ${MXC_WORLD_HTTPS_PORT:-} ]]; then
		[[ $MXC_WORLD_HTTPS_PORT =~ ^[0-9]+$ ]] &&
			((MXC_WORLD_HTTPS_PORT >= 1024 && MXC_WORLD_HTTPS_PORT <= 65535)) ||
			die "MXC_WORLD_HTTPS_PORT must be a port number in 1024..65535"
		port_busy "$MXC_WORLD_HTTPS_PORT" &&
			die "port $MXC_WORLD_HTTPS_PORT is in use on $NET.x (MXC_WORLD_HTTPS_PORT)"
		echo "$MXC_WORLD_HTTPS_PORT"
		return
	fi
	for ((p = 4443; p < 4643; p += 10)); do
		port_busy "$p" || { echo "$p"; return; }
	done
	die "no free port in 4443..4642 on $NET.x; set MXC_WORLD_HTTPS_PORT"
}

# make_pki DIR: CA, the good certificate (every policy host but the two
# bad-certificate ones), one for another name, one self-signed.
make_pki() {
	local pki=$1 c sans=""
	mkdir -p "$pki"
	for c in "${NGINX_CASES[@]}" "${PY_CASES[@]}"; do
		sans+="${sans:+,}DNS:mta-sts.$c.sts.test"
	done
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.pem" \
		-days 3650 -subj "/CN=mxcensus test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
		die "openssl could not make the test CA"
	issue "$pki" good "mta-sts.enforce.sts.test" "$sans"
	issue "$pki" wrongname "other.sts.test" "DNS:other.sts.test"
	openssl req -x509 "${ec[@]}" -keyout "$pki/untrusted.key" \
		-out "$pki/untrusted.pem" -days 30 -subj "/CN=mta-sts.untrusted.sts.test" \
		-addext "subjectAltName=DNS:mta-sts.untrusted.sts.test" \
		-addext "extendedKeyUsage=serverAuth" 2>/dev/null ||
		die "openssl could not make the self-signed certificate"
}

# issue PKI NAME CN SANS: a leaf signed by the test CA.
issue() {
	local pki=$1 name=$2 cn=$3 sans=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/CN=$cn" 2>/dev/null ||
		die "openssl could not make the key of $name"
	printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=$sans" >"$pki/$name.ext"
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 30 -extfile "$pki/$name.ext" \
		-out "$pki/$name.pem" 2>/dev/null ||
		die "openssl could not sign the certificate of $name"
}

# server_block CASE CERT BODY: one nginx server for mta-sts.CASE.sts.test.
server_block() {
	local c=$1 cert=$2 body=$3
	cat <<EOF

	server {
		listen $NGINX_ADDR:$PORT ssl;
		server_name mta-sts.$c.sts.test;
		ssl_certificate $H/pki/$cert.pem;
		ssl_certificate_key $H/pki/$cert.key;
		root $H/www/$c;
$body
	}
EOF
}

write_nginx_conf() {
	local c user="" plain
	# Running as root, nginx would hand its workers to "nobody", who may
	# not read DIR; keep them as the user we are.
	(($(id -u) == 0)) && user="user $(id -un) $(id -gn);"
	plain='		location = /.well-known/mta-sts.txt { default_type text/plain; }
		location / { return 404; }'
	{
		cat <<EOF
# Generated by tests/world/parts/https/part.sh. Do not edit.
$user
worker_processes 1;
pid $H/nginx.pid;
error_log $H/error.log warn;
events { worker_connections 256; }
http {
	access_log $H/access.log;
	client_body_temp_path $H/tmp/body;
	proxy_temp_path $H/tmp/proxy;
	fastcgi_temp_path $H/tmp/fastcgi;
	uwsgi_temp_path $H/tmp/uwsgi;
	scgi_temp_path $H/tmp/scgi;
	server_tokens off;
	ssl_protocols TLSv1.2 TLSv1.3;
	types { }
	default_type application/octet-stream;

	# Unknown names: no policy here.
	server {
		listen $NGINX_ADDR:$PORT ssl default_server;
		server_name _;
		ssl_certificate $H/pki/good.pem;
		ssl_certificate_key $H/pki/good.key;
		return 421;
	}
EOF
		for c in enforce testing none wildok wildbad some notxt badmode badline big; do
			server_block "$c" good "$plain"
		done
		server_block crlf good '		location = /.well-known/mta-sts.txt { default_type text/plain; charset utf-8; charset_types text/plain; }'
		server_block ctype good '		location = /.well-known/mta-sts.txt { default_type text/html; }'
		server_block notfound good '		location / { return 404; }'
		server_block redirect good "		location / { return 301 https://mta-sts.enforce.sts.test:$PORT/.well-known/mta-sts.txt; }"
		server_block wrongname wrongname "$plain"
		server_block untrusted untrusted "$plain"
		echo "}"
	} >"$H/nginx.conf"
}

write_www() {
	local c f
	for c in enforce testing none wildok wildbad some crlf notxt ctype badmode \
		badline wrongname untrusted; do
		mkdir -p "$H/www/$c/.well-known"
		cp "$HERE/policies/$c.txt" "$H/www/$c/.well-known/mta-sts.txt"
	done
	# A valid policy padded with ignored fields to 70000 bytes: only its
	# size is wrong.
	f=$H/www/big/.well-known/mta-sts.txt
	mkdir -p "$(dirname "$f")"
	{
		printf 'version: STSv1\nmode: enforce\nmx: mail.big.sts.test\nmax_age: 604800\n'
		for ((c = 0; c < 800; c++)); do
			printf 'x-pad: %090d\n' "$c"
		done
	} >"$f"
	# Not `| head -c`: under pipefail its SIGPIPE to printf fails start.
	truncate -s 70000 "$f"
}

# wait_for DESC CMD...: poll CMD until it succeeds, bounded by START_WAIT.
wait_for() {
	local desc=$1 i
	shift
	for ((i = 0; i < START_WAIT * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	log "$desc did not come up within ${START_WAIT}s"
	return 1
}

nginx_serves() {
	[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$H/pki/ca.pem" \
		--resolve "mta-sts.enforce.sts.test:$PORT:$NGINX_ADDR" \
		"https://mta-sts.enforce.sts.test:$PORT/.well-known/mta-sts.txt") == 200 ]]
}

do_start() {
	local dir=$1
	command -v nginx >/dev/null || die "nginx is not installed (nginx-light)"
	command -v openssl >/dev/null || die "openssl is not installed"
	command -v python3 >/dev/null || die "python3 is not installed"
	command -v curl >/dev/null || die "curl is not installed"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	H=$dir/https
	do_stop "$dir" || die "could not stop the HTTPS part already running in $dir"
	rm -rf "$H"
	mkdir -p "$H/run" "$H/tmp" "$H/logs"
	PORT=$(pick_port)

	make_pki "$H/pki"
	write_www
	write_nginx_conf
	nginx -t -q -p "$H/" -e "$H/error.log" -c "$H/nginx.conf" ||
		die "nginx -t rejects $H/nginx.conf"

	nginx -p "$H/" -e "$H/error.log" -c "$H/nginx.conf" -g 'daemon off;' \
		</dev/null >"$H/nginx.out" 2>&1 &
	echo $! >"$H/run/nginx.pid"
	python3 "$HERE/stall.py" --cert "$H/pki/good.pem" --key "$H/pki/good.key" \
		--port "$PORT" --stall "$STALL_ADDR" --drip "$DRIP_ADDR" \
		--endless "$ENDLESS_ADDR" --garbage "$GARBAGE_ADDR" \
		--headers "$HEADERS_ADDR" --ready "$H/stall.ready" \
		</dev/null >"$H/stall.out" 2>&1 &
	echo $! >"$H/run/stall.pid"

	if ! wait_for "nginx on $NGINX_ADDR:$PORT" nginx_serves; then
		tail -n 20 "$H/error.log" "$H/nginx.out" >&2 || true
		do_stop "$dir" || true
		die "nginx did not start"
	fi
	if ! wait_for "stall.py on $NET.2-6:$PORT" test -e "$H/stall.ready"; then
		tail -n 20 "$H/stall.out" >&2 || true
		do_stop "$dir" || true
		die "stall.py did not start"
	fi

	{
		echo "# tests/world/parts/https"
		printf 'HTTPS_PORT=%q\n' "$PORT"
		printf 'HTTPS_ADDR=%q\n' "$NGINX_ADDR"
		printf 'STS_CA_FILE=%q\n' "$H/pki/ca.pem"
		printf 'STS_TRUTH=%q\n' "$(cd "$HERE/../.." && pwd)/truth_sts.csv"
		printf 'STS_DOMAINS=%q\n' "$(cd "$HERE/../.." && pwd)/domains_sts.txt"
		printf 'NGINX_PID=%q\n' "$(<"$H/run/nginx.pid")"
		printf 'STALL_PID=%q\n' "$(<"$H/run/stall.pid")"
	} >>"$dir/env"
	log "policy servers up: nginx $NGINX_ADDR:$PORT, stall.py $NET.2-6:$PORT"
}

[[ $# -eq 2 ]] || { echo "usage: part.sh start|stop DIR" >&2; exit 2; }
case $1 in
start) do_start "$2" ;;
stop)
	[[ -d $2 ]] || exit 0
	do_stop "$(cd "$2" && pwd)"
	;;
*) echo "usage: part.sh start|stop DIR" >&2; exit 2 ;;
esac
