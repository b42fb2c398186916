#!/bin/bash
# `image` without --base bootstraps the profile's suite with mmdebstrap from the host's apt
# sources into a cache named by the digest of its inputs, and reuses it on the next build.
# Ubuntu profiles on a host whose apt configuration has no Ubuntu source fail with a clear error.
set -eu

[ "$(id -u)" -eq 0 ] || { echo "needs root (mmdebstrap --mode=root, libguestfs)"; exit 77; }
command -v mmdebstrap >/dev/null || { echo "mmdebstrap missing"; exit 77; }
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[ -s "$f" ] && grep -Eq 'bookworm' "$f" && found=1
done
[ "${found:-}" = 1 ] || { echo "no bookworm source in the host's apt configuration"; exit 77; }

T=$(mktemp -d /var/tmp/test-bootstrap.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- Ubuntu without an Ubuntu source: clear error, nothing written, no cache entry ---
mkdir -p "$T/aptroot/etc/apt/sources.list.d"
cat >"$T/aptroot/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://debian.invalid/debian
Suites: bookworm
Components: main
EOF
for p in ecs-noble ecs-xenial; do
	if APPLIANCE_APT_ROOT="$T/aptroot" "$BUILDER" image --profile "$p" --cache-dir "$T/ucache" \
		-o "$T/uout-$p" 2>"$T/err"; then
		fail "$p was built without an Ubuntu source"
	fi
	grep -q "Ubuntu archive is not reachable from the apt config" "$T/err" || fail "unclear error: $(cat "$T/err")"
	grep -q -- "--base" "$T/err" || fail "the error does not point to --base: $(cat "$T/err")"
	[ ! -e "$T/uout-$p" ] || [ -z "$(ls -A "$T/uout-$p")" ] || fail "$p left output"
done
[ -z "$(find "$T/ucache" -name '*.tar*' 2>/dev/null)" ] || fail "a failed bootstrap left a tarball"

# --- a real bootstrap of 'minimal' into a private cache ---
# (a copy, so that an edit of profiles/minimal.yml during the test cannot change the digest)
cp "$SRCDIR/profiles/minimal.yml" "$T/minimal.yml"
"$BUILDER" image --profile "$T/minimal.yml" --cache-dir "$T/cache" --format raw -o "$T/out1" 2>&1 | tee "$T/log1"
mapfile -t tars < <(find "$T/cache" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9a-f]{64}\.tar(\.zst)?')
[ "${#tars[@]}" -eq 1 ] || fail "expected one cached tarball, got: ${tars[*]:-none}"
tarball=${tars[0]}
[ -z "$(find "$T/cache" -name '.*tmp*')" ] || fail "temporary files left in the cache"
grep -q "Bootstrapping debian bookworm" "$T/log1" || fail "no bootstrap progress logged"

# the tarball holds what the profile asks for (the boot essentials every version of it lists)
tar -tf "$tarball" >"$T/list"
for f in ./usr/sbin/sshd ./usr/bin/systemctl ./sbin/init ./sbin/mke2fs ./usr/sbin/ifup ./sbin/dhclient \
	./etc/ssl/certs/ca-certificates.crt; do
	grep -qx -- "$f" "$T/list" || grep -qx -- "./usr${f#.}" "$T/list" || fail "$f missing in $tarball"
done
grep -Eq '^\./boot/vmlinuz-[0-9.-]+cloud-amd64$' "$T/list" || fail "no cloud kernel in $tarball"
# (regular files only: update-alternatives may leave dangling man page symlinks, e.g. for psql)
[ -z "$(tar -tvf "$tarball" | awk '$1 ~ /^-/ && $NF ~ /^\.\/usr\/share\/man\/man[0-9]\//')" ] ||
	fail "man pages were not excluded"
[ -s "$tarball" ] && [ -s "${tarball%%.tar*}.txt" ] || fail "no description next to the tarball"
grep -q '^suite: bookworm$' "${tarball%%.tar*}.txt" || fail "description lacks the suite"

# --- a second build reuses it ---
before=$(stat -c '%i %Y' "$tarball")
"$BUILDER" image --profile "$T/minimal.yml" --cache-dir "$T/cache" --format raw -o "$T/out2" 2>&1 | tee "$T/log2"
grep -q "Using cached base system $tarball" "$T/log2" || fail "the cached tarball was not reused"
! grep -q "Bootstrapping" "$T/log2" || fail "bootstrapped again"
[ "$(stat -c '%i %Y' "$tarball")" = "$before" ] || fail "the cached tarball was rewritten"

# --- a changed package list is a different digest ---
sed 's/^  - less$/  - less\n  - file/' "$T/minimal.yml" >"$T/minimal-file.yml"
grep -q '^  - file$' "$T/minimal-file.yml" || fail "could not derive the test profile"
APPLIANCE_APT_ROOT="$T/aptroot" "$BUILDER" image --profile "$T/minimal-file.yml" --cache-dir "$T/cache" \
	--format raw -o "$T/out3" 2>"$T/err3" && fail "a build against an unreachable mirror succeeded"
# (the invalid mirror makes mmdebstrap fail quickly; what matters is that it was not a cache hit)
! grep -q "Using cached base system" "$T/err3" || fail "a different package list hit the cache"
[ "$(find "$T/cache" -maxdepth 1 -name '*.tar*' | wc -l)" -eq 1 ] || fail "a failed bootstrap left a tarball"

echo "bootstrap and cache verified: $tarball"
