#!/bin/bash
# 'env package' and 'env unpack-qr' end to end, checked with the real clients: pdftoppm + zbarimg +
# base32 + gunzip restore the file from the PDF, unpack-qr restores it from the scans in any order,
# 'seed inspect' and isoinfo read the ISO, gpg --decrypt opens the archive. Bad input writes nothing.
set -euo pipefail

: "${BUILDER:?}"
for tool in pdftoppm pdfinfo zbarimg gpg gpgconf isoinfo base32 gunzip tar cmp; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (ci/install-deps.sh)"; exit 1; }
done

W=$(mktemp -d /tmp/test-env-package.XXXXXX)
export GNUPGHOME="$W/gnupg"
cleanup() {
	if [ -d "$GNUPGHOME" ]; then gpgconf --kill all >/dev/null 2>&1 || true; fi
	rm -rf "$W"
}
trap cleanup EXIT
export TMPDIR="$W/tmp"
mkdir -p "$TMPDIR"
cd "$W"

fail() { echo "FAIL: $*" >&2; exit 1; }
zbar() { zbarimg --nodbus --raw -q '-S*.enable=0' '-Sqrcode.enable=1' "$@" 2>/dev/null || true; }

# The original's decoder pipeline, on the pages of a PDF.
# Pages as PGM (-gray): PNG compression would cost more time than everything else here.
decode_pdf() {
	local pdf=$1 out=$2 d
	d=$(mktemp -d "$W/pages.XXXXXX")
	pdftoppm -r 150 -gray "$pdf" "$d/page"
	zbar "$d"/page-*.pgm | sort -n | cut -f2 -d' ' | tr -d '\n' | base32 -d | gunzip >"$out"
}

cat >small.yml <<'EOF'
#cloud-config
# a small env: fits into a single QR code
ssh_authorized_keys:
  - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0rS4f7Yx2e0HbIHrVtW4b0P9sZqk4W5VPSvKe8F2A admin@example.org"
disable_root: false
appliance:
  domain: example.org
  allowed_hosts: example.org
  # non-ASCII text: Grüße
ecs:
  settings: |
      DEBUG = False
EOF
printf '  motd: "a\ttab"\n' >>small.yml
# A large env: 40 lines of incompressible comment text give several QR chunks.
{
	cat small.yml
	head -c 24000 /dev/urandom | base64 -w 100 | sed 's/^/# /'
} >large.yml

### 1. Single code: files, modes, decoding with the original pipeline and with unpack-qr.
"$BUILDER" env package -o out1 small.yml >out1.list
[ -f out1/env.yml.pdf ] && [ -f out1/env-cidata.iso ] || fail "outputs missing: $(ls out1)"
[ "$(stat -c %a out1/env.yml.pdf)" = 600 ] || fail "PDF mode $(stat -c %a out1/env.yml.pdf)"
[ "$(stat -c %a out1/env-cidata.iso)" = 600 ] || fail "ISO mode"
[ "$(ls out1 | wc -l)" = 2 ] || fail "unexpected files in out1: $(ls out1)"
grep -qx "out1/env.yml.pdf" out1.list || fail "output list: $(cat out1.list)"
"$BUILDER" env package -o out1 small.yml >/dev/null   # again: replaces, leaves nothing else
[ "$(ls -A out1 | wc -l)" = 2 ] || fail "second run left: $(ls -A out1)"

decode_pdf out1/env.yml.pdf small.restored
cmp small.yml small.restored || fail "zbarimg pipeline did not restore small.yml"

pdftoppm -r 150 -png out1/env.yml.pdf s1
[ "$(zbar s1-*.png | wc -l)" = 1 ] || fail "expected one QR code for the small env"
"$BUILDER" env unpack-qr -o small.unpacked s1-*.png
cmp small.yml small.unpacked || fail "unpack-qr did not restore small.yml"
[ "$(stat -c %a small.unpacked)" = 600 ] || fail "unpack-qr output mode"
"$BUILDER" env unpack-qr s1-*.png >small.stdout
cmp small.yml small.stdout || fail "unpack-qr to stdout"
# PPM as pdftoppm writes it by default
pdftoppm -r 150 out1/env.yml.pdf p1
"$BUILDER" env unpack-qr p1-*.ppm | cmp - small.yml || fail "unpack-qr from PPM"

