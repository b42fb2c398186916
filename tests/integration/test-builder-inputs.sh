#!/bin/bash
# The builder against hostile inputs: a FIFO in place of every input file is a clear error and
# never a hang; YAML merge bombs and million-digit numbers stop at their documented bounds; an
# output that names one of its inputs is refused; a network-config version 3 is refused; a seed
# ISO of 20,000 files is inspected quickly; a profile's kernel_cmdline that would inject GRUB
# commands is refused; qemu option values stay one value. Each case checks its expected error and
# that nothing was written. Runs as any user; under the ASan build too (BUILDER is that build's).
set -euo pipefail
: "${BUILDER:?}" "${SRCDIR:?}"

for tool in genisoimage qemu-img python3 timeout; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-builder-inputs.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# expect_fail NAME RC PATTERN CMD...: CMD exits RC within 60 s (a hang is exit 124), stderr matches
# PATTERN and out/ stays empty.
expect_fail() {
	local name=$1 want=$2 pattern=$3 rc=0
	shift 3
	rm -rf out && mkdir out
	timeout 60 "$@" >stdout.txt 2>err.txt </dev/null || rc=$?
	[ "$rc" -ne 124 ] || fail "$name: hung (killed after 60 s)"
	[ "$rc" -eq "$want" ] || { cat err.txt; fail "$name: exit $rc, expected $want"; }
	grep -qE -- "$pattern" err.txt || { cat err.txt; fail "$name: error does not match '$pattern'"; }
	[ -z "$(ls -A out)" ] || fail "$name: something was written to out/: $(ls -A out)"
	echo "ok: $name: $(head -n1 err.txt)"
}

printf '#cloud-config\nappliance:\n  domain: test.example\n' >env.yml
printf '#cloud-config\n' >user-data
printf 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' >net-v2
mkfifo fifo
FIFO="not a regular file \(a FIFO, socket or device\)"

step "a FIFO for every input: a clear error, never a hang"
expect_fail "env check" 1 "fifo: $FIFO" "$BUILDER" env check fifo
expect_fail "env flatten" 1 "fifo: $FIFO" "$BUILDER" env flatten fifo
expect_fail "env package" 1 "fifo: $FIFO" "$BUILDER" env package fifo -o out
expect_fail "seed --user-data" 1 "'fifo': $FIFO" "$BUILDER" seed --user-data fifo -o out/s.iso
expect_fail "seed --meta-data" 1 "'fifo': $FIFO" "$BUILDER" seed --user-data user-data --meta-data fifo -o out/s.iso
expect_fail "seed --network-config" 1 "'fifo': $FIFO" \
	"$BUILDER" seed --user-data user-data --network-config fifo -o out/s.iso
expect_fail "seed --vendor-data" 1 "'fifo': $FIFO" "$BUILDER" seed --user-data user-data --vendor-data fifo -o out/s.iso
expect_fail "seed --env" 1 "'fifo': $FIFO" "$BUILDER" seed --env fifo -o out/s.iso
expect_fail "seed inspect" 1 "'fifo': $FIFO" "$BUILDER" seed inspect fifo
expect_fail "image --profile" 1 "fifo: cannot read profile: $FIFO" \
	"$BUILDER" image --profile ./fifo --base env.yml -o out
expect_fail "image --base" 1 "cannot open 'fifo': $FIFO" "$BUILDER" image --profile minimal --base fifo -o out
expect_fail "image --env" 1 "fifo: $FIFO" "$BUILDER" image --profile minimal --env fifo --base env.yml -o out
expect_fail "env create --template" 1 "template 'fifo': $FIFO" "$BUILDER" env create test.example out/env --template fifo
expect_fail "env create --extra" 1 "'fifo': $FIFO" "$BUILDER" env create test.example out/env --extra fifo
expect_fail "boot" 1 "Cannot open 'fifo': $FIFO" "$BUILDER" boot fifo --dry-run

step "YAML bounds: a merge bomb and a million-digit number"
python3 - <<'EOF'
lines = ["#cloud-config", "big: &big"] + [f"  k{i}: v" for i in range(20000)] + ["copies:"]
lines += ["  - <<: *big"] * 20000
open("merge-bomb.yml", "w").write("\n".join(lines) + "\n")
open("bignum.yml", "w").write("#cloud-config\necs:\n  n: " + "9" * 1000000 + "\n")
EOF
for verb in check flatten; do
	expect_fail "env $verb merge bomb" 1 "merge-bomb.yml:20009:5: merge keys expand to more than 100000 keys" \
		"$BUILDER" env "$verb" merge-bomb.yml
	expect_fail "env $verb million digits" 1 "bignum.yml:3:6: a number of 1000000 characters \(at most 4300" \
		"$BUILDER" env "$verb" bignum.yml
done

step "outputs that name their input"
cp user-data ud-copy
expect_fail "seed -o = --user-data" 2 "Output 'ud-copy' is the file given with --user-data" \
	"$BUILDER" seed --user-data ud-copy -o ud-copy
