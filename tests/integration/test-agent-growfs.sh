#!/bin/bash
# The online growth end to end in a real kernel with every capability: the libguestfs appliance
# (under TCG) mounts the root filesystem of a disk whose MBR partition 1 is smaller than the disk,
# and runs the static agent chrooted there. prepare-storage must grow the partition (MBR edit +
# BLKPG) and the mounted ext4 (EXT4_IOC_RESIZE_FS) to the disk end; the filesystem stays clean.
set -euo pipefail

: "${AGENT:?}" "${BUILDDIR:?}"
command -v guestfish >/dev/null || { echo "SKIP: guestfish missing"; exit 77; }
command -v sfdisk >/dev/null || { echo "SKIP: sfdisk missing"; exit 77; }
grep -q '^AGENT_STATIC:BOOL=ON' "$BUILDDIR/CMakeCache.txt" ||
	{ echo "SKIP: the agent must be static to run inside the appliance"; exit 77; }

T=$(mktemp -d /tmp/test-agent-growfs.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# KVM hangs on some hosts; TCG always works (LIBGUESTFS_BACKEND_SETTINGS from the caller wins).
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"

truncate -s 400M "$T/disk.img"
printf 'label: dos\nstart=2048, size=100MiB, type=83\n' | sfdisk -q "$T/disk.img"
printf '#cloud-config\nappliance:\n  domain: grow.example.org\n' > "$T/env.yml"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$T/passwd"
printf 'root:x:0:\n' > "$T/group"

out=$(guestfish --rw -a "$T/disk.img" <<EOF 2>&1
run
mkfs ext4 /dev/sda1 blocksize:4096
mount /dev/sda1 /
mkdir-p /app
mkdir-p /etc
mkdir-p /proc
mkdir-p /sys
mkdir-p /dev
mkdir-p /run
upload $T/env.yml /app/env.yml
upload $T/passwd /etc/passwd
upload $T/group /etc/group
upload $AGENT /appliance-agent
chmod 0755 /appliance-agent
echo BEFORE
statvfs /
command "/appliance-agent --systemctl=/nonexistent prepare-env"
command "/appliance-agent --systemctl=/nonexistent prepare-storage"
echo AFTER
statvfs /
cat /run/appliance/steps/prepare-storage
umount /
EOF
) || { echo "$out"; if echo "$out" | grep -q 'launch failed\|appliance failed to start'; then echo "SKIP: libguestfs cannot launch"; exit 77; fi; fail "guestfish"; }

blocks_before=$(echo "$out" | sed -n '/^BEFORE$/,/^AFTER$/p' | sed -n 's/^blocks: //p')
blocks_after=$(echo "$out" | sed -n '/^AFTER$/,$p' | sed -n 's/^blocks: //p')
[ -n "$blocks_before" ] && [ -n "$blocks_after" ] || fail "no statvfs output: $out"
# 100 MiB -> about 399 MiB of 4 KiB blocks.
[ "$blocks_after" -gt $((blocks_before * 3)) ] || fail "ext4 not grown online: $blocks_before -> $blocks_after blocks"
echo "$out" | grep -q '^RESULT=changed$' || fail "step not recorded as changed: $out"
echo "ext4 grew online: $blocks_before -> $blocks_after blocks of 4 KiB"

size=$(sfdisk -d "$T/disk.img" | sed -n 's/.*img1 : start= *2048, size= *\([0-9]*\).*/\1/p')
[ "$size" = $((819200 - 2048)) ] || fail "partition 1 not grown to the disk end: $size"

guestfish --ro -a "$T/disk.img" <<EOF >/dev/null || fail "e2fsck after the online resize"
run
e2fsck /dev/sda1 forceall:true
EOF
echo OK
