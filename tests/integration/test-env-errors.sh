#!/bin/bash
# Bad input to 'env check', 'env flatten' and 'env create': each fails with the exit code its
# --help documents, names the file and position (or the key path), and writes nothing.
set -euo pipefail
: "${BUILDER:?}" "${SRCDIR:?}"

T=$(mktemp -d /tmp/test-env-errors.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
mkdir tmp
export TMPDIR=$T/tmp

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# expect RC PATTERN CMD...: CMD exits RC, stderr matches PATTERN, stdout is empty
expect() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" > out.txt 2> err.txt || rc=$?
	[ "$rc" -eq "$want" ] || { cat err.txt; fail "'$*': exit $rc, expected $want"; }
	grep -qE -- "$pattern" err.txt || { cat err.txt; fail "'$*': stderr does not match '$pattern'"; }
	[ ! -s out.txt ] || { cat out.txt; fail "'$*': wrote to stdout"; }
	echo "ok: $* -> $rc: $(grep -E -- "$pattern" err.txt | head -n1)"
}

step "--help documents the exit codes"
for verb in check flatten create; do
	"$BUILDER" env "$verb" --help > help.txt || fail "env $verb --help"
	grep -q "^Exit status:" help.txt || fail "env $verb --help has no exit status"
	grep -qE "^  2  usage" help.txt || fail "env $verb --help does not document 2"
	grep -qE "^  1  " help.txt || fail "env $verb --help does not document 1"
done
echo "ok: exit codes documented"

step "files that are no env"
printf '' > empty.yml
printf 'appliance:\n  domain: x.example\n' > noheader.yml
printf '#cloud-config\nappliance:\n  domain: [x.example\n' > notyaml.yml
printf '#cloud-config\nappliance:\n  domain: x\n bad: indent\n' > indent.yml
printf '#cloud-config\n- a list\n' > list.yml
printf '#cloud-config\na: 1\nb\0: 2\n' > nul.yml
for verb in check flatten; do
	expect 1 "empty.yml: the file is empty" "$BUILDER" env "$verb" empty.yml
	expect 1 "noheader.yml:1:1: the first line must be '#cloud-config'" "$BUILDER" env "$verb" noheader.yml
	expect 1 "notyaml.yml:4:1: did not find expected ',' or ']'" "$BUILDER" env "$verb" notyaml.yml
	expect 1 "indent.yml:4:2: did not find expected key" "$BUILDER" env "$verb" indent.yml
	expect 1 "list.yml:2:1: the document must be a mapping" "$BUILDER" env "$verb" list.yml
	expect 1 "nul.yml:3: NUL byte" "$BUILDER" env "$verb" nul.yml
	expect 1 "missing.yml: No such file or directory" "$BUILDER" env "$verb" missing.yml
	expect 1 "\\.: (Is a directory|.*)" "$BUILDER" env "$verb" .
done

step "usage errors"
expect 2 "Expected exactly one argument" "$BUILDER" env check
expect 2 "Expected exactly one argument" "$BUILDER" env flatten a.yml b.yml
expect 2 "Unknown format 'csv'" "$BUILDER" env flatten --format csv x.yml
expect 2 "Expected two arguments" "$BUILDER" env create only-domain
expect 2 "'bad_domain!' is not a valid domain name" "$BUILDER" env create 'bad_domain!' outdir
[ ! -e outdir ] || fail "outdir created on a usage error"

step "wrong types and missing keys (env check)"
cat > types.yml <<'EOF'
#cloud-config
appliance:
  domain: 12
  standby: "yes"
  ssl:
    client_certs_mandatory: maybe
  metric: [exporter]
  extra:
    files:
      - path: relative/file
        permissions: 0600
  bogus: 1
  backup:
    url: file:///x
ecs:
  settings: |
    DEBUG = False
  vault_encrypt: not a key
EOF
expect 1 "types.yml:3:11: appliance:domain: expected a string, found an integer" "$BUILDER" env check types.yml
for p in "types.yml:4:12: appliance:standby: expected true or false, found a string" \
	"types.yml:6:29: appliance:ssl:client_certs_mandatory: expected true or false" \
	"types.yml:7:11: appliance:metric: expected a mapping, found a list" \
	"types.yml:11:22: appliance:extra:files:0:permissions: expected a string, found an integer" \
	"types.yml:10:15: appliance:extra:files:0:path: must be an absolute path" \
	"types.yml:12:3: appliance:bogus: unknown key" \
	"types.yml:13:3: appliance:backup:encrypt: required key is missing" \
	"types.yml:15:1: ecs:vault_sign: required key is missing" \
	"types.yml:18:18: ecs:vault_encrypt: must be an ASCII-armored OpenPGP secret key"; do
	grep -qF -- "$p" err.txt || { cat err.txt; fail "finding missing: $p"; }
done
echo "ok: every finding names the line, column and key path"
[ -z "$(ls -A tmp)" ] || fail "temporary files left behind"

step "env create writes nothing on bad input"
printf '#cloud-config\nappliance:\n  domain: @@NOPE@@\n' > bad-template.yml
expect 1 "bad-template.yml:3:11: unknown placeholder '@@NOPE@@'" "$BUILDER" env create --template bad-template.yml x.example o1
[ ! -e o1 ] || fail "o1 created"
printf '#cloud-config\nappliance: [\n' > broken-template.yml
expect 1 "not a valid env: .*broken-template.yml:3:1" "$BUILDER" env create --template broken-template.yml x.example o1
[ ! -e o1 ] || fail "o1 created"
expect 1 "Failed to read template 'nonexistent.yml'" "$BUILDER" env create --template nonexistent.yml x.example o1
printf 'appliance:\n  sentry: [\n' > bad-extra.yml
expect 1 "bad-extra.yml:3:1: " "$BUILDER" env create --extra bad-extra.yml x.example o1
printf 'appliance:\n  domain: other.example\n' > conflict-extra.yml
expect 1 "conflict-extra.yml:2:3: appliance:domain: already set by the template" \
	"$BUILDER" env create --extra conflict-extra.yml x.example o1
printf 'appliance:\n  metric: [1, 2]\n' > type-extra.yml
expect 1 "appliance:metric: expected a mapping" "$BUILDER" env create --extra type-extra.yml x.example o1
[ ! -e o1 ] || fail "o1 created"
# a template without the OpenPGP keys fails the check of the result
grep -v -e '@@VAULT_SIGN@@' -e 'vault_sign: |' "$SRCDIR/profiles/env-template.yml" > no-sign.yml
expect 1 "ecs:vault_sign: required key is missing" "$BUILDER" env create --template no-sign.yml x.example o1
[ ! -e o1 ] || fail "o1 created"
mkdir o2 && echo keep > o2/env.yml
expect 1 "exists already" "$BUILDER" env create x.example o2
[ "$(cat o2/env.yml)" = keep ] || fail "existing env.yml was changed"
[ -z "$(ls -A tmp)" ] || fail "temporary files left behind"
echo "PASS"
