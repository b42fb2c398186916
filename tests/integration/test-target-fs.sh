#!/bin/bash
# Filesystems per target release: every profile under profiles/ is built from a tiny root tarball
# (the filesystems do not depend on what the tree holds), and every ext4 filesystem of its disks is
# read back with dumpe2fs. Its features must be exactly the ones the builder's release table
# (src/common/target.c, printed by `image --dry-run`) writes for the profile's release, a subset of
# what that release's e2fsck and kernel support, with the table's inode size and only journal
# features the release knows. The build host's mke2fs.conf (Debian 12: metadata_csum, 64bit) must
# not leak into an Ubuntu 16.04 image, whose e2fsck 1.42.13 knows neither. Also: the prepare-env
# drop-in that waits for the network exists exactly where the profile reads the EC2 metadata.
set -eu -o pipefail

[ "$(id -u)" -eq 0 ] || { echo "SKIP: building from a tarball needs root"; exit 77; }
for t in mke2fs dumpe2fs debugfs sfdisk python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/test-target-fs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/root/etc" "$tmp/root/boot" "$tmp/root/usr/bin" "$tmp/root/var/tmp"
# GRUB's configuration names a kernel: empty files stand for one (nothing boots this image).
: >"$tmp/root/boot/vmlinuz-6.1.0-1-amd64"
: >"$tmp/root/boot/initrd.img-6.1.0-1-amd64"
printf 'ID=debian\n' >"$tmp/root/etc/os-release"
tar -C "$tmp/root" -cf "$tmp/base.tar" .

# words LIST: one word a line, from a comma- or space-separated list.
words() { tr ', ' '\n\n' <<<"$1" | sed '/^$/d' | sort -u; }

checked=0
seen_xenial=
for yml in "$SRCDIR"/profiles/*.yml; do
	profile=$(basename "$yml" .yml)
	[ "$profile" = env-template ] && continue
	plan=$("$BUILDER" image --profile "$yml" --dry-run -o "$tmp/plan")
	want=$(sed -n 's/^  ext4 features: //p' <<<"$plan")
	supported=$(sed -n 's/^  supported by the release: //p' <<<"$plan")
	journal=$(sed -n 's/^  journal features supported: //p' <<<"$plan")
	isize=$(sed -n 's/^  inode size: //p' <<<"$plan")
	release=$(sed -n 's/^Filesystems for \([a-z]* [a-z]*\) .*/\1/p' <<<"$plan")
	[ -n "$want" ] && [ -n "$supported" ] && [ -n "$isize" ] && [ -n "$release" ] ||
		{ echo "FAIL: $profile: the dry run prints no filesystem table"; echo "$plan"; exit 1; }
	[ "$release" = "ubuntu xenial" ] && seen_xenial=yes

	out=$tmp/out-$profile
	"$BUILDER" image --profile "$yml" --base "$tmp/base.tar" --format raw -o "$out" >"$tmp/build-$profile.log" 2>&1 ||
		{ cat "$tmp/build-$profile.log"; echo "FAIL: $profile: build failed"; exit 1; }

	# Every filesystem: the partitions of the boot disk and the bare-filesystem disks.
	specs=()
	for raw in "$out"/*.raw; do
		if starts=$(sfdisk -J "$raw" 2>/dev/null |
			python3 -c 'import json,sys; print(" ".join(str(p["start"]*512) for p in json.load(sys.stdin)["partitiontable"]["partitions"]))'); then
			for s in $starts; do specs+=("$raw?offset=$s"); done
		else
			specs+=("$raw")
		fi
	done
	[ "${#specs[@]}" -ge 1 ] || { echo "FAIL: $profile: no filesystem found"; exit 1; }

	for spec in "${specs[@]}"; do
		hdr=$(dumpe2fs -h "$spec" 2>/dev/null) || { echo "FAIL: $profile: dumpe2fs cannot read $spec"; exit 1; }
		label=$(sed -n 's/^Filesystem volume name: *//p' <<<"$hdr")
		got=$(sed -n 's/^Filesystem features: *//p' <<<"$hdr")
		gotj=$(sed -n 's/^Journal features: *//p' <<<"$hdr")
		goti=$(sed -n 's/^Inode size: *//p' <<<"$hdr" | tr -d '[:space:]')
		what="$profile ($release) '$label'"
		if [ "$(words "$got")" != "$(words "$want")" ]; then
			echo "FAIL: $what: features '$got', the table says '$want'"
			diff <(words "$want") <(words "$got") || true
			exit 1
		fi
		extra=$(comm -23 <(words "$got") <(words "$supported"))
		[ -z "$extra" ] || { echo "FAIL: $what: $release does not support: $extra"; exit 1; }
		[ "$goti" = "$isize" ] || { echo "FAIL: $what: inode size $goti, the table says $isize"; exit 1; }
		if [ "$gotj" != "(none)" ]; then
			[ "$journal" != "(none)" ] || { echo "FAIL: $what: journal features '$gotj', $release knows none"; exit 1; }
			extra=$(comm -23 <(words "$gotj") <(words "$journal"))
			[ -z "$extra" ] || { echo "FAIL: $what: journal features $release does not know: $extra"; exit 1; }
		fi
		echo "ok: $what: $got; inode $goti; journal $gotj"
		checked=$((checked + 1))
	done
	# prepare-env waits for the network only where the profile reads the EC2 metadata service.
	dropin=/etc/systemd/system/prepare-env.service.d/50-ec2-metadata.conf
	if debugfs -R "stat $dropin" "${specs[0]}" 2>/dev/null | grep -q '^Inode:'; then
		echo "FAIL: $profile: $dropin written without features: {ec2_metadata: true}"
		exit 1
	fi
	rm -rf "$out"
