#!/bin/bash
# Every failure visible from outside, in one VM of the shared "minimal" image: each failure class
# is made with an env (first the seed's, then /app/env.yml, which wins over the seed) and the
# manual's recovery (rm /run/appliance_failed; systemctl restart appliance), and each time https
# answers 503 with the failed step and the reason, status.json (curl) and appliance-status (ssh)
# agree, and no ready flag exists:
#   1. first boot, an extra file with an unknown owner (prepare-appliance fails before the nginx
#      site was ever rendered from the env: the maintenance fallback must serve the page);
#   2. a profile template that does not render;
#   3. a bad env value (prepare-env);
#   4. a service that will not start (appliance-database with an invalid ecs:database);
#   5. a full /data (an extra file below /app/etc cannot be written);
#   6. a failed flag set while the appliance runs: the monitor keeps ready withdrawn.
# Then no secret of the env appears in the serial console, the journal, status.json, the manifest,
# /var/log or /run/appliance (assert_no_secret_leaks in lib.sh).
source "$(dirname "$0")/lib.sh"
boot_require jq python3

W=$BOOT_WORK
img=$(shared_image minimal)
for f in disk ecs-data ecs-volatile; do
	overlay_disk "$img/$f.qcow2" "$W/$f.qcow2"
done

"$BUILDER" env create ecs.fail.test "$W/envc" >"$W/env.log" 2>&1 || { cat "$W/env.log"; fail "env create failed"; }
pub=$(cat "$(ssh_key).pub")
# envmod OUT PYTHON: OUT is the created env with the python statements applied to e (the YAML).
envmod() {
	python3 - "$W/envc/env.yml" "$1" "$pub" "$2" <<'PY'
import sys, yaml
e = yaml.safe_load(open(sys.argv[1]))
e["ssh_authorized_keys"] = [sys.argv[3]]
e["appliance"].setdefault("storage", {})["ignore"] = {"data": False, "volatile": False}
exec(sys.argv[4])
with open(sys.argv[2], "w") as f:
    f.write("#cloud-config\n" + yaml.safe_dump(e, sort_keys=False))
PY
}
envmod "$W/good.yml" ''
envmod "$W/owner.yml" 'e["appliance"]["extra"] = {"files": [{"path": "/etc/appliance-x.conf", "contents": "x", "owner": "nosuch:nogroup"}]}'
envmod "$W/baddomain.yml" 'e["appliance"]["domain"] = "bad_domain!"'
envmod "$W/database.yml" 'e["ecs"]["database"] = "Bad-Name"'
envmod "$W/full.yml" 'e["appliance"]["extra"] = {"files": [{"path": "/app/etc/big.conf", "contents": "x" * 65536}]}'
"$BUILDER" env check "$W/good.yml" >"$W/check.log" 2>&1 || { cat "$W/check.log"; fail "the good env does not pass env check"; }
"$BUILDER" seed --env "$W/owner.yml" --instance-id iid-failures -o "$W/seed.iso" >"$W/seed.log" 2>&1 ||
	{ cat "$W/seed.log"; fail "seed"; }

SSH=$(free_port)
HTTPS=$(free_port)
url=https://127.0.0.1:$HTTPS

# expect_failed CASE STEP TEXT: from outside, https 503 with the step and TEXT; inside, the same status.
expect_failed() {
	local c=$1 step=$2 text=$3 start=$SECONDS
	until curl -sk -m 10 "$url/status.json" 2>/dev/null >"$W/status.json" &&
		jq -e --arg s "$step" --arg t "$text" '.state == "failed" and .failed_step == $s and (.failed_reason | contains($t))' \
			"$W/status.json" >/dev/null 2>&1; do
		[ $((SECONDS - start)) -lt 600 ] || fail "$c: status.json never said $step failed with '$text': $(cat "$W/status.json")"
		sleep 2
	done
	curl -sk -D "$W/h" -o "$W/page.html" "$url/some/page" || true
	grep -q '^HTTP/[0-9.]* 503' "$W/h" || fail "$c: https answers $(head -n 1 "$W/h")"
	grep -qi '^Retry-After: 30' "$W/h" || fail "$c: no Retry-After"
	grep -qF "Step $step failed" "$W/page.html" || fail "$c: the page does not name the step: $(cat "$W/page.html")"
	grep -qF -- "$(sed "s/'/\&#39;/g" <<<"$text")" "$W/page.html" || grep -qF -- "$text" "$W/page.html" ||
		fail "$c: the page lacks the reason: $(cat "$W/page.html")"
	vm_ssh "$SSH" root appliance-status --json >"$W/inside.json"
	[ "$(jq -S '{state, failed_reason, failed_step, steps}' "$W/inside.json")" = \
		"$(jq -S '{state, failed_reason, failed_step, steps}' "$W/status.json")" ] ||
		fail "$c: appliance-status and status.json disagree: $(cat "$W/inside.json") / $(cat "$W/status.json")"
	vm_ssh "$SSH" root appliance-status | grep -qF "Failed step: $step" || fail "$c: appliance-status text"
	vm_ssh "$SSH" root test ! -e /run/appliance-ready || fail "$c: ready flag while failed"
	log "ok: $c: 503, step $step, '$text'"
}

