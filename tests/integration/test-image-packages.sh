#!/bin/bash
# image --format box,ova from the shared test tarball: the libvirt box (metadata.json, box.img a
# qcow2 without backing file, the volumes as further disks, Vagrantfile), the VirtualBox box
# (box.ovf, the streamOptimized vmdk, base_mac = the OVF's MAC), the catalog (version, sha256 of
# each box), the OVA (member order .ovf, .mf, .vmdk; the manifest against the files; the OVF's disk
# reference, size and capacity; the vmdk descriptor for vSphere/AWS; qemu-img check), the vagrant
# user baked for the agent, SHA256SUMS, and 0600 for everything made from disks carrying an env.
set -euo pipefail
# guestfish reads the box's disk under TCG, as the builder does (KVM is refused here).
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"

: "${BUILDER:?}" "${SRCDIR:?}"
for t in qemu-img python3 jq tar guestfish; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
source "$SRCDIR/tests/integration/image-common.sh"
base=$(image_test_rootfs) || { echo "SKIP: no test tarball"; exit 77; }

T=$(mktemp -d /var/tmp/test-image-packages.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

SOURCE_DATE_EPOCH=1700000000 "$BUILDER" image --profile minimal --base "$base" --format box,ova -o "$T/out" \
	>"$T/build.log" 2>&1 || { tail -n 30 "$T/build.log"; fail "image --format box,ova failed"; }
O=$T/out
N=appliance-minimal
for f in disk.qcow2 disk.vmdk "$N-libvirt.box" "$N-virtualbox.box" "$N.box.json" "$N.ova"; do
	[ -s "$O/$f" ] || fail "no $f: $(ls "$O")"
	[ "$(stat -c %a "$O/$f")" = 644 ] || fail "$f is not 0644 without an env"
done
(cd "$O" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not match"
for f in "$N-libvirt.box" "$N-virtualbox.box" "$N.ova"; do
	grep -q "  $f\$" "$O/SHA256SUMS" || fail "SHA256SUMS lacks $f"
done

# --- libvirt box ---
mkdir "$T/lv" && tar -xf "$O/$N-libvirt.box" -C "$T/lv"
[ "$(tar -tf "$O/$N-libvirt.box" | head -n 1)" = metadata.json ] || fail "metadata.json is not the first member"
jq -e '.provider == "libvirt" and .format == "qcow2"' "$T/lv/metadata.json" >/dev/null || fail "metadata: $(cat "$T/lv/metadata.json")"
vsize=$(qemu-img info --output=json "$T/lv/box.img" | jq '."virtual-size"')
[ "$(jq .virtual_size "$T/lv/metadata.json")" = $(((vsize + 1073741823) / 1073741824)) ] ||
	fail "virtual_size is not the qcow2's size in whole GiB ($vsize bytes)"
qemu-img info --output=json "$T/lv/box.img" | jq -e '.format == "qcow2" and (has("backing-filename") | not)' >/dev/null ||
	fail "box.img is not a qcow2 without backing file"
qemu-img check -q "$T/lv/box.img" || fail "qemu-img check box.img"
cmp -s "$T/lv/box.img" "$O/disk.qcow2" || fail "box.img is not the built disk"
jq -r '.disks[].path' "$T/lv/metadata.json" | while read -r p; do
	[ -s "$T/lv/$p" ] || fail "metadata names $p, the box lacks it"
	qemu-img check -q "$T/lv/$p" || fail "qemu-img check $p"
done
[ "$(jq -r '.disks[0].path' "$T/lv/metadata.json")" = box.img ] || fail "the first disk is not box.img"
jq -e '[.disks[].name] | index("ecs-data") != null' "$T/lv/metadata.json" >/dev/null || fail "no ecs-data disk in the box"
grep -q 'synced_folder ".", "/vagrant", disabled: true' "$T/lv/Vagrantfile" || fail "Vagrantfile keeps the synced folder"
grep -q 'libvirt.disk_bus = "virtio"' "$T/lv/Vagrantfile" || fail "Vagrantfile: no virtio disk bus"
if grep -q 'libvirt.driver' "$T/lv/Vagrantfile"; then fail "the box must leave libvirt.driver to the user"; fi
if command -v ruby >/dev/null; then ruby -c "$T/lv/Vagrantfile" >/dev/null || fail "Vagrantfile: ruby syntax"; fi

# --- VirtualBox box ---
mkdir "$T/vb" && tar -xf "$O/$N-virtualbox.box" -C "$T/vb"
jq -e '.provider == "virtualbox"' "$T/vb/metadata.json" >/dev/null || fail "virtualbox metadata"
[ -s "$T/vb/box.ovf" ] || fail "no box.ovf"
head -c 2048 "$T/vb/box-disk001.vmdk" | grep -aq 'createType="streamOptimized"' || fail "the box's vmdk is not streamOptimized"
qemu-img check -q "$T/vb/box-disk001.vmdk" || fail "qemu-img check box-disk001.vmdk"
python3 - "$T/vb/box.ovf" "$T/vb/Vagrantfile" "$T/vb/box-disk001.vmdk" <<'PY' || fail "VirtualBox OVF"
import os, re, sys, xml.etree.ElementTree as ET
ns = {"o": "http://schemas.dmtf.org/ovf/envelope/1",
      "r": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"}
O = "{%s}" % ns["o"]
t = ET.parse(sys.argv[1]).getroot()
f = t.find("o:References/o:File", ns)
assert f.get(O + "href") == "box-disk001.vmdk", f.attrib
assert int(f.get(O + "size")) == os.path.getsize(sys.argv[3])
mac = [i.find("r:Address", ns).text for i in t.iter("{%s}Item" % ns["o"]) if i.find("r:ResourceType", ns).text == "10"][0]
base = re.search(r'base_mac = "([0-9A-F]{12})"', open(sys.argv[2]).read()).group(1)
assert mac.replace(":", "") == base and base.startswith("080027"), (mac, base)
PY

# --- catalog ---
C=$O/$N.box.json
jq -e --arg n "$N" '.name == $n and (.versions | length) == 1 and (.versions[0].version | test("^[0-9]+(\\.[0-9]+)+$"))' "$C" >/dev/null ||
	fail "catalog: $(cat "$C")"
for p in libvirt virtualbox; do
	url=$(jq -r --arg p "$p" '.versions[0].providers[] | select(.name == $p) | .url' "$C")
	sum=$(jq -r --arg p "$p" '.versions[0].providers[] | select(.name == $p and .checksum_type == "sha256") | .checksum' "$C")
	file=${url#file://}
	[ -s "$file" ] || fail "catalog url $url does not exist"
	[ "$(sha256sum "$file" | cut -d' ' -f1)" = "$sum" ] || fail "catalog checksum of $p is wrong"
done

# --- OVA ---
mapfile -t members < <(tar -tf "$O/$N.ova")
[ "${members[*]}" = "$N.ovf $N.mf $N-disk1.vmdk" ] || fail "OVA members: ${members[*]}"
tar --format=ustar -tf "$O/$N.ova" >/dev/null || fail "the OVA is not a tar"
head -c 263 "$O/$N.ova" | tail -c 6 | grep -q '^ustar' || fail "the OVA is not ustar"
mkdir "$T/ova" && tar -xf "$O/$N.ova" -C "$T/ova"
[ "$(wc -l <"$T/ova/$N.mf")" = 2 ] || fail "manifest lines: $(cat "$T/ova/$N.mf")"
while read -r line; do
	[[ $line =~ ^SHA256\(([^\)]+)\)=\ ([0-9a-f]{64})$ ]] || fail "manifest line '$line'"
	[ "$(sha256sum "$T/ova/${BASH_REMATCH[1]}" | cut -d' ' -f1)" = "${BASH_REMATCH[2]}" ] ||
		fail "manifest checksum of ${BASH_REMATCH[1]}"
done <"$T/ova/$N.mf"
V=$T/ova/$N-disk1.vmdk
qemu-img check -q "$V" || fail "qemu-img check of the OVA's vmdk"
desc=$(head -c 4096 "$V" | tr -d '\0')
for want in 'createType="streamOptimized"' 'ddb.adapterType = "lsilogic"' 'ddb.virtualHWVersion = "10"' \
	'ddb.toolsVersion = "2147483647"'; do
	grep -qF "$want" <<<"$desc" || fail "vmdk descriptor lacks $want"
done
vcap=$(qemu-img info --output=json "$V" | jq '."virtual-size"')
[ "$vcap" = "$vsize" ] || fail "the OVA disk's capacity $vcap is not the image's $vsize"
python3 - "$T/ova/$N.ovf" "$V" "$vcap" "$N-disk1.vmdk" <<'PY' || fail "OVA's OVF"
import os, sys, xml.etree.ElementTree as ET
ns = {"o": "http://schemas.dmtf.org/ovf/envelope/1",
      "r": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"}
O = "{%s}" % ns["o"]
t = ET.parse(sys.argv[1]).getroot()
files = t.findall("o:References/o:File", ns)
assert len(files) == 1 and files[0].get(O + "href") == sys.argv[4], [f.attrib for f in files]
assert int(files[0].get(O + "size")) == os.path.getsize(sys.argv[2])
disk = t.find("o:DiskSection/o:Disk", ns)
assert disk.get(O + "fileRef") == files[0].get(O + "id")
assert int(disk.get(O + "capacity")) == int(sys.argv[3]) and disk.get(O + "capacityAllocationUnits") == "byte"
assert disk.get(O + "format").endswith("#streamOptimized")
items = {i.find("r:InstanceID", ns).text: i for i in t.iter(O + "Item")}
hd = [i for i in items.values() if i.find("r:ResourceType", ns).text == "17"][0]
assert hd.find("r:HostResource", ns).text == "ovf:/disk/" + disk.get(O + "diskId")
parent = items[hd.find("r:Parent", ns).text]
assert parent.find("r:ResourceType", ns).text == "6" and parent.find("r:ResourceSubType", ns).text == "lsilogic"
PY

# --- the vagrant user, for the agent to apply at boot ---
guestfish --ro -a "$O/disk.qcow2" -i cat /usr/share/appliance/cloud-config.d/90-image.cfg >"$T/cc" ||
	fail "no baked cloud-config in the box's disk"
grep -q '^#cloud-config' "$T/cc" && grep -q 'name: vagrant' "$T/cc" && grep -q 'NOPASSWD:ALL' "$T/cc" ||
	fail "the baked cloud-config has no vagrant user: $(cat "$T/cc")"
grep -qF "$(awk '{print $2}' "$SRCDIR/seed/vagrant.pub")" "$T/cc" || fail "no insecure RSA key baked"

# --- an image carrying an env: every package is private ---
"$BUILDER" env create pkg.example.org "$T/env" >/dev/null 2>&1
"$BUILDER" image --profile minimal --base "$base" --env "$T/env/env.yml" --format ova -o "$T/secret" \
	>"$T/build2.log" 2>&1 || { tail -n 20 "$T/build2.log"; fail "image --env --format ova failed"; }
[ "$(stat -c %a "$T/secret/$N.ova")" = 600 ] || fail "an OVA with a baked env is not 0600"
"$BUILDER" image --profile minimal --base "$T/nonexistent" --format box -o "$T/bad" >/dev/null 2>&1 &&
	fail "a missing base did not fail"
[ ! -e "$T/bad" ] || fail "a failed build left its output directory"
"$BUILDER" image --profile minimal --base "$base" --format box,floppy -o "$T/bad" >/dev/null 2>&1 &&
	fail "an unknown format was accepted"

echo "OK"