### 2. The ISO: seed inspect, contents, label.
"$BUILDER" seed inspect out1/env-cidata.iso --json >inspect.json || fail "seed inspect rejected the ISO: $(cat inspect.json)"
isoinfo -R -x /user-data -i out1/env-cidata.iso | cmp - small.yml || fail "user-data differs from env"
isoinfo -R -x /meta-data -i out1/env-cidata.iso >meta-data
printf 'instance-id: "iid-cloud-default"\nlocal-hostname: "example.org"\n' | cmp - meta-data || fail "meta-data: $(cat meta-data)"
grep -q '"instance_id": "iid-cloud-default"' inspect.json || fail "seed inspect: $(cat inspect.json)"
grep -q '"local_hostname": "example.org"' inspect.json || fail "seed inspect: $(cat inspect.json)"
isoinfo -R -x /env.yml.pdf -i out1/env-cidata.iso | cmp - out1/env.yml.pdf || fail "PDF in ISO differs"
isoinfo -d -i out1/env-cidata.iso | grep -q 'Volume id: CIDATA' || fail "volume id"

# Custom meta-data: --meta-data=FILE, or meta-data.custom next to the env (as the original).
printf 'instance-id: iid-custom-1\nlocal-hostname: custom\n' >custom-meta
"$BUILDER" env package -o out5 --meta-data custom-meta small.yml >/dev/null
isoinfo -R -x /meta-data -i out5/env-cidata.iso | cmp - custom-meta || fail "--meta-data not used"
mkdir side && cp small.yml side/env.yml && cp custom-meta side/meta-data.custom
"$BUILDER" env package side/env.yml >/dev/null
isoinfo -R -x /meta-data -i side/env-cidata.iso | cmp - custom-meta || fail "meta-data.custom not used"

### 3. Several chunks, four per page, restored from scans in any order.
cp large.yml env.yml
"$BUILDER" env package env.yml >/dev/null   # default output directory: next to env.yml
[ -f env.yml.pdf ] && [ -f env-cidata.iso ] || fail "default output directory not used"
decode_pdf env.yml.pdf large.restored
cmp large.yml large.restored || fail "zbarimg pipeline did not restore the large env"

pdftoppm -r 150 -gray env.yml.pdf L
codes=$(zbar L-*.pgm | wc -l)
[ "$codes" -ge 9 ] || fail "expected at least 9 chunks, got $codes"
first=$(zbar L-*.pgm | sort -n | sed -n 1p)   # not head: SIGPIPE under pipefail
[ "${first:0:3}" = "00 " ] || fail "chunks must be numbered from 00: ${first:0:10}"
[ "$(zbar L-*.pgm | awk '{ print length($2) }' | sort -n | tail -1)" = 2100 ] || fail "chunk size is not 2100"
# Per QR page: four codes (the last QR page may hold fewer).
qr_pages=0
for p in L-*.pgm; do
	n=$(zbar "$p" | wc -l)
	[ "$n" -le 4 ] || fail "$p holds $n codes"
	[ "$n" -gt 0 ] && qr_pages=$((qr_pages + 1))
done
[ "$qr_pages" = $(((codes + 3) / 4)) ] || fail "$codes codes on $qr_pages pages"

# reverse order, with one page given twice
mapfile -t pages < <(ls L-*.pgm | sort -r)
"$BUILDER" env unpack-qr -o large.unpacked "${pages[@]}" "${pages[1]}"
cmp large.yml large.unpacked || fail "unpack-qr (shuffled) did not restore the large env"

