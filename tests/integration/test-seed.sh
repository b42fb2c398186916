#!/bin/bash
# 'appliance-builder seed' end to end: the image as blkid, isoinfo and xorriso see it, inspect on
# our own and other tools' images, reproducibility, presets, and broken inputs that must fail
# with a position and leave no output behind.
set -euo pipefail
: "${BUILDER:?}" "${SRCDIR:?}"

for tool in blkid isoinfo xorriso genisoimage cloud-localds jq ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-seed.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# expect_fail NAME PATTERN CMD...: CMD exits 1, stderr matches PATTERN, and out.iso does not exist.
expect_fail() {
	local name=$1 pattern=$2 rc=0
	shift 2
	rm -f out.iso
	"$@" 2>err.txt || rc=$?
	[ "$rc" -eq 1 ] || { cat err.txt; fail "$name: exit $rc, expected 1"; }
	grep -qE -- "$pattern" err.txt || { cat err.txt; fail "$name: error does not match '$pattern'"; }
	[ ! -e out.iso ] || fail "$name: out.iso was written"
	echo "ok: $name: $(head -n1 err.txt)"
}

step "vagrant preset and inspect"
"$BUILDER" seed --preset vagrant -o s.iso
"$BUILDER" seed inspect s.iso
eval "$(blkid -o export s.iso)"
[ "$LABEL" = cidata ] || fail "blkid LABEL=$LABEL"
[ "$TYPE" = iso9660 ] || fail "blkid TYPE=$TYPE"
blkid s.iso | grep -q 'LABEL="cidata" TYPE="iso9660"' || fail "blkid line: $(blkid s.iso)"
isoinfo -d -i s.iso | grep -q 'Joliet with UCS level 3 found' || fail "no Joliet"
isoinfo -d -i s.iso | grep -q 'Rock Ridge signatures version 1 found' || fail "no Rock Ridge"
isoinfo -R -x /user-data -i s.iso >ud.out
head -n1 ud.out | grep -qx '#cloud-config' || fail "user-data header"
grep -q -- '- name: vagrant' ud.out || fail "no vagrant user"
grep -q 'sudo: "ALL=(ALL) NOPASSWD:ALL"' ud.out || fail "no passwordless sudo"
# Both insecure keys, byte for byte as in seed/, and they are the published ones (fingerprints).
for k in "$SRCDIR/seed/vagrant.pub" "$SRCDIR/seed/vagrant.pub.ed25519"; do
	grep -qF "\"$(cat "$k")\"" ud.out || fail "key $k missing from user-data"
done
ssh-keygen -lf "$SRCDIR/seed/vagrant.pub" | grep -q 'SHA256:1M4RzhMyWuFS/86uPY/ce2prh/dVTHW7iD2RhpquOZA' ||
	fail "RSA key fingerprint"
ssh-keygen -lf "$SRCDIR/seed/vagrant.pub.ed25519" | grep -q 'SHA256:WkvqjnyPAeC0cbPErYiGP9vqHdgL1MqqvPdIe3lvHgI' ||
	fail "ed25519 key fingerprint"
"$BUILDER" seed inspect --json s.iso >s.json
jq -e '.ok == true and .label == "cidata" and .filesystem == "iso9660" and .user_data_type == "cloud-config"
       and (.instance_id | test("^iid-[0-9a-f]{16}$")) and .problems == []
       and ([.files[].name] == ["meta-data", "user-data"])' s.json >/dev/null || { cat s.json; fail "inspect json"; }

step "files in the image equal the inputs"
printf '#!/bin/sh\necho hello from user-data\n' >ud
printf 'instance-id: iid-given\nlocal-hostname: given.example.org\n' >md
printf 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' >nc
printf '#cloud-config\npackages: [curl]\n' >vd
"$BUILDER" seed --user-data ud --meta-data md --network-config nc --vendor-data vd -o f.iso
isoinfo -R -l -i f.iso >list.txt
for f in user-data meta-data network-config vendor-data; do
	grep -q " $f *\$" list.txt || { cat list.txt; fail "isoinfo -R -l lacks $f"; }
