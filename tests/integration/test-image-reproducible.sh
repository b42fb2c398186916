#!/bin/bash
# Reproducible images: the same base tarball, profile, env and SOURCE_DATE_EPOCH, built twice (in
# turn, a few seconds apart), give byte-identical raw, qcow2,
# vmdk, Vagrant boxes and OVA; the manifests say what that rests on and differ only in step
# timings. A third build with another epoch gives other UUIDs and other bytes. No boot.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup qemu-img jq dumpe2fs debugfs e2fsck

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
image_test_profile repro-test 64M
cat <<'YML'
files:
  - path: /etc/appliance-test/hello.conf
    mode: "0644"
    content: |
      hello
YML
} >"$tmp/repro.yml"
printf '#cloud-config\nappliance:\n  domain: repro.example\n' >"$tmp/env.yml"

# Both builds use the same output and scratch paths (the box catalog names its boxes by absolute
# path), one after the other; the first result is moved away.
build() { # NAME EPOCH FORMATS
        rm -rf "$tmp/out" "$tmp/scratch"
        mkdir "$tmp/scratch"
        TMPDIR="$tmp/scratch" "$BUILDER" image --profile "$tmp/repro.yml" --base "$rootfs" --env "$tmp/env.yml" \
                --size 900M --format "$3" --source-date-epoch "$2" -o "$tmp/out" >/dev/null
        mv "$tmp/out" "$tmp/$1"
}
build a 1700000000 raw,qcow2,vmdk,box,ova
sleep 2
build b 1700000000 raw,qcow2,vmdk,box,ova

outputs=$(cd "$tmp/a" && ls | grep -v '^manifest.json$')
echo "outputs: $(echo $outputs)"
for f in disk.raw disk.qcow2 disk.vmdk; do
        echo "$outputs" | grep -qx "$f" || { echo "FAIL: no $f"; exit 1; }
done
echo "$outputs" | grep -q '\.box$' || { echo "FAIL: no box"; exit 1; }
echo "$outputs" | grep -q '\.ova$' || { echo "FAIL: no OVA"; exit 1; }
[ "$(cd "$tmp/b" && ls | grep -v '^manifest.json$')" = "$outputs" ] || { echo "FAIL: other outputs"; exit 1; }
status=0
for f in $outputs; do
        if cmp -s "$tmp/a/$f" "$tmp/b/$f"; then
                echo "identical: $f ($(stat -c %s "$tmp/a/$f") bytes)"
        else
                echo "FAIL: $f differs: $(cmp "$tmp/a/$f" "$tmp/b/$f" 2>&1 | head -1)"
                status=1
        fi
done
[ "$status" -eq 0 ] || exit 1

# The manifests: the same but for the step timings; they name what reproducibility rests on.
strip() { jq 'del(.steps) | del(.outputs[]?.seconds?)' "$1"; }
diff <(strip "$tmp/a/manifest.json") <(strip "$tmp/b/manifest.json")
jq -e '.reproducible.enabled and (.reproducible.ids_seed | length == 64) and (.reproducible.rests_on | length >= 5)' \
        "$tmp/a/manifest.json" >/dev/null
jq -r '.reproducible.rests_on[]' "$tmp/a/manifest.json" | sed 's/^/  rests on: /'

# Inode times are clamped and the filesystem is clean: the superblock's and a file's times are
# the epoch (Tue Nov 14 22:13:20 2023), e2fsck finds nothing (checksums rewritten).
fs="$tmp/a/disk.raw?offset=$(($(jq -r '.disks[0].filesystems[0].start_sector' "$tmp/a/manifest.json") * 512))"
dumpe2fs -h "$fs" 2>/dev/null | grep -E '^(Filesystem created|Last write time|Last mount time):' | tee "$tmp/times"
[ "$(grep -c 'Nov 14 22:13:20 2023' "$tmp/times")" -eq 3 ] || { echo "FAIL: superblock times are not the epoch"; exit 1; }
debugfs -R 'stat /etc/appliance-test/hello.conf' "$fs" 2>/dev/null | grep -E '^ *(a|c|m|cr)time:' | tee "$tmp/itimes"
[ "$(grep -c '0x6553f100:00000000' "$tmp/itimes")" -eq 4 ] || { echo "FAIL: inode times are not the epoch"; exit 1; }
e2fsck -fn "$fs" >/dev/null

# Another epoch: other ids, other bytes.
build c 1700000500 raw
if cmp -s "$tmp/a/disk.raw" "$tmp/c/disk.raw"; then echo "FAIL: the epoch does not reach the raw disk"; exit 1; fi
[ "$(jq -r '.disks[0].filesystems[0].uuid' "$tmp/a/manifest.json")" != \
        "$(jq -r '.disks[0].filesystems[0].uuid' "$tmp/c/manifest.json")" ]
echo "PASS"
