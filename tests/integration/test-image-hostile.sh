#!/bin/bash
# Images from hostile bases: a root tarball whose symlinks point at "host" paths (a directory
# outside the scratch tree standing in for the build host) must never make the builder read or
# write there. The host paths are snapshotted before and compared after every build.
#  1. the cached test base with usr/lib/systemd, etc/systemd/system, usr/share/appliance, /app,
#     /data, var/log, var/tmp, etc/ssh, root/.bash_history, var/lib/dpkg/status and etc/hostname
#     turned into absolute symlinks to host paths: the build succeeds, the files it adds land in
#     the tree's own copies of those paths, the host paths are unchanged and nothing of theirs
#     (a package list, a host name) reaches the image's manifest;
#  2. a base whose etc/shadow links to a host file: refused, nothing written;
#  3. tarballs with "..", absolute names, hard links out of the tree or through a symlink and
#     device nodes (a disk, /dev/mem): each refused naming the entry; a member below a symlink
#     replaces the symlink (libarchive's SECURE_SYMLINKS with UNLINK) and stays in the tree.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

image_build_setup python3 mke2fs

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

tmp=$(mktemp -d /var/tmp/test-image-hostile.XXXXXX)
# The "host": outside the scratch tree, and outside /tmp and /var/tmp, whose content the hygiene
# step removes from the tree (the tree's own copies of these paths have to survive it).
host=$(mktemp -d /var/lib/appliance-test-hostile.XXXXXX)
trap 'rm -rf "$tmp" "$host"' EXIT
export TMPDIR="$tmp/scratch"
mkdir "$TMPDIR"

mkdir -p "$host"/{systemd,units,appliance,app,data,log,vartmp,ssh}
echo "host unit" >"$host/systemd/host.service"
echo "host wants" >"$host/units/host.conf"
echo "host log" >"$host/log/keep.log"
echo "host temp" >"$host/vartmp/keep"
echo "host key" >"$host/ssh/ssh_host_ed25519_key"
echo "host history" >"$host/history"
printf 'Package: hostpkg\nStatus: install ok installed\nVersion: 6.6.6\n\n' >"$host/status"
hostname >"$host/hostname"
echo "root:HOSTSECRET:19000:0:99999:7:::" >"$host/shadow"
chmod 0640 "$host/shadow"

