#!/bin/bash
# Builds an image from the shared cached root tarball (root, ecs-volatile and ecs-data as
# partitions, raw + qcow2 + vmdk) and inspects the result: partition table, labels, fstab, files and
# modes, every hygiene item (with libguestfs, read-only), qemu-img check, e2fsck, checksums and
# the manifest.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup e2fsck sfdisk guestfish jq qemu-img

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"

cat >"$tmp/test.yml" <<'YML'
name: image-test
distribution: debian
suite: bookworm
architecture: amd64
kernel_cmdline: "console=ttyS0,115200 net.ifnames=0"
packages:
  - linux-image-cloud-amd64
volumes:
  - label: ecs-data
    mountpoint: /data
    place: partition
    size: 96M
  - label: ecs-volatile
    mountpoint: /volatile
    place: partition
    size: 64M
files:
  - path: /etc/appliance-test/secret.conf
    mode: "0640"
    content: |
      hello from the profile
  # Service state the agent moves onto ecs-data: the builder writes the volume with its copy.
  - path: /var/lib/postgresql/15/main/PG_VERSION
    mode: "0600"
    content: |
      15
YML
printf '#cloud-config\nappliance:\n  domain: test.example\n' >"$tmp/env.yml"

# A private scratch parent, to check that nothing is left in it afterwards.
export TMPDIR="$tmp/scratch"
mkdir "$TMPDIR"

"$BUILDER" image --profile "$tmp/test.yml" --base "$rootfs" --env "$tmp/env.yml" --size 1200M \
        --format raw,qcow2,vmdk --source-date-epoch 1700000000 -o "$out" --json >"$tmp/stdout.json"

# Exactly the outputs, nothing else (no temporaries), and no scratch directory left behind.
outputs=$(cd "$out" && ls -A | sort | tr '\n' ' ')
[ "$outputs" = "SHA256SUMS disk.qcow2 disk.raw disk.vmdk manifest.json sbom.spdx.json " ] || { echo "FAIL: outputs: $outputs"; exit 1; }
[ -z "$(ls -A "$TMPDIR")" ] || { echo "FAIL: scratch left: $(ls -A "$TMPDIR")"; exit 1; }

(cd "$out" && sha256sum --quiet -c SHA256SUMS)
cmp "$tmp/stdout.json" "$out/manifest.json"

# Formats.
qemu-img check "$out/disk.qcow2"
qemu-img check "$out/disk.vmdk"
[ "$(qemu-img info --output=json "$out/disk.qcow2" | jq -r '.["format-specific"].data["compression-type"]')" = zstd ]
[ "$(qemu-img info --output=json "$out/disk.qcow2" | jq -r '.["cluster-size"]')" = 1048576 ]
[ "$(qemu-img info --output=json "$out/disk.vmdk" | jq -r '.["format-specific"].data["create-type"]')" = streamOptimized ]
qemu-img compare -f raw -F qcow2 "$out/disk.raw" "$out/disk.qcow2"
qemu-img compare -f raw -F vmdk "$out/disk.raw" "$out/disk.vmdk"

# Partition table: DOS, root p1 bootable at 1 MiB, volatile p2, data p3 last (the one that grows).
sfdisk -d "$out/disk.raw" >"$tmp/sfdisk"
cat "$tmp/sfdisk"
grep -q '^label: dos$' "$tmp/sfdisk"
grep -Eq 'disk.raw1 : start= *2048, size= *2457600, type=83, bootable$' "$tmp/sfdisk"
grep -Eq 'disk.raw2 : start= *2459648, size= *131072, type=83$' "$tmp/sfdisk"
grep -Eq 'disk.raw3 : start= *2590720, size= *196608, type=83$' "$tmp/sfdisk"
# GRUB's boot code in the MBR and its core image right behind it.
dd if="$out/disk.raw" bs=512 count=1 status=none | grep -aq 'GRUB'
dd if="$out/disk.raw" bs=512 skip=1 count=1 status=none | od -An -tx1 | head -1 | grep -q .

# Filesystems: clean, labelled, UUIDs as in the manifest.
for n in 1 2 3; do
        start=$(sed -n "s/.*disk.raw$n : start= *\([0-9]*\),.*/\1/p" "$tmp/sfdisk")
        e2fsck -fn "$out/disk.raw?offset=$((start * 512))"
done
m="$out/manifest.json"
jq -e '.disks | length == 1' "$m"
jq -e '[.disks[0].filesystems[] | .label] == ["root", "ecs-volatile", "ecs-data"]' "$m"
jq -e '.disks[0].filesystems[0] | .partition == 1 and .bootable and (.grows | not)' "$m"
jq -e '.disks[0].filesystems[2] | .partition == 3 and .grows' "$m"
jq -e '.source_date_epoch == 1700000000' "$m"
jq -e --arg s "$(sha256sum "$rootfs" | cut -d' ' -f1)" '.base.sha256 == $s and .base.kind == "tarball"' "$m"
jq -e '.hygiene | length == 10 and all(.done)' "$m"
jq -e '[.hygiene[] | .item] == ["ssh-host-keys","machine-id","random-seed","net-rules","dhcp-leases","apt-caches","build-logs","root-password","build-host","free-space"]' "$m"
jq -e '.packages | any(startswith("systemd "))' "$m"
jq -e '.profile.name == "image-test" and .env_baked' "$m"
jq -e '[.steps[] | .step] | index("extract") != null and index("mkfs-root") != null' "$m"
jq -e '.outputs | length == 3 and all(.sha256 | length == 64)' "$m"
root_uuid=$(jq -r '.disks[0].filesystems[0].uuid' "$m")

