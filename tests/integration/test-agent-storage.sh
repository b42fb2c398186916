#!/bin/bash
# prepare-storage on loop devices over sparse files: an MBR disk with ecs-data (p1) and the root
# filesystem last (p2), mounted as the agent root. The file then grows (as a VM disk does); the
# agent must mount ecs-data at /data by label, add it to fstab, grow p2 to the disk end and its
# ext4 online, and change nothing on a second run. Also: a wrong filesystem under the ecs-volatile
# label is refused and left untouched (never formatted), and a bad env leaves /data alone. Then the
# same growth on a GPT disk laid out like a vendor cloud image.
set -euo pipefail

: "${AGENT:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop devices)"; exit 77; }
for t in losetup partx sfdisk mkfs.ext4 mkfs.vfat e2fsck blockdev findmnt; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-agent-storage.XXXXXX)
LOOP=
LOOP2=
cleanup() {
	set +e
	for m in "$T/root/data" "$T/root/volatile" "$T/root"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	for l in $LOOP $LOOP2; do
		partx -d "$l" >/dev/null 2>&1
		losetup -d "$l"
	done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

truncate -s 200M "$T/disk.img"
printf 'label: dos\nstart=2048, size=64MiB, type=83\nstart=133120, size=100MiB, type=83\n' | sfdisk -q "$T/disk.img"
LOOP=$(losetup -f --show -P "$T/disk.img") || { echo "SKIP: cannot attach a loop device"; exit 77; }
if [ ! -b "${LOOP}p2" ]; then
	partx -a "$LOOP" 2>/dev/null || true
fi
for _ in $(seq 50); do [ -b "${LOOP}p2" ] && break; sleep 0.1; done
[ -b "${LOOP}p2" ] || { echo "SKIP: loop partitions do not appear"; exit 77; }

mkfs.ext4 -q -L ecs-data -b 4096 "${LOOP}p1"
mkfs.ext4 -q -L root -b 4096 "${LOOP}p2"
mkdir -p "$T/root"
mount "${LOOP}p2" "$T/root"
R="$T/root"
mkdir -p "$R/etc" "$R/app" "$R/dev/disk/by-label" "$R/var/lib/postgresql/15/main"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/app:/bin/sh\npostgres:x:115:120::/var/lib/postgresql:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\napp:x:1001:\npostgres:x:120:\n' > "$R/etc/group"
printf '# static\n' > "$R/etc/fstab"
echo 15 > "$R/var/lib/postgresql/15/main/PG_VERSION"
# The agent resolves by-label links below its root, as udev's relative ones resolve in the image:
# the device nodes live in ROOT/dev.
cp -a "${LOOP}p1" "$R/dev/"
ln -s "../../$(basename "${LOOP}p1")" "$R/dev/disk/by-label/ecs-data"
printf '#cloud-config\nappliance:\n  domain: storage.example.org\n' > "$R/app/env.yml"

size_before=$(cat "/sys/class/block/$(basename "$LOOP")p2/size")

# The VM disk grows.
truncate -s 400M "$T/disk.img"
losetup -c "$LOOP"

agent() { "$AGENT" --root "$R" --systemctl=true "$@"; }
agent prepare-env
agent prepare-storage

size_after=$(cat "/sys/class/block/$(basename "$LOOP")p2/size")
[ "$size_after" -gt "$size_before" ] || fail "p2 did not grow ($size_before -> $size_after)"
# The table says the same as the kernel, and p2 ends within 1 MiB of the disk end.
end=$(sfdisk -d "$T/disk.img" | sed -n 's/.*img2 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p')
set -- $end
[ $(( $1 + $2 )) -le 819200 ] || fail "p2 passes the disk end"
[ $(( 819200 - $1 - $2 )) -lt 2048 ] || fail "p2 does not reach the disk end: $1 + $2"
[ "$2" = "$size_after" ] || fail "table ($2) and kernel ($size_after) disagree"
# EXT4_IOC_RESIZE_FS needs CAP_SYS_RESOURCE; containers often drop it (then only the partition grows
# here, and the filesystem check below is skipped).
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if (( (16#$capeff >> 24) & 1 )); then
	fs_kb=$(df -k --output=size "$R" | tail -1)
	[ "$fs_kb" -gt 250000 ] || fail "ext4 was not grown online (size ${fs_kb} KiB)"
else
	echo "NOTE: no CAP_SYS_RESOURCE here, the online ext4 resize is not verified"
fi

findmnt -n -o SOURCE "$R/data" | grep -q "${LOOP}p1" || fail "ecs-data not mounted on /data"
grep -q '^LABEL=ecs-data /data ext4 defaults,nofail 0 2$' "$R/etc/fstab" || fail "no fstab entry"
grep -q '^# static$' "$R/etc/fstab" || fail "fstab lost its lines"
[ "$(readlink "$R/var/lib/postgresql")" = ../../data/postgresql ] || fail "postgresql not linked"
[ "$(cat "$R/data/postgresql/15/main/PG_VERSION")" = 15 ] || fail "postgresql data not moved onto ecs-data"
[ "$(stat -c '%u %a' "$R/data/ecs-ca")" = "1000 700" ] || fail "ecs-ca owner/mode"

# Second run: nothing changes.
agent prepare-storage
grep -q '^RESULT=ok$' "$R/run/appliance/steps/prepare-storage" || fail "second run was not a no-op"
[ "$(grep -c ecs-data "$R/etc/fstab")" = 1 ] || fail "fstab entry duplicated"

# A bad env: the failed flag, /data untouched.
echo precious > "$R/data/ecs-storage-vault/file"
printf '#cloud-config\nappliance:\n  domain: "bad domain"\n' > "$R/app/env.yml"
if agent prepare-env 2>/dev/null; then fail "bad env accepted"; fi
if agent prepare-storage 2>/dev/null; then fail "prepare-storage ran while failed"; fi
[ "$(cat "$R/data/ecs-storage-vault/file")" = precious ] || fail "data touched"
rm "$R/run/appliance_failed"

# A vfat filesystem labelled ecs-volatile with storage:ignore:volatile false: refused, not formatted.
truncate -s 32M "$T/vol.img"
mkfs.vfat -n ECS-VOLATIL "$T/vol.img" >/dev/null
LOOP2=$(losetup -f --show "$T/vol.img")
sum_before=$(sha256sum < "$LOOP2")
cp -a "$LOOP2" "$R/dev/"
ln -s "../../$(basename "$LOOP2")" "$R/dev/disk/by-label/ecs-volatile"
printf '#cloud-config\nappliance:\n  domain: storage.example.org\n  storage:\n    ignore:\n      volatile: false\n' > "$R/app/env.yml"
agent prepare-env
if agent prepare-storage 2>/dev/null; then fail "vfat accepted as ecs-volatile"; fi
grep -q "not ext4" "$R/run/appliance-failed" || fail "reason: $(cat "$R/run/appliance-failed")"
[ "$(sha256sum < "$LOOP2")" = "$sum_before" ] || fail "the vfat device was modified"
rm -f "$R/run/appliance-failed" "$R/run/appliance_failed"

# Required but missing: a clear reason.
rm "$R/dev/disk/by-label/ecs-volatile"
if agent prepare-storage 2>/dev/null; then fail "missing ecs-volatile accepted"; fi
grep -q "No filesystem labelled 'ecs-volatile'" "$R/run/appliance-failed" || fail "reason for missing label"

umount "$R/data"
umount "$R"
e2fsck -fn "${LOOP}p2" >/dev/null || fail "e2fsck found problems after the online resize"
partx -d "$LOOP" >/dev/null 2>&1 || true
losetup -d "$LOOP"
LOOP=

# GPT, as in vendor cloud images: p14 (BIOS boot) first, the root p1 physically last.
truncate -s 200M "$T/gpt.img"
printf 'label: gpt\n%s14 : start=2048, size=4MiB, type=21686148-6449-6E6F-744E-656564454649\n%s1 : start=12288, size=100MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' \
	"$T/gpt.img" "$T/gpt.img" | sfdisk -q "$T/gpt.img"
LOOP=$(losetup -f --show -P "$T/gpt.img")
[ -b "${LOOP}p1" ] || partx -a "$LOOP" 2>/dev/null || true
for _ in $(seq 50); do [ -b "${LOOP}p1" ] && break; sleep 0.1; done
mkfs.ext4 -q -L root -b 4096 "${LOOP}p1"
mount "${LOOP}p1" "$R"
mkdir -p "$R/etc" "$R/app"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
printf '#cloud-config\nappliance:\n  domain: gpt.example.org\n' > "$R/app/env.yml"
truncate -s 400M "$T/gpt.img"
losetup -c "$LOOP"
agent prepare-env
agent prepare-storage
size=$(cat "/sys/class/block/$(basename "$LOOP")p1/size")
[ "$size" -gt 204800 ] || fail "GPT p1 did not grow ($size)"
verify=$(sfdisk -V "$T/gpt.img" 2>&1) || true
case "$verify" in *"No errors detected"*) ;; *) fail "GPT damaged: $verify" ;; esac
case "$verify" in *ismatch*|*"not on the end"*) fail "GPT damaged: $verify" ;; esac
dump=$(sfdisk -d "$T/gpt.img")
echo "$dump" | grep -q "gpt.img1 : start= *12288, size= *$size," || fail "GPT table and kernel disagree: $dump"
echo "$dump" | grep -q '^last-lba: 819166$' || fail "GPT last usable LBA not at the new end: $dump"
agent prepare-storage   # idempotent: nothing left to do
grep -q '^RESULT=ok$' "$R/run/appliance/steps/prepare-storage" || fail "GPT second run was not a no-op"
# storage:ignore:data true while something (the image's fstab) mounted a filesystem on /data: the
# agent leaves it alone and says that, not that /data stays on the root filesystem.
mkdir -p "$R/data"
mount -t tmpfs -o size=1m tmpfs "$R/data"
printf '#cloud-config\nappliance:\n  domain: gpt.example.org\n  storage:\n    ignore:\n      data: true\n' > "$R/app/env.yml"
agent prepare-env
agent prepare-storage > "$T/ignore.log" 2>&1 || { cat "$T/ignore.log" >&2; fail "prepare-storage with ignore:data"; }
grep -qF "the agent leaves '/data' alone (a filesystem is mounted there by /etc/fstab)" "$T/ignore.log" ||
	{ cat "$T/ignore.log" >&2; fail "ignore:data over a mounted /data: not said"; }
umount "$R/data"
umount "$R"
e2fsck -fn "${LOOP}p1" >/dev/null || fail "e2fsck after the GPT grow"
echo "OK"