# Leave out the page with chunks 04-07: the error names them, nothing is written.
mapfile -t qrpages < <(for p in L-*.pgm; do [ -n "$(zbar "$p")" ] && echo "$p"; done)
rc=0
"$BUILDER" env unpack-qr -o partial.yml "${qrpages[0]}" "${qrpages[@]:2}" 2>err.txt || rc=$?
[ "$rc" = 1 ] || fail "missing chunks: exit $rc"
grep -q '04, 05, 06, 07' err.txt || fail "missing chunks not named: $(cat err.txt)"
[ ! -e partial.yml ] || fail "unpack-qr wrote output despite missing chunks"

# An image without codes only: failure.
rc=0
"$BUILDER" env unpack-qr "${pages[-1]}" >/dev/null 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q "no QR codes found" err.txt || fail "text page only: exit $rc, $(cat err.txt)"

### 3b. A real env as 'env create' writes it (secrets, OpenPGP and DKIM keys): several chunks.
"$BUILDER" env create example.net created >/dev/null 2>&1 || fail "env create failed"
"$BUILDER" env package created/env.yml >/dev/null
pdftoppm -r 150 -gray created/env.yml.pdf C
[ "$(zbar C-*.pgm | wc -l)" -ge 2 ] || fail "expected several chunks for a created env"
"$BUILDER" env unpack-qr C-*.pgm 2>/dev/null | cmp - created/env.yml || fail "created env not restored"
"$BUILDER" seed inspect created/env-cidata.iso >/dev/null || fail "seed inspect rejected the created env's ISO"

### 4. The encrypted archive, with a throw-away key.
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Env Test <env-test@example.org>' future-default default never
gpg --batch --quiet --passphrase '' --quick-gen-key 'Env Second <env-second@example.org>' future-default default never
gpg --batch --quiet --passphrase '' --quick-gen-key 'Sign Only <sign-only@example.org>' ed25519 sign never
# two recipients, armoured, concatenated (the original's gpgkeys.txt)
{ gpg --batch --armor --export env-test@example.org; gpg --batch --armor --export env-second@example.org; } >gpgkeys.txt
gpg --batch --armor --export sign-only@example.org >signonly.txt
export SOURCE_DATE_EPOCH=1700000000 TZ=UTC
"$BUILDER" env package -o out2 --gpg-recipients gpgkeys.txt small.yml >/dev/null
archive=out2/example.org.env.2023-11-14_22.13.tar.gz.gpg
[ -f "$archive" ] || fail "archive missing: $(ls out2)"
[ "$(stat -c %a "$archive")" = 600 ] || fail "archive mode"
gpg --batch --quiet --decrypt "$archive" >bundle.tar.gz 2>/dev/null || fail "gpg --decrypt failed"
[ "$(gpg --batch --list-packets "$archive" 2>/dev/null | grep -c '^:pubkey enc packet')" = 2 ] ||
	fail "archive is not encrypted to both keys"
mkdir bundle
tar -C bundle -xzf bundle.tar.gz
[ "$(ls bundle | sort | tr '\n' ' ')" = "env-cidata.iso env.yml env.yml.pdf " ] || fail "archive holds: $(ls bundle)"
cmp bundle/env.yml small.yml || fail "env in archive differs"
cmp bundle/env.yml.pdf out2/env.yml.pdf || fail "PDF in archive differs"
cmp bundle/env-cidata.iso out2/env-cidata.iso || fail "ISO in archive differs"
# SOURCE_DATE_EPOCH makes the ISO reproducible
"$BUILDER" env package -o out3 small.yml >/dev/null
cmp out2/env-cidata.iso out3/env-cidata.iso || fail "ISO not reproducible under SOURCE_DATE_EPOCH"
[ -z "$(ls -A "$TMPDIR")" ] || fail "temporary files left behind: $(ls -A "$TMPDIR")"

