# Shared helpers of the boot tests: start an image with 'appliance-builder boot', watch its serial
# console, talk to it through host forwards bound to 127.0.0.1 only. Source it; it sets a trap that
# stops every VM and removes the work directory.
# shellcheck shell=bash

set -euo pipefail

: "${BUILDER:?BUILDER must name the appliance-builder binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"

BOOT_WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/boot-test.XXXXXX")
declare -A VM_PID=()

boot_cleanup() {
	local name
	for name in "${!VM_PID[@]}"; do
		kill "${VM_PID[$name]}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${KEEP_BOOT_WORK:-}" ]; then
		echo "boot: work directory kept: $BOOT_WORK" >&2
	else
		rm -rf "$BOOT_WORK"
	fi
}
trap boot_cleanup EXIT

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
fail() {
	log "FAIL: $*"
	local f
	for f in "$BOOT_WORK"/*.serial; do
		[ -f "$f" ] || continue
		echo "---- last lines of $(basename "$f")"
		tail -n 60 "$f" | tr -d '\r'
	done
	exit 1
}

# Skips (exit 77) unless the tools a boot needs are present.
boot_require() {
	local t
	for t in qemu-system-x86_64 qemu-img curl ssh ssh-keygen python3 "$@"; do
		command -v "$t" >/dev/null || { echo "boot: $t not installed, skipping"; exit 77; }
	done
	[ "$(id -u)" -eq 0 ] || { echo "boot: building images needs root, skipping"; exit 77; }
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# vm_start NAME DISK [appliance-builder boot options...]: boots in the background; the serial
# console goes to $BOOT_WORK/NAME.serial.
vm_start() {
	local name=$1 disk=$2
	shift 2
	: >"$BOOT_WORK/$name.serial"
	"$BUILDER" boot "$disk" --serial "$BOOT_WORK/$name.serial" "$@" >"$BOOT_WORK/$name.qemu.log" 2>&1 &
	VM_PID[$name]=$!
	log "$name: started (pid ${VM_PID[$name]})"
}

# vm_wait_serial NAME REGEX TIMEOUT: waits until the serial log matches (extended regex).
vm_wait_serial() {
	local name=$1 re=$2 timeout=$3 start=$SECONDS
	while ! tr -d '\r' <"$BOOT_WORK/$name.serial" | grep -Eq -- "$re"; do
		if ! kill -0 "${VM_PID[$name]}" 2>/dev/null; then
			cat "$BOOT_WORK/$name.qemu.log" >&2 || true
			fail "$name: qemu exited while waiting for /$re/"
		fi
		[ $((SECONDS - start)) -lt "$timeout" ] || fail "$name: no /$re/ on the serial console after ${timeout}s"
		sleep 1
	done
	log "$name: serial shows /$re/ after $((SECONDS - start))s"
}

# vm_wait_exit NAME TIMEOUT: waits for qemu to end (after a poweroff).
vm_wait_exit() {
	local name=$1 timeout=$2 start=$SECONDS
	while kill -0 "${VM_PID[$name]}" 2>/dev/null; do
		[ $((SECONDS - start)) -lt "$timeout" ] || fail "$name: still running ${timeout}s after poweroff"
		sleep 1
	done
	wait "${VM_PID[$name]}" 2>/dev/null || true
	unset "VM_PID[$name]"
	log "$name: stopped"
}

vm_kill() {
	local name=$1
	kill "${VM_PID[$name]}" 2>/dev/null || true
	wait "${VM_PID[$name]}" 2>/dev/null || true
	unset "VM_PID[$name]"
}

# A throw-away ssh key for the tests.
ssh_key() {
	[ -f "$BOOT_WORK/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C boot-test -f "$BOOT_WORK/id_ed25519"
	echo "$BOOT_WORK/id_ed25519"
}

# vm_ssh PORT USER COMMAND...: runs a command in the guest.
# ssh's own failures (exit 255: the connection, not the command) are retried twice, as a loaded
# TCG guest sometimes drops one; the command's exit status is passed through.
vm_ssh() {
	local port=$1 user=$2 try rc
	shift 2
	for try in 1 2 3; do
		rc=0
		ssh -q -i "$(ssh_key)" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o ConnectTimeout=10 -o BatchMode=yes "$user@127.0.0.1" "$@" || rc=$?
		[ "$rc" -eq 255 ] && [ "$try" -lt 3 ] || return "$rc"
		sleep 2
	done
}

# wait_ssh PORT USER TIMEOUT: waits until ssh logins work.
wait_ssh() {
	local port=$1 user=$2 timeout=$3 start=$SECONDS
	until vm_ssh "$port" "$user" true 2>/dev/null; do
		[ $((SECONDS - start)) -lt "$timeout" ] || fail "ssh $user@127.0.0.1:$port: no login after ${timeout}s"
		sleep 2
	done
	log "ssh $user@127.0.0.1:$port: up after $((SECONDS - start))s"
}

# http_code URL: the HTTP status (000 when nothing answers). Certificates are self-signed.
http_code() {
	curl -sk -o /dev/null -m 10 -w '%{http_code}' "$1" 2>/dev/null || true
}

# wait_http URL CODE TIMEOUT: waits until URL answers with CODE.
wait_http() {
	local url=$1 code=$2 timeout=$3 start=$SECONDS got
	while got=$(http_code "$url"); [ "$got" != "$code" ]; do
		[ $((SECONDS - start)) -lt "$timeout" ] || fail "$url answers $got, not $code, after ${timeout}s"
		sleep 2
	done
	log "$url: $code after $((SECONDS - start))s"
}

# shared_image PROFILE [FORMAT]: prints the directory holding the built image of PROFILE in FORMAT
# (default qcow2: disk.qcow2, ecs-data.qcow2, ecs-volatile.qcow2 and the build's other outputs;
# box: the Vagrant boxes and their catalog), building it once per build tree and reusing it in
# every boot test of the run (call it once before taking the boot lock to keep the lock short).
# The image is keyed by the SHA-256 of the builder, the agent, the profiles and the agent's rootfs
# files, so a rebuilt tool makes a new image. It is built in place (a box catalog names its files
# by absolute path) and counts once .complete exists. Tests never write to it: boot it through
# overlay_disk.
shared_image() {
	local profile=$1 format=${2:-qcow2} base="${BUILDDIR:-${TMPDIR:-/var/tmp}}/boot-images" key dir
	local cache="${APPLIANCE_TEST_CACHE:-/var/tmp/appliance-test-cache}/bootstrap"
	key=$({
		sha256sum "$BUILDER" "${AGENT:-/dev/null}"
		find "$SRCDIR/profiles" "$SRCDIR/src/agent/rootfs" -type f -print0 | sort -z | xargs -0 sha256sum
		echo "$profile"
		[ "$format" = qcow2 ] || echo "$format"
	} | sha256sum | cut -c1-16)
	dir=$base/$(basename "$profile" .yml)-$format-$key
	[ "$format" != qcow2 ] || dir=$base/$(basename "$profile" .yml)-$key
	mkdir -p "$base"
	(
		exec 9>"$base/.lock"
		flock 9
		[ -f "$dir/.complete" ] && exit 0
		rm -rf "$dir"
		log "building the shared $profile $format image (bootstrap cache: $cache)" >&2
		"$BUILDER" image --profile "$profile" --format "$format" --cache-dir "$cache" -o "$dir" \
			>"$base/build-$key.log" 2>&1 || { tail -n 30 "$base/build-$key.log" >&2; exit 1; }
		touch "$dir/.complete"
	) || fail "the shared $profile image could not be built"
	echo "$dir"
}

# overlay_disk SRC DST [GROW]: a qcow2 overlay of SRC at DST (SRC stays untouched), grown by GROW
# (a qemu-img size such as 1G) when given.
overlay_disk() {
	local src=$1 dst=$2 grow=${3:-}
	qemu-img create -q -f qcow2 -F qcow2 -b "$(realpath "$src")" "$dst"
	[ -z "$grow" ] || qemu-img resize -q "$dst" "+$grow"
}

# env_secrets ENV...: prints the secrets of the envs, one a line: every single-line value below a
# secret key (secret, password, passwd, token, key, encrypt, sign, settings, dsn, credential,
# private; ssh_authorized_keys excepted: public), the body lines of every PEM or OpenPGP block,
# and the values of NAME = 'VALUE' lines of multi-line settings whose NAME says secret, password,
# key or token. Values shorter than 8 characters are left out (they match anything).
env_secrets() {
	python3 - "$@" <<'PY'
import re, sys, yaml
words = ("secret", "password", "passwd", "token", "key", "encrypt", "sign", "settings", "dsn", "credential", "private")
out = set()
def text(v):
    for line in v.splitlines():
        s = line.strip()
        m = re.match(r"[A-Z_]*(SECRET|PASSWORD|KEY|TOKEN)[A-Z_]*\s*=\s*['\"](.+)['\"]\s*$", s)
        if m:
            out.add(m.group(2))
    inside = False
    for line in v.splitlines():
        s = line.strip()
        if s.startswith("-----BEGIN "):
            inside = True
        elif s.startswith("-----END "):
            inside = False
        elif inside and len(s) >= 40 and re.fullmatch(r"[A-Za-z0-9+/=]+", s):
            out.add(s)
def walk(node, secret):
    if isinstance(node, dict):
        for k, v in node.items():
            k = str(k)
            walk(v, (secret or any(w in k.lower() for w in words)) and not k.startswith("ssh_"))
    elif isinstance(node, list):
        for v in node:
            walk(v, secret)
    elif isinstance(node, str):
        text(node)
        if secret and "\n" not in node.strip():
            out.add(node.strip())
for f in sys.argv[1:]:
    walk(yaml.safe_load(open(f)), False)
for s in sorted(out):
    if len(s) >= 8:
        print(s)
PY
}

# assert_no_secret_leaks NAME SSH_PORT URL MANIFEST ENV...: gathers the serial console of VM NAME,
# the whole journal of the boot, status.json (over https and in /run/appliance), the build's
# manifest, /var/log and the agent's runtime files, and fails if any secret of the envs
# (env_secrets) appears in any of them.
assert_no_secret_leaks() {
	local name=$1 port=$2 url=$3 manifest=$4 d=$BOOT_WORK/leaks-$1 n
	shift 4
	mkdir -p "$d"
	env_secrets "$@" >"$d/secrets"
	n=$(wc -l <"$d/secrets")
	[ "$n" -gt 0 ] || fail "leak check: no secrets found in the envs (the check would prove nothing)"
	tr -d '\r' <"$BOOT_WORK/$name.serial" >"$d/serial"
	vm_ssh "$port" root journalctl -b --no-pager -o verbose >"$d/journal" || fail "leak check: journalctl"
	curl -sk "$url/status.json" >"$d/status.json"
	cp "$manifest" "$d/manifest.json"
	vm_ssh "$port" root 'find /var/log /run/appliance /run/appliance-failed /run/appliance_failed -type f \
		! -path "/var/log/journal/*" -exec cat {} + 2>/dev/null' >"$d/files" || true
	[ -s "$d/journal" ] && [ -s "$d/serial" ] && [ -s "$d/status.json" ] || fail "leak check: nothing gathered"
	if grep -aHnFf "$d/secrets" "$d/serial" "$d/journal" "$d/status.json" "$d/manifest.json" "$d/files" >"$d/found"; then
		cut -c1-160 "$d/found" | head -n 10
		fail "leak check: $(wc -l <"$d/found") line(s) hold a secret of the env"
	fi
	log "leak check: none of $n secrets in serial ($(wc -l <"$d/serial") lines), journal ($(wc -l <"$d/journal") lines), status.json, manifest, /var/log and /run/appliance"
}
