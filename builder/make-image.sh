#!/bin/sh
# The driver behind `make image`: builds the images of a profile and a matching NoCloud seed.
#
#   sh builder/make-image.sh [--build DIR] [--profile NAME|FILE] [--env env.yml] [--base FILE] [-o OUT]
#
# Writes OUT/ (default out/): the disk images in qcow2 and vmdk (streamOptimized), SHA256SUMS,
# manifest.json (written by `appliance-builder image`) and seed.iso, a NoCloud seed carrying the
# env (`appliance-builder seed --env`). Without --env a new env is made first with `appliance-builder
# env create $APPLIANCE_DOMAIN OUT/env` (default domain appliance.local; an existing OUT/env/env.yml
# is reused), with the public keys of $APPLIANCE_SSH_KEYS (a file, default ~/.ssh/id_*.pub) in its
# ssh_authorized_keys. What holds the env is private: OUT/env is 0700, env.yml and seed.iso
# 0600 (and the disks, with --env). The base system is bootstrapped with mmdebstrap from the
# host's apt sources on the first run and cached (/var/cache/appliance-builder as root), unless
# --base gives a root tarball or cloud image. `make image` installs the packages and builds the
# tools before it calls this script.
# Environment: APPLIANCE_ENV (same as --env), APPLIANCE_FORMATS (default qcow2,vmdk),
# APPLIANCE_DOMAIN, APPLIANCE_SSH_KEYS.
# Exit status: 0 ok, 1 a step failed, 2 usage.
set -eu

build=build
profile=minimal
out=out
env=${APPLIANCE_ENV:-}
base=
formats=${APPLIANCE_FORMATS:-qcow2,vmdk}

usage() {
	sed -n '2,19s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
	--profile) [ $# -ge 2 ] || { usage >&2; exit 2; }; profile=$2; shift 2 ;;
	--env) [ $# -ge 2 ] || { usage >&2; exit 2; }; env=$2; shift 2 ;;
	--base) [ $# -ge 2 ] || { usage >&2; exit 2; }; base=$2; shift 2 ;;
	-o | --output) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "make-image: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done

builder=$build/appliance-builder
if [ ! -x "$builder" ]; then
	echo "make-image: $builder not found; build first (make build)" >&2
	exit 1
fi
if [ -n "$env" ] && [ ! -r "$env" ]; then
	echo "make-image: cannot read env file '$env'" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "make-image: warning: not root; the bootstrap runs mmdebstrap in unshare mode and libguestfs needs /dev/kvm or TCG access" >&2
fi

start=$(date +%s)
echo "make-image: building profile '$profile' ($formats) into $out/"
# shellcheck disable=SC2086
"$builder" image --profile "$profile" --format "$formats" ${env:+--env "$env"} ${base:+--base "$base"} -o "$out"

seed_env=$env
if [ -z "$seed_env" ]; then
	seed_env=$out/env/env.yml
	# Every secret of the appliance is in there: the directory is 0700 (an older one too),
	# each file in it is created 0600.
	(umask 077 && mkdir -p "$out/env")
	chmod 0700 "$out/env"
	if [ ! -f "$seed_env" ]; then
		domain=${APPLIANCE_DOMAIN:-appliance.local}
		echo "make-image: no --env given: creating $seed_env for '$domain'"
		"$builder" env create "$domain" "$out/env"
		if [ -n "${APPLIANCE_SSH_KEYS:-}" ]; then
			list=$(sed -e '/^ssh-/!d' -e 's/.*/  - "&"/' "$APPLIANCE_SSH_KEYS")
		else
			list=$(cat "$HOME"/.ssh/id_*.pub 2>/dev/null | sed -e '/^ssh-/!d' -e 's/.*/  - "&"/')
		fi
		# The template's "ssh_authorized_keys:" gets the keys; the image's ecs-data and
		# ecs-volatile disks are used (manual: storage:ignore:data/volatile false).
		rm -f "$seed_env.new"
		(umask 077 && awk -v list="$list" '
			/^ssh_authorized_keys:/ { print; if (list != "") print list; next }
			/^    ignore:/ { ignore = 1; print; next }
			ignore && /^      (data|volatile): true$/ { sub(/true$/, "false"); print; next }
			{ ignore = ignore && /^      /; print }' "$seed_env" >"$seed_env.new")
		mv "$seed_env.new" "$seed_env"
		"$builder" env check "$seed_env" >/dev/null
	fi
fi
echo "make-image: writing the seed $out/seed.iso"
"$builder" seed --env "$seed_env" -o "$out/seed.iso"

end=$(date +%s)
echo
echo "make-image: done in $((end - start)) s. In $out/:"
ls -l "$out"
echo
disks=
for f in "$out"/ecs-data.qcow2 "$out"/ecs-volatile.qcow2; do
	[ -e "$f" ] && disks="$disks --disk $f"
done
if [ -e "$out/disk.qcow2" ]; then
	echo "Boot it (serial console in this terminal; ssh and https forwarded to 127.0.0.1):"
	echo "  $builder boot $out/disk.qcow2 --seed $out/seed.iso$disks --forward 2222:22 --forward 8443:443"
	echo "  curl -k https://127.0.0.1:8443/status.json     (503 until the appliance is ready)"
	echo "  ssh -p 2222 root@127.0.0.1                     (with a key listed in $seed_env)"
fi
