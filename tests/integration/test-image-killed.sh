#!/bin/bash
# Killed or starved builds: an image build from the cached root tarball is killed with SIGKILL in
# each of its steps (when the step's progress line appears), and run out of space once with its
# scratch and once with its output on a small tmpfs. Every time: nothing at the output path, no
# scratch left behind (the janitor cleans up even after SIGKILL); a starved build exits 1 and says
# which step failed.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup python3 qemu-img

tmp=$(mktemp -d)
cleanup() {
	set +e
	grep -F " $tmp/" /proc/mounts | cut -d' ' -f2 | while read -r m; do umount "$m"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir "$tmp/scratch"
cat >"$tmp/p.yml" <<'YML'
name: killed
distribution: debian
suite: bookworm
packages: [linux-image-cloud-amd64]
volumes:
  - label: ecs-data
    place: partition
    size: 16M
YML

# nothing_left NAME SCRATCH OUTPUT: no scratch (once the janitor removed it: up to 60 s on a
# loaded machine) and no output.
nothing_left() {
	for _ in $(seq 600); do
		[ -z "$(ls -A "$2")" ] && break
		sleep 0.1
	done
	[ -z "$(ls -A "$2")" ] || fail "$1: scratch left: $(ls -A "$2")"
	[ ! -e "$3" ] || [ -z "$(ls -A "$3")" ] || fail "$1: output left: $(ls -A "$3")"
}

# The steps of a qcow2 build, as its progress lines name them.
steps=("Extracting root tarball" "Writing filesystem 'root'" "Writing filesystem 'ecs-data'"
	"Converting to disk.qcow2" "Checksumming outputs")
for step in "${steps[@]}"; do
	rm -rf "$tmp/out"
	TMPDIR=$tmp/scratch "$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 1200M --format qcow2 \
		-o "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr" &
	pid=$!
	start=$SECONDS
	until tr '\r' '\n' <"$tmp/stderr" | grep -aqF "$step..."; do
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr"; fail "$step: the build ended before the step"; }
		[ $((SECONDS - start)) -lt 600 ] || fail "$step: never reached"
		sleep 0.05
	done
	kill -KILL "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 137 ] || fail "$step: exit $rc, not killed"
	nothing_left "SIGKILL in '$step'" "$tmp/scratch" "$tmp/out"
	echo "ok: SIGKILL in '$step' ($((SECONDS - start)) s in): no output, no scratch"
done

# starve SIZE WHERE NAME: WHERE (scratch or output) on a tmpfs of SIZE; the build fails naming a step.
starve() {
	local size=$1 where=$2 rc=0 scratch=$tmp/scratch out=$tmp/out
	mkdir -p "$tmp/small"
	mount -t tmpfs -o "size=$size" tmpfs "$tmp/small"
	if [ "$where" = scratch ]; then scratch=$tmp/small; else out=$tmp/small/out; fi
	rm -rf "$tmp/out"
	TMPDIR=$scratch "$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 1200M --format qcow2 \
		-o "$out" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
	[ "$rc" = 1 ] || { tail -n 5 "$tmp/stderr"; fail "$where on $size: exit $rc"; }
	tr '\r' '\n' <"$tmp/stderr" | grep -aq 'No space left on device' || { tail -n 5 "$tmp/stderr"; fail "$where on $size: no ENOSPC message"; }
	tr '\r' '\n' <"$tmp/stderr" | grep -aq "^appliance-builder: error: The build failed in step '$3'\.$" ||
		{ tail -n 5 "$tmp/stderr"; fail "$where on $size: the failed step is not named '$3'"; }
	nothing_left "$where on $size" "$scratch" "$out"
	umount "$tmp/small"
	echo "ok: $where on a $size tmpfs: exit 1 in step '$3', no output, no scratch"
}
starve 150M scratch "Extracting root tarball"
starve 60M output "Converting to disk.qcow2"
echo OK