# The image's content, read with libguestfs (read-only).
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
guestfish --ro -a "$out/disk.raw" >"$tmp/inspect" <<'GF'
run
vfs-label /dev/sda1
vfs-label /dev/sda2
vfs-label /dev/sda3
vfs-uuid /dev/sda1
part-get-bootable /dev/sda 1
mount /dev/sda1 /
echo ---fstab
cat /etc/fstab
echo ---machine-id
cat /etc/machine-id
echo ---ssh
glob-expand /etc/ssh/ssh_host_*
echo ---seed
exists /var/lib/systemd/random-seed
exists /etc/udev/rules.d/70-persistent-net.rules
echo ---leases
ls /var/lib/dhcp
echo ---lists
glob-expand /var/lib/apt/lists/*_*
glob-expand /var/cache/apt/*.bin
echo ---logs
find /var/log
echo ---shadow
sh "grep ^root: /etc/shadow | cut -d: -f2"
echo ---modes
sh "stat -c '%a %u:%g %n' /app/env.yml /usr/sbin/appliance-agent /usr/share/appliance/profile.yml /etc/appliance-test/secret.conf"
echo ---buildhost
exists /etc/resolv.conf
echo ---mtimes
sh "stat -c '%Y %n' /etc/fstab /etc /app/env.yml"
echo ---env
cat /app/env.yml
echo ---grub
cat /boot/grub/grub.cfg
echo ---pgroot
exists /var/lib/postgresql
cat /var/lib/postgresql.appliance-moved/15/main/PG_VERSION
echo ---inspect
umount-all
inspect-os
inspect-get-distro /dev/sda1
inspect-get-type /dev/sda1
echo ---pgdata
mount-ro /dev/sda3 /
ll /.postgresql.appliance-tmp/15/main
cat /.postgresql.appliance-tmp/15/main/PG_VERSION
umount-all
echo ---end
GF
cat "$tmp/inspect"
section() { sed -n "/^---$1\$/,/^---/p" "$tmp/inspect" | sed '1d;$d'; }

[ "$(sed -n 1,3p "$tmp/inspect" | tr '\n' ' ')" = "root ecs-volatile ecs-data " ]
[ "$(sed -n 4p "$tmp/inspect")" = "$root_uuid" ]
[ "$(sed -n 5p "$tmp/inspect")" = true ]
section fstab | grep -Eq "^UUID=$root_uuid +/ +ext4 "
section fstab | grep -Eq '^LABEL=ecs-data +/data +ext4 +[^ ]*nofail'
section fstab | grep -Eq '^LABEL=ecs-volatile +/volatile +ext4 +[^ ]*nofail'
[ "$(section machine-id)" = uninitialized ]
[ -z "$(section ssh)" ]
[ "$(section seed | tr '\n' ' ')" = "false false " ]
[ -z "$(section leases)" ]
[ -z "$(section lists)" ]
! section logs | grep -Eq '\.log$|/(wtmp|btmp|lastlog|faillog)$'
section shadow | grep -q '^!'
section modes | grep -qx '600 0:0 /app/env.yml'
section modes | grep -qx '755 0:0 /usr/sbin/appliance-agent'
section modes | grep -qx '644 0:0 /usr/share/appliance/profile.yml'
section modes | grep -qx '640 0:0 /etc/appliance-test/secret.conf'
[ "$(section buildhost)" = false ]
[ "$(section mtimes | grep . | cut -d' ' -f1 | sort -u)" = 1700000000 ] # clamped to SOURCE_DATE_EPOCH
section env | grep -q 'domain: test.example'
section grub | grep -q "linux '/vmlinuz' 'root=UUID=$root_uuid' 'ro' 'console=ttyS0,115200' 'net.ifnames=0'$"

# The move of /var/lib/postgresql onto ecs-data, past its commit point (disk/prefill.h): the root
# keeps the old directory aside, the volume holds the complete copy with its modes.
jq -e '.disks[0].filesystems[2].holds_copy_of == ["/var/lib/postgresql"]' "$m"
jq -e '.disks[0].filesystems[1] | has("holds_copy_of") | not' "$m"
[ "$(section pgroot | grep . | tr '\n' ' ')" = "false 15 " ]
section pgdata | grep -Eq '^-rw------- +1 +0 +0 .* PG_VERSION$'
[ "$(section pgdata | grep . | tail -n 1)" = 15 ]

# libguestfs inspection recognises the OS on p1.
[ "$(section inspect | tr '\n' ' ')" = "/dev/sda1 debian linux " ]

echo "OK"
