#!/bin/sh
# Builds appliance-builder_<version>_<arch>.deb with dpkg-deb from the CMake install tree of BUILD
# (configured by `make deb`: prefix /usr, no source-tree fallbacks, man page made). Depends comes
# from dpkg-shlibdeps on the builder, so it holds exactly the libraries every command links;
# the libraries that only some commands dlopen(), and the tools of the image and boot commands, are
# Recommends. The result is checked with lintian when it is installed.
# Usage: make-deb.sh BUILD SRCDIR
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
pkg=appliance-builder
version=$("$build/appliance-builder" --version | awk '{ print $2 }')
arch=$(dpkg --print-architecture)
deb="$build/${pkg}_${version}_${arch}.deb"

[ -s "$build/packaging/appliance-builder.1" ] || { echo "make-deb: no man page (install help2man)" >&2; exit 1; }

# Every date in the package is the last commit's (or SOURCE_DATE_EPOCH), so that the same tree
# gives the same package.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
maintainer=${DEB_MAINTAINER:-$(git -C "$src" log -1 --format='%an <%ae>' 2>/dev/null || true)}
[ -n "$maintainer" ] || { echo "make-deb: no git history: set DEB_MAINTAINER='Name <address>'" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
DESTDIR="$root" cmake --install "$build" --strip >/dev/null

doc="$root/usr/share/doc/$pkg"
mkdir -p "$doc" "$root/usr/share/lintian/overrides" "$root/DEBIAN"
gzip -9n "$root/usr/share/man/man1/appliance-builder.1"
cp "$src/packaging/copyright" "$doc/copyright"
{
	printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$version"
	printf '  * Built from %s.\n\n' "$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'a source tree')"
	printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
cp "$src/packaging/lintian-overrides" "$root/usr/share/lintian/overrides/$pkg"
chmod -R u+rwX,go+rX,go-w "$root"

# Depends: what the builder links (dpkg-shlibdeps wants a debian/control beside it).
mkdir -p "$stage/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -e"$root/usr/bin/appliance-builder" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps gave no dependencies" >&2; exit 1; }
# libarchive is dlopen()ed (only the commands that write or extract archives map it), yet image needs it.
depends="$depends, libarchive13"
rm -rf "$stage/debian"

size=$(du -sk --apparent-size "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: $(cat "$src/packaging/recommends" | grep -v '^#' | paste -sd, | sed 's/,/, /g')
Suggests: qemu-system-x86, ovmf
Section: admin
Priority: optional
Description: build ready-to-boot appliance disk images and NoCloud seeds
 appliance-builder turns a base system (a root tarball, a vendor cloud image or
 a bootstrap from a Debian or Ubuntu mirror) into appliance disk images (raw,
 qcow2, streamOptimized vmdk, Vagrant boxes, OVA) and NoCloud cidata seed ISOs,
 and carries the operator's env tools (create, check, flatten, package).
 .
 The package also holds the static appliance-agent that the images run at
 boot, its unit files and scripts, the appliance profiles and the seed presets.
 The seed, size and env flatten commands need none of the recommended
 packages; the image, boot and env package commands name the one they miss.
EOT
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