# recover_with CASE ENV: the env as /app/env.yml, then the manual's recovery.
recover_with() {
	vm_ssh "$SSH" root 'cat > /app/env.yml' <"$2"
	vm_ssh "$SSH" root 'rm -f /run/appliance_failed; systemctl --no-block restart appliance'
	log "$1: restarted with $(basename "$2")"
}

vm_start vm "$W/disk.qcow2" --seed "$W/seed.iso" --disk "$W/ecs-data.qcow2" --disk "$W/ecs-volatile.qcow2" \
	-f "$SSH:22" -f "$HTTPS:443"
vm_wait_serial vm 'Step prepare-appliance: failed' 900
wait_ssh "$SSH" root 300
expect_failed "unknown owner (first boot)" prepare-appliance "unknown owner 'nosuch:nogroup'"

vm_ssh "$SSH" root "cp /usr/share/appliance/profile.yml /root/profile.yml &&
	echo 'listen {{ ecs:nothere }};' > /usr/share/appliance/templates/broken.conf &&
	sed -i '/^templates:\$/a\\  - src: /usr/share/appliance/templates/broken.conf\\n    dest: /etc/appliance-broken.conf' /usr/share/appliance/profile.yml &&
	grep -q broken.conf /usr/share/appliance/profile.yml"
recover_with template "$W/good.yml"
expect_failed "template that does not render" prepare-appliance "no such env key 'ecs:nothere'"
vm_ssh "$SSH" root cp /root/profile.yml /usr/share/appliance/profile.yml

recover_with domain "$W/baddomain.yml"
expect_failed "bad env value" prepare-env "appliance:domain"

recover_with database "$W/database.yml"
expect_failed "service that will not start" appliance "Service 'appliance-database.service' failed to start"

# Every free block, the reserved ones included (root may write those).
vm_ssh "$SSH" root 'free=$(($(stat -f -c %f /data) * $(stat -f -c %S /data)));
	fallocate -l "$free" /data/fill 2>/dev/null || fallocate -l "$((free - 64 * 1024 * 1024))" /data/fill;
	dd if=/dev/zero of=/data/fill2 bs=4k 2>/dev/null; sync; true'
recover_with full "$W/full.yml"
expect_failed "full /data" prepare-appliance "No space left on device"
vm_ssh "$SSH" root 'rm -f /data/fill /data/fill2; systemctl reset-failed; systemctl restart postgresql@15-main || true'

recover_with ready "$W/good.yml"
wait_http "$url/" 200 600
vm_ssh "$SSH" root 'appliance-agent fail "failure reported while running"'
[ "$(http_code "$url/")" = 503 ] || fail "monitor: not 503 right after the failed flag"
log "waiting past the monitor's 30 s interval"
sleep 40
[ "$(http_code "$url/")" = 503 ] || fail "monitor: ready again while the failed flag exists"
curl -sk "$url/status.json" | jq -e '.state == "failed" and (.failed_reason | contains("while running"))' >/dev/null ||
	fail "monitor: status.json $(curl -sk "$url/status.json")"
vm_ssh "$SSH" root test ! -e /run/appliance-ready || fail "monitor: ready flag while failed"
log "ok: the monitor keeps ready withdrawn while failed"

# No secret of the envs (every case's env holds the same ones) in anything the appliance wrote or
# said, failure reasons included.
assert_no_secret_leaks vm "$SSH" "$url" "$img/manifest.json" "$W/good.yml" "$W/owner.yml" "$W/database.yml"

vm_ssh "$SSH" root systemctl poweroff 2>/dev/null || true
vm_wait_exit vm 180
log "failures boot test passed"
