# Sourced by the image tests: a shared, cached Debian root tarball, built once with mmdebstrap.
#
# The cache lives in $APPLIANCE_TEST_CACHE (default /var/tmp/appliance-test-cache); each tarball is
# named by the SHA-256 of everything that determines its contents (suite, variant, package list and
# mirror), so a changed recipe builds a new tarball instead of reusing a stale one.

image_mirror() {
        local f
        for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
                [ -r "$f" ] || continue
                case "$f" in
                *.sources) awk '/^URIs:/ { print $2; exit }' "$f" ;;
                *) awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' "$f" ;;
                esac
                return 0
        done
        return 1
}

# Prints the path of a cached bookworm tarball made by mmdebstrap with VARIANT and INCLUDE (a
# comma-separated package list), building it first if needed.
image_cached_tarball() {
        local variant=$1 include=$2
        local cache="${APPLIANCE_TEST_CACHE:-/var/tmp/appliance-test-cache}"
        local mirror key out tmp name=rootfs
        mirror=$(image_mirror) || { echo "no apt mirror configured" >&2; return 1; }
        key=$(printf 'bookworm\n%s\n%s\n%s\n' "$variant" "$include" "$mirror" | sha256sum | cut -c1-16)
        [ "$variant" = minbase ] || name="$variant"
        out="$cache/$name-bookworm-$key.tar"
        tmp="$cache/.building-$key.tar"
        if [ ! -s "$out" ]; then
                mkdir -p "$cache" || return 1
                command -v mmdebstrap >/dev/null || { echo "mmdebstrap missing" >&2; return 1; }
                (
                        exec 9>"$cache/.lock"
                        flock 9
                        [ -s "$out" ] && exit 0
                        # mmdebstrap picks the output format from the extension: keep ".tar" last.
                        mmdebstrap --quiet --variant="$variant" ${include:+--include="$include"} bookworm "$tmp" \
                                "$mirror" >&2 && mv "$tmp" "$out"
                ) || { rm -rf "$tmp"; return 1; }
        fi
        echo "$out"
}

# Prints the path of the cached rootfs tarball of the image tests, building it first if needed.
image_test_rootfs() {
        image_cached_tarball minbase \
                "linux-image-cloud-amd64,systemd-sysv,udev,e2fsprogs,openssh-server,ifupdown,isc-dhcp-client"
}

# image_build_setup TOOL...: skips the test (exit 77) unless it runs as root with mmdebstrap,
# grub-mkimage, GRUB's BIOS images and every TOOL named; then sets $rootfs to the cached test root
# tarball (built first if needed). Call it at the top level of the test, not in a subshell.
image_build_setup() {
        local t
        [ "$(id -u)" -eq 0 ] || { echo "SKIP: building an image from a tarball needs root"; exit 77; }
        for t in mmdebstrap grub-mkimage "$@"; do
                command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
        done
        [ -e /usr/lib/grub/i386-pc/boot.img ] || { echo "SKIP: grub-pc-bin missing"; exit 77; }
        rootfs=$(image_test_rootfs) || { echo "SKIP: cannot bootstrap the test root tarball"; exit 77; }
}

# image_test_profile NAME DATA_SIZE: prints the head of a test profile: bookworm on amd64 with the
# cloud kernel and an ecs-data partition of DATA_SIZE on /data. What follows it may add volumes
# (list items) or top-level keys.
image_test_profile() {
        printf 'name: %s\ndistribution: debian\nsuite: bookworm\narchitecture: amd64\n' "$1"
        printf 'packages:\n  - linux-image-cloud-amd64\nvolumes:\n  - label: ecs-data\n'
        printf '    mountpoint: /data\n    place: partition\n    size: %s\n' "$2"
}