### 5. Bad input: exit 1, a clear message, nothing written.
expect_fail() { # NAME FILE PATTERN [ARGS...]
	local name=$1 file=$2 pattern=$3 rc=0
	shift 3
	rm -rf bad
	"$BUILDER" env package -o bad "$@" "$file" >/dev/null 2>err.txt || rc=$?
	[ "$rc" = 1 ] || fail "$name: exit $rc, expected 1"
	grep -q -- "$pattern" err.txt || fail "$name: message '$(cat err.txt)' lacks '$pattern'"
	[ ! -e bad ] || [ -z "$(ls -A bad)" ] || fail "$name: wrote $(ls -A bad)"
}
: >empty.yml
printf '#cloud-config\nappliance: [unclosed\n' >notyaml.yml
printf 'appliance:\n  domain: example.org\n' >noheader.yml
printf '#cloud-config\nappliance:\n  domain: [a, b]\n' >types.yml
printf '#cloud-config\n- a\n- b\n' >list.yml
printf '#cloud-config\nappliance:\n  domain: "a/b"\n' >baddomain.yml
printf '#cloud-config\necs: {}\n' >nodomain.yml
printf 'not a key\n' >badkeys.txt
printf 'instance-id: [oops\n' >badmeta

expect_fail missing "$W/does-not-exist.yml" "does-not-exist.yml"
expect_fail empty empty.yml "empty.yml"
expect_fail not-yaml notyaml.yml "notyaml.yml:"
expect_fail no-header noheader.yml "noheader.yml"
expect_fail wrong-type types.yml "types.yml:3:.*appliance:domain"
expect_fail root-list list.yml "list.yml"
expect_fail bad-domain baddomain.yml "not a host name"
expect_fail no-domain nodomain.yml "appliance:domain is missing"
expect_fail bad-keys small.yml "no OpenPGP public key" --gpg-recipients badkeys.txt
expect_fail no-keyfile small.yml "nokeys.txt" --gpg-recipients nokeys.txt
expect_fail sign-only-key small.yml "cannot encrypt" --gpg-recipients signonly.txt
expect_fail bad-meta-data small.yml "would not be used by cloud-init" --meta-data badmeta
{ printf '#cloud-config\nappliance:\n  domain: x.org\n'; head -c 200000 /dev/urandom | base64 -w 76 | sed 's/^/# /'; } >huge.yml
expect_fail too-large huge.yml "too large"

# One output fails at commit (a directory is in the way of the archive): none of this run's outputs
# remain, and the files of an earlier run that were replaced meanwhile are back.
rm -rf out4 && mkdir -p "out4/example.org.env.2023-11-14_22.13.tar.gz.gpg"
rc=0
"$BUILDER" env package -o out4 --gpg-recipients gpgkeys.txt small.yml >/dev/null 2>err.txt || rc=$?
[ "$rc" = 1 ] || fail "commit failure: exit $rc"
[ "$(ls -A out4)" = "example.org.env.2023-11-14_22.13.tar.gz.gpg" ] || fail "partial outputs left: $(ls -A out4)"
echo "earlier pdf" >out4/env.yml.pdf
echo "earlier iso" >out4/env-cidata.iso
rc=0
"$BUILDER" env package -o out4 --gpg-recipients gpgkeys.txt small.yml >/dev/null 2>err.txt || rc=$?
[ "$rc" = 1 ] || fail "commit failure over an earlier run: exit $rc"
[ "$(cat out4/env.yml.pdf)" = "earlier pdf" ] || fail "the earlier PDF was not restored"
[ "$(cat out4/env-cidata.iso)" = "earlier iso" ] || fail "the earlier ISO was not restored"
[ "$(ls -A out4 | wc -l)" = 3 ] || fail "left behind: $(ls -A out4)"

### 6. Usage.
rc=0; "$BUILDER" env package >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "no argument: exit $rc"
rc=0; "$BUILDER" env package --bogus x.yml >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "bad option: exit $rc"
rc=0; "$BUILDER" env unpack-qr >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "unpack-qr without images: exit $rc"
"$BUILDER" env package --help | grep -q 'Exit status' || fail "package --help"
"$BUILDER" env unpack-qr --help | grep -q 'Exit status' || fail "unpack-qr --help"

echo "OK"