snapshot() {
	(cd "$host" && find . -printf '%y %p %s %m %u:%g %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
snapshot >"$tmp/host.before"
check_host() {
	snapshot >"$tmp/host.after"
	diff -u "$tmp/host.before" "$tmp/host.after" || fail "$1: the host paths changed"
}

{
image_test_profile hostile 64M
cat <<'YML'
kernel_cmdline: "console=ttyS0,115200"
files:
  - path: /etc/systemd/system/profile-file.conf
    content: "from the profile\n"
YML
} >"$tmp/profile.yml"
printf '#cloud-config\nappliance:\n  domain: test.example\n' >"$tmp/env.yml"

# hostile_base OUT LINK=TARGET...: the cached base with each LINK replaced by an absolute symlink
# to TARGET. What the base had at LINK moves to the tree's own copy of TARGET, so that it stays in
# the tree; a TARGET ending in '/' is a directory the tree gets in any case.
hostile_base() {
	python3 - "$rootfs" "$@" <<'EOF'
import sys, tarfile
src, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
links = dict(s.split("=", 1) for s in specs)
with tarfile.open(src) as tin, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tout:
    for m in tin:
        name = m.name[2:] if m.name.startswith("./") else m.name
        for link, target in links.items():
            if name.rstrip("/") == link or name.startswith(link + "/"):
                m.name = "./" + target.strip("/") + name.rstrip("/")[len(link):]
                break
        tout.addfile(m, tin.extractfile(m) if m.isreg() else None)
    for link, target in links.items():
        if target.endswith("/"):
            parts = target.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                d = tarfile.TarInfo("./" + "/".join(parts[:i]))
                d.type, d.mode = tarfile.DIRTYPE, 0o755
                tout.addfile(d)
        l = tarfile.TarInfo("./" + link)
        l.type, l.linkname = tarfile.SYMTYPE, target.rstrip("/")
        tout.addfile(l)
EOF
}

step "a base whose directories link to host paths: built inside the tree only"
hostile_base "$tmp/dirs.tar" \
	"usr/lib/systemd=$host/systemd/" "etc/systemd/system=$host/units/" "usr/share/appliance=$host/appliance/" \
	"app=$host/app/" "data=$host/data/" "var/log=$host/log/" "var/tmp=$host/vartmp/" "etc/ssh=$host/ssh/" \
	"root/.bash_history=$host/history" "var/lib/dpkg/status=$host/status" "etc/hostname=$host/hostname"
"$BUILDER" image --profile "$tmp/profile.yml" --base "$tmp/dirs.tar" --env "$tmp/env.yml" --size 1200M \
	--format raw -o "$tmp/out" --json >"$tmp/manifest.json" || fail "the build from the linked base failed"
check_host "linked directories"
[ -s "$tmp/out/disk.raw" ] || fail "no disk written"
! grep -q hostpkg "$tmp/manifest.json" || fail "the host's dpkg status reached the manifest"
[ -z "$(ls -A "$TMPDIR")" ] || fail "scratch left: $(ls -A "$TMPDIR")"
# What the builder added is in the image, below the tree's copies of the link targets.
debugfs -R "ls -l $host/appliance" "$tmp/out/disk.raw?offset=1048576" 2>/dev/null | grep -q profile.yml ||
	fail "the profile is not in the tree's copy of $host/appliance"
debugfs -R "cat $host/units/profile-file.conf" "$tmp/out/disk.raw?offset=1048576" 2>/dev/null | grep -q "from the profile" ||
	fail "the profile's file is not in the tree's copy of $host/units"
echo "ok: built; host paths unchanged"
rm -rf "$tmp/out" "$tmp/dirs.tar"

step "a base whose /etc/shadow links to a host file: refused"
hostile_base "$tmp/shadow.tar" "etc/shadow=$host/shadow"
rc=0
"$BUILDER" image --profile "$tmp/profile.yml" --base "$tmp/shadow.tar" --size 1200M --format raw \
	-o "$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || { cat "$tmp/err"; fail "shadow link: exit $rc, expected 1"; }
grep -q "the base's /etc/shadow is a symbolic link, not a regular file" "$tmp/err" || { cat "$tmp/err"; fail "shadow link: message"; }
[ ! -e "$tmp/out" ] || fail "shadow link: output written"
check_host "shadow link"
echo "ok: $(grep -m1 error: "$tmp/err")"
rm -f "$tmp/shadow.tar"

step "hostile tarball entries"
# evil_tar NAME: a small tarball with a few ordinary entries and the hostile one.
evil_tar() {
	python3 - "$tmp/$1.tar" "$1" "$host" <<'EOF'
import io, sys, tarfile
out, kind, host = sys.argv[1:]
def add(t, name, type=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size = type, len(data) if type == tarfile.REGTYPE else 0
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "./etc", tarfile.DIRTYPE, mode=0o755)
    add(t, "./etc/os-release", data=b"ID=debian\n")
    if kind == "dotdot":
        add(t, "./etc/../../../" + host.lstrip("/") + "/dotdot", data=b"x")
    elif kind == "absolute":
        add(t, host + "/absolute", data=b"x")
    elif kind == "hardlink-out":
        add(t, "./etc/hl", tarfile.LNKTYPE, linkname="../../../" + host.lstrip("/") + "/shadow")
    elif kind == "hardlink-abs":
        add(t, "./etc/hl", tarfile.LNKTYPE, linkname=host + "/shadow")
    elif kind == "hardlink-via-symlink":
        add(t, "./h", tarfile.SYMTYPE, linkname=host)
        add(t, "./etc/hl", tarfile.LNKTYPE, linkname="h/shadow")
    elif kind == "below-symlink":
        add(t, "./h", tarfile.SYMTYPE, linkname=host)
        add(t, "./h/planted", data=b"x")
    elif kind == "block-device":
        add(t, "./dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
    elif kind == "dev-mem":
        add(t, "./dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1)
EOF
}
expect_refused() {
	local kind=$1 pattern=$2 rc=0
	evil_tar "$kind"
	"$BUILDER" image --profile "$tmp/profile.yml" --base "$tmp/$kind.tar" --size 100M --format raw \
		-o "$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || { cat "$tmp/err"; fail "$kind: exit $rc, expected 1"; }
	grep -qE -- "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "$kind: error does not match '$pattern'"; }
	[ ! -e "$tmp/out" ] || fail "$kind: output written"
	check_host "$kind"
	echo "ok: $kind: $(grep -m1 error: "$tmp/err")"
}
expect_refused dotdot "cannot extract entry '.*dotdot'"
expect_refused absolute "cannot extract entry '$host/absolute'"
expect_refused hardlink-out "cannot extract entry './etc/hl'"
expect_refused hardlink-abs "cannot extract entry './etc/hl'"
expect_refused hardlink-via-symlink "cannot extract entry './etc/hl'"
# libarchive (SECURE_SYMLINKS with UNLINK) replaces the symlink on the way by a directory: the
# member lands in the tree, the build goes on to find no kernel in this small tarball.
expect_refused below-symlink "the base has no kernel"
expect_refused block-device "entry './dev/sda' is a block device 8:0, which a root tree does not carry"
expect_refused dev-mem "entry './dev/mem' is a character device 1:1, which a root tree does not carry"

echo "OK"