cmp -s user-data ud-copy || fail "seed overwrote its input"
ln -s env.yml env-link.yml
expect_fail "seed -o = --env through a symlink" 2 "is the file given with --env" \
	"$BUILDER" seed --env env.yml -o env-link.yml
[ -L env-link.yml ] && grep -q domain env.yml || fail "seed replaced its input"
cp user-data scan.png
expect_fail "env unpack-qr -o = a scan" 1 "Output 'scan.png' is one of the scans" \
	"$BUILDER" env unpack-qr -o scan.png scan.png
cmp -s user-data scan.png || fail "unpack-qr overwrote its input"

step "network-config versions"
printf 'version: 3\nconfig: []\n' >net-v3
printf 'network:\n  version: 3\n' >net-v3-wrapped
printf 'version: [1]\n' >net-list
expect_fail "network-config version 3" 1 "net-v3:1:1: network-config version '3': NoCloud reads versions 1 and 2 only" \
	"$BUILDER" seed --user-data user-data --network-config net-v3 -o out/s.iso
expect_fail "wrapped network-config version 3" 1 "net-v3-wrapped:2:3: network-config version '3'" \
	"$BUILDER" seed --user-data user-data --network-config net-v3-wrapped -o out/s.iso
expect_fail "network-config version not a scalar" 1 "network-config version '\(not a scalar\)'" \
	"$BUILDER" seed --user-data user-data --network-config net-list -o out/s.iso
"$BUILDER" seed --user-data user-data --network-config net-v2 -o v2.iso 2>/dev/null || fail "version 2 refused"
mkdir v3seed && cp user-data v3seed/user-data && cp net-v3 v3seed/network-config
printf 'instance-id: iid-v3\n' >v3seed/meta-data
genisoimage -quiet -o v3.iso -V cidata -J -r v3seed 2>/dev/null
expect_fail "seed inspect of a version 3 network-config" 3 "network-config: version '3': NoCloud reads versions 1 and 2 only" \
	"$BUILDER" seed inspect v3.iso

step "seed inspect of an ISO with 20,000 files"
mkdir many
cp user-data many/user-data
printf 'instance-id: iid-many\n' >many/meta-data
(cd many && seq 1 20000 | xargs touch)
genisoimage -quiet -o many.iso -V cidata -J -r many 2>/dev/null
start=$(date +%s)
timeout 60 "$BUILDER" seed inspect --json many.iso >many.json || fail "inspect of 20,000 files failed or hung"
end=$(date +%s)
[ $((end - start)) -le 30 ] || fail "inspect of 20,000 files took $((end - start)) s"
python3 -c 'import json,sys; d=json.load(open("many.json")); assert len(d["files"]) == 20002, len(d["files"]); assert d["ok"]'
echo "ok: 20,000 files in $((end - start)) s"

step "kernel_cmdline that would inject GRUB commands"
for cmdline in 'quiet; reboot' 'init=$root' 'a} menuentry x {' 'x=`id`' "a'b"; do
	sed "s|^kernel_cmdline:.*|kernel_cmdline: \"$(printf '%s' "$cmdline" | sed 's/[\\"]/\\&/g')\"|" \
		"$SRCDIR/profiles/minimal.yml" >evil.yml
	grep -qF "kernel_cmdline: \"$cmdline\"" evil.yml || fail "profile edit for '$cmdline'"
	expect_fail "kernel_cmdline '$cmdline'" 1 "evil.yml:[0-9]+:[0-9]+: 'kernel_cmdline' holds character" \
		"$BUILDER" image --profile ./evil.yml --base env.yml -o out --dry-run
done

step "qemu option values: a comma in a path stays in the path"
qemu-img create -q -f raw 'd,file=x.raw' 1M
qemu-img create -q -f raw x.raw 2M
cp v2.iso 'seed.iso,readonly=off'
"$BUILDER" boot 'd,file=x.raw' --seed 'seed.iso,readonly=off' --dry-run >cmd.txt 2>/dev/null
grep -qF -- "-drive file=d,,file=x.raw,format=raw,if=virtio " cmd.txt || { cat cmd.txt; fail "image path not escaped"; }
grep -qF -- "-drive file=seed.iso,,readonly=off,format=raw,if=none,id=seed,media=cdrom,readonly=on " cmd.txt ||
	{ cat cmd.txt; fail "seed path not escaped"; }
# qemu's own option parser reads the escaped value as the one file named so (1 MiB, not x.raw's 2).
qemu-img info --output=json --image-opts "driver=raw,file.driver=file,file.filename=$(pwd)/d,,file=x.raw" |
	grep -q '"virtual-size": 1048576' || fail "qemu did not read the escaped path as one file name"
# the --dry-run line is shell-quoted: run through a shell, qemu gets the same words
eval "set -- $(cat cmd.txt)"
[ "$(printf '%s\n' "$@" | grep -c '^-drive$')" = 2 ] || fail "dry-run line does not split into qemu's words"

echo "OK"
