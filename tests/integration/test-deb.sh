#!/bin/bash
# The Debian package as an operator gets it: `make deb` (or $APPLIANCE_DEB), installed with
# `apt install ./appliance-builder_*.deb --no-install-recommends` into a fresh bookworm tree
# (mmdebstrap, cached) and run there in a chroot, where no source or build tree exists:
#  - seed and size work with the Depends alone, env create/check/flatten with GPGME added, and
#    seed, size and env flatten load none of the libraries the package only recommends;
#  - a command that needs a recommended library and misses it names the package;
#  - with the image tools installed, an image is built from the cached base tarball with the
#    installed agent, rootfs files and profiles.
set -eu -o pipefail
. "$SRCDIR/tests/integration/image-common.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the chroot needs root"; exit 77; }
for t in mmdebstrap unshare chroot dpkg-deb; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

deb=${APPLIANCE_DEB:-}
if [ -z "$deb" ]; then
        command -v help2man >/dev/null || { echo "SKIP: help2man missing (make deb needs it)"; exit 77; }
        make -C "$SRCDIR" deb DEB_BUILD="$BUILDDIR/deb" JOBS=2 >"$BUILDDIR/deb.log" 2>&1 ||
                { tail -n 40 "$BUILDDIR/deb.log"; echo "FAIL: make deb"; exit 1; }
        deb=$(ls "$BUILDDIR"/deb/appliance-builder_*_amd64.deb)
fi
echo "package: $deb"
dpkg-deb -f "$deb" Package Version Depends Recommends

base=$(image_cached_tarball apt "") || { echo "SKIP: cannot bootstrap the bookworm tree"; exit 77; }
rootfs=$(image_test_rootfs) || { echo "SKIP: cannot bootstrap the test root tarball"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mkdir "$root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
mkdir "$root/base"
# Nothing of the source or build tree may be visible.
[ ! -e "$root$SRCDIR" ] && [ ! -e "$root$BUILDDIR" ]

image_test_profile deb-test 64M >"$root/tmp/test.yml"

cat >"$root/tmp/inside.sh" <<'SH'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
cd /tmp
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends ./appliance-builder_*.deb >apt.log
echo "== installed: $(appliance-builder --version)"
test -x /usr/lib/appliance-builder/appliance-agent
test -s /usr/share/man/man1/appliance-builder.1.gz
test -s /usr/share/bash-completion/completions/appliance-builder
test -s /usr/share/appliance-builder/profiles/minimal.yml
# Nothing recommended came in.
for p in libguestfs0 libcairo2 libzbar0 libqrencode4 libgpgme11 qemu-utils; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
                echo "FAIL: $p installed without being asked for"; exit 1
        fi
done

# The libraries a command loads: every shared object it has mapped while it runs.
loaded() { LD_DEBUG=libs "$@" 2>&1 >/dev/null | sed -n 's/.*calling init: //p' | sort -u; }
lean() {
        local libs
        libs=$(loaded "$@")
        if echo "$libs" | grep -E 'libguestfs|libcairo|libqrencode|libzbar|libpng|libgpgme|libfontconfig'; then
                echo "FAIL: '$*' loaded a library it does not use"; exit 1
        fi
        echo "'$*' loads $(echo "$libs" | wc -l) libraries"
}

echo "== seed"
appliance-builder seed -o seed.iso --preset=vagrant --hostname deb-test
appliance-builder seed inspect seed.iso | grep -q 'local-hostname: deb-test'
lean appliance-builder seed -o seed2.iso --preset=vagrant

echo "== size"
appliance-builder size --studies-per-month 20000 | tee size.txt
grep -qi 'disk' size.txt
lean appliance-builder size -n 20000

echo "== env: a command whose library is missing names the package"
if appliance-builder env create deb.example.org /tmp/env 2>create.err; then
        echo "FAIL: env create ran without GPGME"; exit 1
fi
cat create.err
grep -q "apt install libgpgme11" create.err
[ ! -e /tmp/env/env.yml ]

echo "== env, with GPGME and gnupg"
apt-get install -y -q --no-install-recommends libgpgme11 gnupg >>apt.log
appliance-builder env create deb.example.org /tmp/env
appliance-builder env check /tmp/env/env.yml
appliance-builder env flatten /tmp/env/env.yml | grep -q 'deb.example.org'
lean appliance-builder env flatten /tmp/env/env.yml
if appliance-builder env package /tmp/env/env.yml -o /tmp/pkg 2>pkg.err; then
        echo "FAIL: env package ran without cairo"; exit 1
fi
cat pkg.err
grep -q "apt install libcairo2" pkg.err

echo "== image, with the image tools"
apt-get install -y -q --no-install-recommends qemu-utils e2fsprogs grub-pc-bin grub-common zstd >>apt.log
base=$(ls /base/*.tar)
appliance-builder image --profile /tmp/test.yml --base "$base" --size 900M --format raw,qcow2 \
        --source-date-epoch 1700000000 -o /tmp/out --json >/tmp/image.json
ls -l /tmp/out
(cd /tmp/out && sha256sum --quiet -c SHA256SUMS)
qemu-img check /tmp/out/disk.qcow2
grep -q '"deb-test"' /tmp/out/manifest.json
echo "== all done"
SH

unshare --mount --propagation private bash -c '
        set -e
        root=$1 rootfs=$2
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs tmpfs "$root/base"
        touch "$root/base/${rootfs##*/}"
        mount --bind -o ro "$rootfs" "$root/base/${rootfs##*/}"
        chroot "$root" /bin/sh /tmp/inside.sh
' sh "$root" "$rootfs"
echo "PASS"
