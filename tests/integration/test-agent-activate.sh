#!/bin/bash
# The active env is the env: prepare-env --root activates real envs (made by `env create`) in every
# shape `env check` accepts: as created, with a block scalar at the end that would smuggle
# "standby: true" past a line edit, ending in "...", as one flow mapping (one line and several),
# with an indented root, with CRLF line ends, with comments at the end. Each passes `env check`,
# is activated byte for byte, and the agent's flattening of the active env equals the builder's
# of the file; the source is recorded in /run/appliance/env-source and status.json. Broken
# variants fail at the position `env check` names.
set -euo pipefail
: "${BUILDER:?}" "${AGENT:?}"
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

T=$(mktemp -d /tmp/test-agent-activate.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p root/app root/etc
printf 'root:x:0:0:root:/root:/bin/sh\n' >root/etc/passwd
printf 'root:x:0:\n' >root/etc/group
agent() { "$AGENT" --root "$T/root" --metadata-url "http://127.0.0.1:1/latest/user-data" "$@"; }

"$BUILDER" env create activate.example made >/dev/null 2>&1 || fail "env create"
env=made/env.yml

cp "$env" created.yml
{ cat "$env"; printf 'USERDATA_TYPE: |\n  standby: true\n'; } >smuggle.yml
{ cat "$env"; printf '...\n'; } >dots.yml
{ cat "$env"; printf '# kept for later:\n#   standby: true\n#'; } >comments.yml
{ head -n1 "$env"; tail -n +2 "$env" | sed 's/^/  /'; } >indented.yml
sed 's/$/\r/' "$env" >crlf.yml
# The flow mappings carry the keys env check requires, taken from the created env.
(
	eval "$("$BUILDER" env flatten "$env" --roots appliance,ecs 2>/dev/null)"
	json() {
		jq "$@" -n --arg d "$APPLIANCE_DOMAIN" --arg b "$APPLIANCE_BACKUP_ENCRYPT" --arg s "$ECS_SETTINGS" \
			--arg ve "$ECS_VAULT_ENCRYPT" --arg vs "$ECS_VAULT_SIGN" \
			'{appliance: {domain: $d, backup: {encrypt: $b}, storage: {grow_root: false}},
			  ecs: {settings: $s, vault_encrypt: $ve, vault_sign: $vs}}'
	}
	{ printf '#cloud-config\n'; json -c; } >flow-line.yml
	{ printf '#cloud-config\n'; json; printf '...\n'; } >flow.yml
)

for v in created smuggle dots comments indented crlf flow-line flow; do
	"$BUILDER" env check "$v.yml" >/dev/null 2>check.err || { cat check.err; fail "$v: env check refuses it"; }
	cp "$v.yml" root/app/env.yml
	agent prepare-env 2>agent.err || { cat agent.err; fail "$v: not activated"; }
	cmp -s "$v.yml" root/run/active-env.yml || fail "$v: the active env is not the file as read"
	[ "$(stat -c %a root/run/active-env.yml)" = 600 ] || fail "$v: active env mode"
	"$BUILDER" env flatten "$v.yml" --roots . >want.sh 2>/dev/null
	agent env . >got.sh
	cmp -s want.sh got.sh || { diff want.sh got.sh | head; fail "$v: the agent reads other values than env check"; }
	[ -s got.sh ] || fail "$v: nothing flattened"
	[ ! -e root/run/appliance-standby ] || fail "$v: standby"
	! grep -q '^export APPLIANCE_STANDBY=' got.sh || fail "$v: appliance:standby appeared"
	(. root/run/appliance/env-source && [ "$USERDATA_TYPE" = local ] && [ "$USERDATA_ORIGIN" = "$T/root/app/env.yml" ]) ||
		fail "$v: env-source: $(cat root/run/appliance/env-source)"
	agent status --json >status.json
	jq -e --arg o "local:$T/root/app/env.yml" '.env_source == $o and .steps[0].result != "standby"' status.json >/dev/null ||
		fail "$v: status.json: $(cat status.json)"
	echo "ok: $v: $(wc -l <got.sh) values, the same in both programs"
done
grep -q "^export USERDATA_TYPE='standby: true'$" <("$BUILDER" env flatten smuggle.yml --roots . 2>/dev/null) ||
	fail "smuggle: the block scalar is not the value of USERDATA_TYPE"

# The same flow env with standby written as a key: that one does stop in standby.
sed 's/"grow_root":false/"grow_root":false},"standby":true,"x":{"y":1/' flow-line.yml >standby.yml
grep -q '"standby":true' standby.yml || fail "standby variant not made"
"$BUILDER" env check standby.yml >/dev/null 2>&1 || fail "standby: env check"
cp standby.yml root/app/env.yml
agent prepare-env 2>/dev/null
[ -e root/run/appliance-standby ] || fail "appliance:standby true did not stop in standby"
echo "ok: a real standby key stops in standby"

# Broken variants: the agent names the position env check names.
sed -i 's/^  domain: activate\.example\r$/  domain: "not a host"\r/' crlf.yml
grep -q 'not a host' crlf.yml || fail "crlf variant not made"
{ cat "$env"; printf '...\nextra: 1\n'; } >dots-more.yml
sed 's/"domain":"activate.example"/"domain":"bad host"/' flow-line.yml >flow-bad.yml
for v in crlf dots-more flow-bad; do
	rc=0
	"$BUILDER" env check "$v.yml" >/dev/null 2>check.err || rc=$?
	[ "$rc" = 1 ] || fail "$v: env check exit $rc"
	pos=$(sed -n "s/.*$v\.yml:\([0-9]*:[0-9]*\):.*/\1/p" check.err | head -n1)
	[ -n "$pos" ] || { cat check.err; fail "$v: no position from env check"; }
	cp "$v.yml" root/app/env.yml
	rm -f root/run/appliance-failed root/run/appliance_failed
	! agent prepare-env 2>/dev/null || fail "$v: activated"
	grep -q "env.yml:$pos:" root/run/appliance-failed || fail "$v: flag '$(cat root/run/appliance-failed)' lacks $pos"
	echo "ok: $v: refused at $pos by both"
done
echo OK
