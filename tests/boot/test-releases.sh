#!/bin/bash
# More releases booted: the minimal appliance on Debian 11 (profile debian-bullseye, systemd 247)
# and Debian 13 (debian-trixie, systemd 257), bootstrapped from the host's mirror, each booted to
# ready with the same static agent binary, one VM at a time (bookworm is test-appliance.sh's; add
# it with RELEASE_PROFILES="debian-bullseye minimal debian-trixie"). Per release, from outside:
# the seed's env activated, https 503 then 200 with the status page, the agent's READY on the
# console, and inside: the release it claims, its systemd version, the agent binary byte for byte
# the one built here, the release's own `systemd-analyze verify` silent about the agent's units and
# the profile's drop-ins (no unknown directive), and the root and volume filesystems carrying the
# features of the release table.
source "$(dirname "$0")/lib.sh"
boot_require jq
: "${AGENT:?AGENT must name the appliance-agent binary}"

W=$BOOT_WORK
profiles=${RELEASE_PROFILES:-debian-bullseye debian-trixie}
agent_sum=$(sha256sum "$AGENT" | cut -d' ' -f1)
pub=$(cat "$(ssh_key).pub")

log "making the env and its seed"
"$BUILDER" env create ecs.release.test "$W/env" >"$W/env.log" 2>&1 || { cat "$W/env.log"; fail "env create failed"; }
sed -i "s|^ssh_authorized_keys:.*|ssh_authorized_keys:\n  - \"$pub\"|" "$W/env/env.yml"
sed -i '/^    ignore:/,/^  [a-z]/ s/^\(      [a-z]*\): true$/\1: false/' "$W/env/env.yml"
"$BUILDER" env check "$W/env/env.yml" >/dev/null 2>&1 || fail "the test env does not pass env check"
"$BUILDER" seed --env "$W/env/env.yml" --instance-id iid-release-test -o "$W/seed.iso"

# Build (or reuse) every image first, so the VMs run one after the other without waiting.
declare -A IMG=()
for p in $profiles; do
	IMG[$p]=$(shared_image "$p")
done

for p in $profiles; do
	img=${IMG[$p]}
	plan=$("$BUILDER" image --profile "$p" --dry-run -o "$W/plan-$p")
	suite=$(sed -n 's/^Filesystems for [a-z]* \([a-z]*\) .*/\1/p' <<<"$plan")
	version=$(sed -n 's/^Filesystems for [a-z]* [a-z]* ([a-z]* \([0-9.]*\),.*/\1/p' <<<"$plan")
	want_features=$(sed -n 's/^  ext4 features: //p' <<<"$plan" | tr ',' '\n' | sort | tr '\n' ' ')
	[ -n "$suite" ] && [ -n "$version" ] || fail "$p: the dry run names no release"
	for f in disk ecs-data ecs-volatile; do
		overlay_disk "$img/$f.qcow2" "$W/$p-$f.qcow2" $([ "$f" = disk ] && echo 1G)
	done
	SSH=$(free_port)
	HTTPS=$(free_port)
	url=https://127.0.0.1:$HTTPS
	t0=$SECONDS
	vm_start "$p" "$W/$p-disk.qcow2" --seed "$W/seed.iso" --disk "$W/$p-ecs-data.qcow2" \
		--disk "$W/$p-ecs-volatile.qcow2" -f "$SSH:22" -f "$HTTPS:443"
	vm_wait_serial "$p" 'login:|\(prepare-env\)' 600
	seen_503=
	while [ $((SECONDS - t0)) -lt 900 ]; do
		code=$(http_code "$url/")
		[ "$code" = 503 ] && seen_503=1
		[ "$code" = 200 ] && break
		sleep 1
	done
	[ "$(http_code "$url/")" = 200 ] || fail "$p: https never answered 200"
	[ -n "$seen_503" ] || log "$p: (https was already 200 at the first probe)"
	curl -sk "$url/" | grep -q 'Appliance Ready' || fail "$p: the status page does not say ready"
	vm_wait_serial "$p" 'Appliance ready' 60
	log "$p: ready after $((SECONDS - t0))s from qemu start"
	curl -sk "$url/status.json" | jq -e '.state == "ready" and (.env_source | startswith("cidata"))' >/dev/null ||
		fail "$p: status.json is not ready from the cidata env"

	wait_ssh "$SSH" root 120
	got=$(vm_ssh "$SSH" root '. /etc/os-release; echo "$VERSION_ID $VERSION_CODENAME"')
	[ "$got" = "$version $suite" ] || fail "$p: the guest is '$got', not '$version $suite'"
	sd=$(vm_ssh "$SSH" root systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
	log "$p: Debian $got, systemd $sd, $(vm_ssh "$SSH" root uname -r)"
	log "$p: agent steps: $(vm_ssh "$SSH" root appliance-agent status --json |
		jq -r '[.steps[] | "\(.name) \(.result) \(if .duration_usec then (.duration_usec / 1e4 | round / 100 | tostring) + "s" else "-" end)"] | join(", ")')"
	vm_ssh "$SSH" root journalctl -b -o short-monotonic -u appliance-ssh-host-keys -u prepare-env -u prepare-storage \
		-u prepare-appliance -u appliance >"$W/$p-journal.txt" 2>&1 || true
	[ "$(vm_ssh "$SSH" root sha256sum /usr/sbin/appliance-agent | cut -d' ' -f1)" = "$agent_sum" ] ||
		fail "$p: the image's agent is not the binary built here"
	# The release's own systemd parses the agent's units and the profile's drop-ins.
	vm_ssh "$SSH" root 'cd /usr/lib/systemd/system && systemd-analyze verify prepare-env.service \
		prepare-storage.service prepare-appliance.service appliance.service appliance-update.service \
		appliance-insecure-keys.path appliance-insecure-keys.service appliance-failed@x.service \
		appliance-database.service nginx.service postgresql@.service 2>&1' >"$W/$p-verify.txt" || true
	if grep -Ei 'unknown (key|section|lvalue)|invalid|failed to parse' "$W/$p-verify.txt"; then
		fail "$p: systemd $sd does not accept a directive of the units (above)"
	fi
	# Host keys: Ed25519 and ECDSA before sshd, RSA made after the boot and then offered by sshd.
	for i in $(seq 1 120); do
		vm_ssh "$SSH" root test -s /etc/ssh/ssh_host_rsa_key.pub && break
		sleep 2
	done
	vm_ssh "$SSH" root 'for t in ed25519 ecdsa rsa; do test -s /etc/ssh/ssh_host_${t}_key.pub || exit 1; done' ||
		fail "$p: a host key is missing"
	vm_ssh "$SSH" root systemctl is-active appliance.service nginx.service postgresql.service >/dev/null ||
		fail "$p: a service is not active"
	# Filesystems as the release table says.
	for dev in "$(vm_ssh "$SSH" root findmnt -no SOURCE /)" /dev/disk/by-label/ecs-data /dev/disk/by-label/ecs-volatile; do
		feats=$(vm_ssh "$SSH" root dumpe2fs -h "$dev" 2>/dev/null | sed -n 's/^Filesystem features: *//p' | tr ' ' '\n' |
			grep -vx needs_recovery | sort | tr '\n' ' ')
		[ "$feats" = "$want_features" ] || fail "$p: $dev has '$feats', the table says '$want_features'"
	done
	log "$p: OK"
	vm_kill "$p"
done
log "OK: $profiles booted to ready"
