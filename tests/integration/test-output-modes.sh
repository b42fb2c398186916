#!/bin/bash
# Every output that holds a secret is private, the others keep their normal mode. Lists each output
# of `seed --env` (and other seeds), `env package`, `image --env` (a small image from the cached
# root tarball: root + a volume partition on the boot disk, a volume disk of its own; raw, qcow2,
# vmdk) and `make image` (builder/make-image.sh, which makes a new env) with its mode, and checks
# the modes and manifest.json's "secret" flags. Everything runs under umask 000, so no mode here
# comes from the umask.
set -euo pipefail
: "${BUILDER:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
. "$SRCDIR/tests/integration/image-common.sh"

for tool in jq ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-output-modes.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
umask 000

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# expect_modes DIR "NAME MODE" ...: DIR holds exactly these entries (recursively), with these modes.
expect_modes() {
	local dir=$1 got want
	shift
	got=$(cd "$dir" && find . -mindepth 1 -printf '%P\n' | sort | while read -r f; do
		echo "$f $(stat -c %a "$f")"
	done)
	want=$(printf '%s\n' "$@" | sort)
	echo "$got" | sed "s|^|  $dir/|"
	[ "$got" = "$want" ] || fail "$dir: modes differ from the expected:$(printf '\n%s' "$want")"
}

printf '#cloud-config\nappliance:\n  domain: test.example\n  sentry:\n    dsn: "https://secret@sentry.example/1"\n' >env.yml
chmod 0644 env.yml # an env is a secret whatever its own mode says
printf '#cloud-config\nhostname: box\n' >ud
chmod 0644 ud
cp ud ud-private
chmod 0600 ud-private
ssh-keygen -q -t ed25519 -N '' -C test@modes -f key

step "seeds"
mkdir seeds
"$BUILDER" seed --env env.yml -o seeds/env.iso
"$BUILDER" seed --preset root --ssh-key key.pub -o seeds/preset.iso
"$BUILDER" seed --user-data ud -o seeds/user-data.iso
"$BUILDER" seed --user-data ud-private -o seeds/user-data-private.iso
expect_modes seeds "env.iso 600" "preset.iso 644" "user-data.iso 644" "user-data-private.iso 600"
# Replacing a public seed with one that carries an env: private too (a new file, not the old inode).
"$BUILDER" seed --env env.yml -o seeds/preset.iso
[ "$(stat -c %a seeds/preset.iso)" = 600 ] || fail "a replaced seed keeps the old mode"

step "env package"
mkdir pkg
cp env.yml pkg/
"$BUILDER" env package pkg/env.yml -o pkg >/dev/null
expect_modes pkg "env.yml 644" "env.yml.pdf 600" "env-cidata.iso 600"

# The images need root (the tarball's owners), the cached tarball and the disk tools.
image_build_setup qemu-img

{
image_test_profile modes-test 32M
cat <<'YML'
  - label: ecs-volatile
    mountpoint: /volatile
    place: disk
    size: 32M
YML
} >profile.yml
export TMPDIR="$T/scratch"
mkdir "$TMPDIR"

step "image --env"
"$BUILDER" image --profile profile.yml --base "$rootfs" --env env.yml --size 1200M --format raw,qcow2,vmdk \
	-o img >/dev/null
expect_modes img "disk.raw 600" "disk.qcow2 600" "disk.vmdk 600" \
	"ecs-volatile.raw 644" "ecs-volatile.qcow2 644" "ecs-volatile.vmdk 644" \
	"SHA256SUMS 644" "manifest.json 644" "sbom.spdx.json 644"
[ "$(stat -c %a img)" = 755 ] || fail "output directory mode $(stat -c %a img)"
secret=$(jq -r '.outputs[] | "\(.file) \(.secret)"' img/manifest.json | sort | tr '\n' ' ')
[ "$secret" = "disk.qcow2 true disk.raw true disk.vmdk true ecs-volatile.qcow2 false ecs-volatile.raw false ecs-volatile.vmdk false " ] ||
	fail "manifest secret flags: $secret"
# The root disk's qcow2 has 1 MiB clusters (smaller when compressed), a volume disk qemu's 64 KiB.
for q in "disk.qcow2 1048576" "ecs-volatile.qcow2 65536"; do
	cs=$(qemu-img info --output=json "img/${q% *}" | jq -r '.["cluster-size"]')
	[ "$cs" = "${q#* }" ] || fail "${q% *}: cluster size $cs, expected ${q#* }"
done
[ -z "$(ls -A "$TMPDIR")" ] || fail "scratch left: $(ls -A "$TMPDIR")"

step "make image (a new env)"
# An env directory left by an older run with a wider mode is made private again.
mkdir -p mk/env
chmod 0755 mk/env
APPLIANCE_SSH_KEYS=$T/key.pub APPLIANCE_FORMATS=qcow2 APPLIANCE_DOMAIN=modes.example \
	sh "$SRCDIR/builder/make-image.sh" --build "$BUILDDIR" --profile profile.yml --base "$rootfs" -o mk >make.log 2>&1 ||
	{ cat make.log; fail "make-image.sh"; }
expect_modes mk "disk.qcow2 644" "ecs-volatile.qcow2 644" "SHA256SUMS 644" "manifest.json 644" "sbom.spdx.json 644" \
	"seed.iso 600" "env 700" "env/env.yml 600"
grep -q 'ssh-ed25519 .* test@modes' mk/env/env.yml || fail "the key is not in the new env"
[ "$(jq '[.outputs[] | select(.secret)] | length' mk/manifest.json)" = 0 ] || fail "no env baked, yet secret outputs"

step "make image --env"
APPLIANCE_FORMATS=qcow2 sh "$SRCDIR/builder/make-image.sh" --build "$BUILDDIR" --profile profile.yml --base "$rootfs" \
	--env env.yml -o mk2 >make.log 2>&1 || { cat make.log; fail "make-image.sh --env"; }
expect_modes mk2 "disk.qcow2 600" "ecs-volatile.qcow2 644" "SHA256SUMS 644" "manifest.json 644" "sbom.spdx.json 644" "seed.iso 600"
echo "ok: every output that holds the env is 0600 (directories 0700), the others 0644"