done
xorriso -indev f.iso -ls / 2>/dev/null | tr -d "'" | sort >xls.txt
printf '%s\n' meta-data network-config user-data vendor-data | cmp - xls.txt || { cat xls.txt; fail "xorriso -ls"; }
mkdir x
xorriso -osirrox on -indev f.iso -extract / x 2>/dev/null
for pair in ud:user-data md:meta-data nc:network-config vd:vendor-data; do
	src=${pair%%:*} dst=${pair#*:}
	isoinfo -R -x "/$dst" -i f.iso | cmp - "$src" || fail "isoinfo -R -x /$dst differs from $src"
	isoinfo -J -x "/$dst" -i f.iso | cmp - "$src" || fail "isoinfo -J -x /$dst differs from $src"
	cmp "x/$dst" "$src" || fail "xorriso extract $dst differs from $src"
done

step "inspect round trip"
"$BUILDER" seed inspect --json f.iso >f.json
jq -e '.ok and .instance_id == "iid-given" and .local_hostname == "given.example.org"
       and .user_data_type == "script" and .rock_ridge and .joliet
       and ([.files[] | select(.name == "user-data") | .size][0] == '"$(stat -c %s ud)"')
       and ([.files[] | select(.name == "network-config") | .size][0] == '"$(stat -c %s nc)"')' f.json >/dev/null ||
	{ cat f.json; fail "inspect round trip"; }

step "reproducibility"
SOURCE_DATE_EPOCH=1700000000 "$BUILDER" seed --preset vagrant --grow-root --hostname r.example.org \
	--instance-id iid-0123456789abcdef -o r1.iso
sleep 1.2
SOURCE_DATE_EPOCH=1700000000 TZ=America/New_York "$BUILDER" seed --preset vagrant --grow-root \
	--hostname r.example.org --instance-id iid-0123456789abcdef -o r2.iso
cmp r1.iso r2.iso || fail "not reproducible"
blkid -o value -s UUID r1.iso | grep -qx '2023-11-14-22-13-20-00' || fail "epoch not in the volume date"
SOURCE_DATE_EPOCH=1700000000 "$BUILDER" seed --preset vagrant -o r3.iso
cmp -s r1.iso r3.iso && fail "random instance ids gave the same image"
echo "ok: $(sha256sum r1.iso)"

step "presets: root, grow-root, merge"
ssh-keygen -q -t ed25519 -N '' -C test-key -f k1
ssh-keygen -q -t rsa -b 2048 -N '' -C test-key2 -f k2
"$BUILDER" seed --preset root --ssh-key k1.pub --ssh-key k2.pub --grow-root --hostname h1 -o root.iso
isoinfo -R -x /user-data -i root.iso >root.ud
grep -qF "\"$(cat k1.pub)\"" root.ud && grep -qF "\"$(cat k2.pub)\"" root.ud || fail "root keys"
grep -qx 'disable_root: false' root.ud || fail "disable_root"
grep -qx 'resize_rootfs: true' root.ud && grep -qx '  mode: auto' root.ud || fail "grow-root settings"
isoinfo -R -x /meta-data -i root.iso | grep -qx 'local-hostname: "h1"' || fail "hostname in meta-data"
printf '#cloud-config\npackages:\n  - htop\n' >mine.yml
"$BUILDER" seed --user-data mine.yml --preset vagrant --grow-root -o merged.iso
isoinfo -R -x /user-data -i merged.iso >merged.ud
grep -q -- '- htop' merged.ud && grep -q -- '- name: vagrant' merged.ud || fail "merge lost content"
"$BUILDER" seed inspect merged.iso >/dev/null

step "env as user-data"
printf '#cloud-config\nappliance:\n  domain: ecs.example.org\n  extra: {a: 1}\n' >env.yml
"$BUILDER" seed --env env.yml --instance-id iid-env -o env.iso
isoinfo -R -x /user-data -i env.iso | cmp - env.yml || fail "env is not the user-data"
isoinfo -R -x /meta-data -i env.iso | grep -qx 'local-hostname: "ecs.example.org"' || fail "domain as hostname"

step "other tools' seeds"
mkdir -p in
printf '#cloud-config\npassword: x\n' >in/user-data
printf 'instance-id: iid-other\n' >in/meta-data
cloud-localds cl.iso in/user-data in/meta-data
"$BUILDER" seed inspect cl.iso || fail "cloud-localds seed rejected"
"$BUILDER" seed inspect --json cl.iso | jq -e '.ok and .instance_id == "iid-other"' >/dev/null || fail "cloud-localds json"
genisoimage -quiet -o gen.iso -volid cidata -joliet -rock in/user-data in/meta-data
"$BUILDER" seed inspect gen.iso >/dev/null || fail "genisoimage -J -R seed rejected"
xorriso -as mkisofs -quiet -o xo.iso -V cidata -J -r in 2>/dev/null
"$BUILDER" seed inspect xo.iso >/dev/null || fail "xorriso seed rejected"
# Rejected ones, each naming its rule, exit 3.
check_rejected() {
	local iso=$1 rule=$2 rc=0
	"$BUILDER" seed inspect --json "$iso" >rej.json 2>rej.err || rc=$?
	[ "$rc" -eq 3 ] || fail "$iso: inspect exit $rc, expected 3"
	jq -e --arg r "$rule" '.ok == false and any(.problems[]; startswith($r))' rej.json >/dev/null ||
		{ cat rej.json; fail "$iso: no problem starting with '$rule'"; }
	grep -q -- "$rule" rej.err || fail "$iso: stderr does not name '$rule'"
	echo "ok: $iso rejected: $(jq -r '.problems[0]' rej.json)"
}
genisoimage -quiet -o plain.iso -volid cidata in/user-data in/meta-data
check_rejected plain.iso "names:"
xorriso -as mkisofs -quiet -o mixed.iso -V CiData -J -r in 2>/dev/null
check_rejected mixed.iso "label:"
genisoimage -quiet -o nometa.iso -volid cidata -J -R in/user-data
check_rejected nometa.iso "meta-data: missing"
printf 'not a header\n' >in2-user-data
genisoimage -quiet -o badud.iso -volid cidata -J -R -graft-points user-data=in2-user-data meta-data=in/meta-data
check_rejected badud.iso "user-data:1:1: unknown user-data header"
rc=0; "$BUILDER" seed inspect ud >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "inspect of a text file: exit $rc"
rc=0; "$BUILDER" seed inspect /nonexistent.iso >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "inspect of a missing file: exit $rc"
rc=0; "$BUILDER" seed inspect . >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "inspect of a directory: exit $rc"

step "broken inputs give an error and no output"
printf '#cloud-config\nusers:\n  - name: a\n    groups: [x, y\n' >bad.yml
printf '#cloud-config\na: 1\n\tb: 2\n' >tab.yml
printf 'instance-id: [\n' >badmeta
printf 'hello\n' >unknown
printf 'ethernets: {}\n' >nover
printf 'version: 2\nversion: 2\n' >dupnet
printf 'no header\nappliance: {}\n' >env-bad.yml
printf '#cloud-config\nresize_rootfs: false\n' >clash.yml
expect_fail "missing user-data" "Cannot read 'nope': No such file" "$BUILDER" seed --user-data nope -o out.iso
expect_fail "bad YAML" "^.*bad.yml:5:1: did not find expected ',' or ']' \\(while parsing a flow sequence at 4:13\\)" \
	"$BUILDER" seed --user-data bad.yml -o out.iso
expect_fail "tab indent" "tab.yml:3:1: found a tab character that violates indentation" \
	"$BUILDER" seed --user-data tab.yml -o out.iso
expect_fail "bad meta-data" "badmeta:2:1: " "$BUILDER" seed --meta-data badmeta -o out.iso
expect_fail "unknown header" "unknown:1:1: unknown user-data header 'hello'" \
	"$BUILDER" seed --user-data unknown -o out.iso
expect_fail "unknown vendor-data header" "unknown:1:1: unknown user-data header" \
	"$BUILDER" seed --vendor-data unknown -o out.iso
expect_fail "network-config without version" "nover:1:1: no 'version' key" \
	"$BUILDER" seed --network-config nover -o out.iso
expect_fail "duplicate key" "dupnet:2:1: duplicate key 'version'" "$BUILDER" seed --network-config dupnet -o out.iso
expect_fail "env without #cloud-config" "env-bad.yml:1:1: an env file must begin with '#cloud-config'" \
	"$BUILDER" seed --env env-bad.yml -o out.iso
expect_fail "preset clash" "clash.yml:2:1: 'resize_rootfs' is also set" \
	"$BUILDER" seed --user-data clash.yml --grow-root -o out.iso
expect_fail "preset with a script" "ud:1:1: --preset and --grow-root add cloud-config settings" \
	"$BUILDER" seed --user-data ud --preset vagrant -o out.iso
expect_fail "private key given" "k1:1: this is a private key" \
	"$BUILDER" seed --preset root --ssh-key k1 -o out.iso
expect_fail "missing directory" "Cannot write 'nodir/out.iso'" "$BUILDER" seed -o nodir/out.iso
[ ! -e nodir ] || fail "nodir created"
SOURCE_DATE_EPOCH=yesterday expect_fail "bad SOURCE_DATE_EPOCH" "Invalid SOURCE_DATE_EPOCH" \
	"$BUILDER" seed -o out.iso

# A read-only output directory; root ignores permissions, so drop to nobody for this one.
mkdir ro && cp ud ro-ud && chmod 0555 ro && chmod 0644 ro-ud && chmod 0755 "$T"
if [ "$(id -u)" -eq 0 ]; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
else
	as_user() { "$@"; }
fi
rc=0
as_user "$BUILDER" seed --user-data ro-ud -o ro/out.iso 2>err.txt || rc=$?
[ "$rc" -eq 1 ] || { cat err.txt; fail "read-only directory: exit $rc"; }
grep -q "Cannot write 'ro/out.iso'.*Permission denied" err.txt || { cat err.txt; fail "read-only message"; }
[ -z "$(ls -A ro)" ] || fail "read-only directory: something was written: $(ls -A ro)"
echo "ok: read-only directory: $(head -n1 err.txt)"

# A failed run keeps an existing output unchanged.
cp s.iso keep.iso
rc=0; "$BUILDER" seed --user-data bad.yml -o keep.iso 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] && cmp -s s.iso keep.iso || fail "existing output changed by a failed run"

# Usage errors exit 2; --help exits 0 and documents the exit codes.
"$BUILDER" seed --help | grep -q '^Exit status: 0 success' || fail "seed --help"
rc=0; "$BUILDER" seed 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "no -o: exit $rc"
rc=0; "$BUILDER" seed -o x.iso --preset nope 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unknown preset: exit $rc"
[ ! -e x.iso ] || fail "x.iso written on a usage error"

echo "PASS"
