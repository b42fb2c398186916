#!/bin/sh
# Install every Debian package the project needs to build, test and make images.
# Idempotent; for a fresh Debian 12 machine; run as root.
set -eu

packages="
  build-essential cmake pkg-config git clang libclang-rt-14-dev
  libarchive-dev libyaml-dev libssl-dev libcmocka-dev
  libguestfs-dev libext2fs-dev libgpgme-dev libcairo2-dev libqrencode-dev libzbar-dev
  libpng-dev zlib1g-dev
  libguestfs-tools guestfish linux-image-amd64 qemu-utils qemu-system-x86
  mmdebstrap debian-archive-keyring cloud-image-utils genisoimage xorriso
  extlinux syslinux-common mtools dosfstools e2fsprogs fdisk util-linux
  gnupg zbar-tools poppler-utils dash curl openssl systemd hyperfine time
  ca-certificates file jq help2man lintian dpkg-dev
  nginx-light openssh-client python3 python3-yaml libnss3-tools apt-utils
  prometheus
  grub-pc-bin grub-common
  vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients dnsmasq-base ebtables iproute2 sudo
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install)" >&2
	exit 1
fi

missing=""
for p in $packages; do
	case "$p" in *-) continue ;; esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# prometheus is here for promtool (tests/integration/test-metric-rules.sh); its daemon, which
# Debian starts on every interface, is not wanted on a build machine.
case " $missing " in
*" prometheus "*) systemctl disable --now prometheus.service >/dev/null 2>&1 || true ;;
esac