done

sed -e 's/^  ec2_metadata: false$/  ec2_metadata: true/' -e 's/^name: ecs-xenial$/name: ec2/' \
	"$SRCDIR/profiles/ecs-xenial.yml" >"$tmp/ec2.yml"
grep -q '^  ec2_metadata: true$' "$tmp/ec2.yml" || { echo "FAIL: could not make the ec2 profile"; exit 1; }
"$BUILDER" image --profile "$tmp/ec2.yml" --base "$tmp/base.tar" --format raw -o "$tmp/out-ec2" >"$tmp/build-ec2.log" 2>&1 ||
	{ cat "$tmp/build-ec2.log"; echo "FAIL: ec2 build failed"; exit 1; }
debugfs -R "cat /etc/systemd/system/prepare-env.service.d/50-ec2-metadata.conf" "$tmp/out-ec2/disk.raw?offset=1048576" 2>/dev/null |
	grep -qx 'After=network-online.target' || { echo "FAIL: the ec2 profile's prepare-env drop-in is missing"; exit 1; }
rm -rf "$tmp/out-ec2"

# The oldest target must be among the profiles, and its table must lack what its e2fsck lacks.
[ -n "$seen_xenial" ] || { echo "FAIL: no profile targets ubuntu xenial"; exit 1; }
plan=$("$BUILDER" image --profile ecs-xenial --dry-run -o "$tmp/plan")
for f in metadata_csum 64bit orphan_file metadata_csum_seed; do
	if words "$(sed -n 's/^  supported by the release: //p' <<<"$plan")" | grep -qx "$f"; then
		[ "$f" = 64bit ] || { echo "FAIL: the xenial row claims support for $f (e2fsprogs 1.42.13 lacks it)"; exit 1; }
	fi
	if words "$(sed -n 's/^  ext4 features: //p' <<<"$plan")" | grep -qx "$f"; then
		echo "FAIL: ecs-xenial is written with $f"
		exit 1
	fi
done
echo "OK: $checked filesystems match their release's table"
