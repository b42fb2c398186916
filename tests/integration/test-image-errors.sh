#!/bin/bash
# Broken inputs and interrupted builds of 'image': each gives a clear error, a non-zero exit and
# leaves no output and no scratch files: a corrupt or truncated tarball, a root filesystem too
# small for the tarball, an output directory that cannot be written, a bad env.yml, usage errors,
# and builds killed with SIGTERM and SIGKILL in the middle.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup chattr python3

tmp=$(mktemp -d)
cleanup() {
        chattr -i "$tmp/ro" 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
export TMPDIR="$tmp/scratch"
mkdir "$TMPDIR"

cat >"$tmp/p.yml" <<'YML'
name: errors
distribution: debian
suite: bookworm
packages: [linux-image-cloud-amd64]
volumes:
  - label: ecs-data
    place: partition
    size: 16M
YML
printf '#cloud-config\nappliance:\n  domain: errors.example.org\n' >"$tmp/env.yml"

# expect_fail NAME EXIT PATTERN ARGS...: runs the builder, checks exit code and message, and that
# neither output nor scratch remains.
expect_fail() {
        local name=$1 code=$2 pattern=$3 rc=0
        shift 3
        rm -rf "$tmp/out"
        "$BUILDER" image --profile "$tmp/p.yml" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
        echo "== $name: exit $rc"
        cat "$tmp/stderr"
        [ "$rc" -eq "$code" ] || { echo "FAIL $name: exit $rc, expected $code"; exit 1; }
        grep -Eq -- "$pattern" "$tmp/stderr" || { echo "FAIL $name: no '$pattern'"; exit 1; }
        if [ -e "$tmp/out" ] && [ -n "$(ls -A "$tmp/out")" ]; then
                echo "FAIL $name: output left: $(ls -A "$tmp/out")"
                exit 1
        fi
        [ -z "$(ls -A "$TMPDIR")" ] || { echo "FAIL $name: scratch left: $(ls -A "$TMPDIR")"; exit 1; }
}

# Not a tarball at all.
head -c 100000 /dev/urandom >"$tmp/garbage.tar"
expect_fail garbage 1 "garbage.tar': not a readable tar archive" --base "$tmp/garbage.tar" -o "$tmp/out"
[ ! -e "$tmp/out" ] # the directory the build created is gone too

# A tarball cut in the middle of an entry.
head -c $((40 * 1024 * 1024)) "$rootfs" >"$tmp/cut.tar"
expect_fail truncated 1 "cut.tar': (corrupt|truncated)|cut.tar'.*(Truncated|truncated|premature)" \
        --base "$tmp/cut.tar" -o "$tmp/out"

# Corrupt compressed data.
head -c 2000000 "$rootfs" | gzip -1 >"$tmp/bad.tar.gz"
printf 'XXXXXXXXXXXXXXXX' | dd of="$tmp/bad.tar.gz" bs=1 seek=50000 conv=notrunc status=none
expect_fail corrupt-gzip 1 "bad.tar.gz'" --base "$tmp/bad.tar.gz" -o "$tmp/out"

# The root filesystem cannot hold the tarball.
expect_fail too-small 1 "too small for the base .*need at least" --base "$rootfs" --size 100M -o "$tmp/out"

# The output directory cannot be written (immutable even for root).
mkdir "$tmp/ro"
chattr +i "$tmp/ro"
expect_fail not-writable 1 "Output directory '.*/ro' is not writable" --base "$rootfs" -o "$tmp/ro"
chattr -i "$tmp/ro"
touch "$tmp/file"
expect_fail not-a-directory 1 "is not a directory|Not a directory" --base "$rootfs" -o "$tmp/file/out"

# env.yml: first line and YAML syntax, with file:line:column.
printf 'a: 1\n' >"$tmp/env-noheader.yml"
expect_fail env-header 1 "env-noheader.yml:1:1: the first line must be '#cloud-config'" \
        --base "$rootfs" --env "$tmp/env-noheader.yml" -o "$tmp/out"
printf '#cloud-config\na: [1, 2\nb: 3\n' >"$tmp/env-bad.yml"
expect_fail env-yaml 1 "env-bad.yml:[0-9]+:[0-9]+: " --base "$rootfs" --env "$tmp/env-bad.yml" -o "$tmp/out"
# ... and the whole schema of env check.
printf '#cloud-config\nappliance:\n  domain: a-.example.org\n  standby: maybe\n' >"$tmp/env-schema.yml"
expect_fail env-schema 1 "env-schema.yml:3:11: appliance:domain: 'a-.example.org' is not a valid host name" \
        --base "$rootfs" --env "$tmp/env-schema.yml" -o "$tmp/out"
expect_fail env-schema-all 1 "env-schema.yml:4:12: appliance:standby: expected true or false" \
        --base "$rootfs" --env "$tmp/env-schema.yml" -o "$tmp/out"

# Usage errors exit 2.
expect_fail usage-size 2 "exclude each other" --base "$rootfs" --size 2G --studies-per-month 10 -o "$tmp/out"
expect_fail usage-format 2 "Invalid --format" --base "$rootfs" --format vdi -o "$tmp/out"
expect_fail usage-output 2 "--output" --base "$rootfs"

# --dry-run prints the plan and writes nothing.
"$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 2G -o "$tmp/out" --dry-run >"$tmp/plan"
cat "$tmp/plan"
grep -q 'p1 .*LABEL=root .*(bootable)' "$tmp/plan"
grep -q 'p2 .*LABEL=ecs-data' "$tmp/plan"
[ ! -e "$tmp/out" ]
# Sized with the manual's formulas: root 5 GiB, data = database + documents (41 GiB for 20).
"$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --studies-per-month 20 -o "$tmp/out" --dry-run >"$tmp/plan"
cat "$tmp/plan"
grep -Eq "p1 +start 2048 +5G +ext4 LABEL=root" "$tmp/plan"
grep -Eq "p2 +start $((2048 + 5 * 2097152)) +41G +ext4 LABEL=ecs-data" "$tmp/plan"
[ ! -e "$tmp/out" ]

# Killed builds: SIGINT, SIGTERM and SIGKILL during the work leave no output and, once the janitor
# has run, no scratch files. (A background job starts with SIGINT ignored: python restores the
# default before it execs the builder.)
for sig in INT TERM KILL; do
        rm -rf "$tmp/out"
        mkdir "$tmp/out"
        python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
                "$BUILDER" image --profile "$tmp/p.yml" --base "$rootfs" --size 1200M -o "$tmp/out" 2>"$tmp/stderr" &
        pid=$!
        for _ in $(seq 1 300); do
                ls -d "$TMPDIR"/appliance-builder.*/root/usr >/dev/null 2>&1 && break
                sleep 0.1
        done
        sleep 0.5
        kill -"$sig" "$pid"
        rc=0
        wait "$pid" || rc=$?
        echo "== killed with SIG$sig: exit $rc"
        [ "$rc" -ne 0 ]
        for _ in $(seq 1 100); do
                [ -z "$(ls -A "$TMPDIR")" ] && break
                sleep 0.1
        done
        [ -z "$(ls -A "$TMPDIR")" ] || { echo "FAIL SIG$sig: scratch left: $(ls -A "$TMPDIR")"; exit 1; }
        [ -z "$(ls -A "$tmp/out")" ] || { echo "FAIL SIG$sig: output left: $(ls -A "$tmp/out")"; exit 1; }
done

echo OK
