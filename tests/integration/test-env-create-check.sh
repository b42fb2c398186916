#!/bin/bash
# 'appliance-builder env create' then 'env check': mode 0600, fresh secrets in every run, the DKIM
# key and its DNS record agree (openssl), the OpenPGP keys import into gpg as unprotected secret
# keys with the expected user ids, --extra is merged, and an own ssl key/cert pair is checked.
set -euo pipefail
: "${BUILDER:?}"

for tool in openssl gpg gpgconf awk; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-env-create.XXXXXX)
G=$(mktemp -d /tmp/teg.XXXXXX)
trap 'gpgconf --homedir "$G" --kill all 2>/dev/null || true; rm -rf "$T" "$G"' EXIT
cd "$T"
# the builder's temporary GnuPG homes go here, so that leftovers can be seen
mkdir tmp
export TMPDIR=$T/tmp

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# value KEY:PATH FILE: prints a value through 'env flatten' (sourced in a subshell)
value() {
	local var=$1 file=$2
	# shellcheck disable=SC1090
	(. <("$BUILDER" env flatten "$file" --roots . 2>/dev/null) && eval "printf '%s' \"\${$var}\"")
}

step "create and check"
"$BUILDER" env create ecs.example.org out 2> create.err || { cat create.err; fail "env create"; }
[ "$(stat -c %a out/env.yml)" = 600 ] || fail "mode is $(stat -c %a out/env.yml)"
[ "$(head -n1 out/env.yml)" = "#cloud-config" ] || fail "header"
"$BUILDER" env check out/env.yml 2> check.err || { cat check.err; fail "env check of a new env"; }
grep -q "valid (0 warning(s))" check.err || { cat check.err; fail "new env has warnings"; }
[ -z "$(ls -A tmp)" ] || fail "a temporary GnuPG home was left behind: $(ls -A tmp)"
echo "ok: created env passes the check"

step "secrets"
for k in SECRET_KEY REGISTRATION_SECRET PASSWORD_RESET_SECRET; do
	s=$(sed -n "s/^ *$k = '\(.*\)'\$/\1/p" out/env.yml)
	[ "${#s}" -eq 52 ] || fail "$k has ${#s} characters"
	[ "$(printf %s "$s" | base64 -d | wc -c)" -eq 39 ] || fail "$k is not 39 bytes of base64"
done
[ "$(grep -c '@@' out/env.yml)" -eq 0 ] || fail "placeholders left"
"$BUILDER" env create ecs.example.org out2 2>/dev/null
a=$(sed -n "s/^ *SECRET_KEY = '\(.*\)'\$/\1/p" out/env.yml)
b=$(sed -n "s/^ *SECRET_KEY = '\(.*\)'\$/\1/p" out2/env.yml)
[ "$a" != "$b" ] || fail "two runs gave the same secret"
cmp -s <(value APPLIANCE_DKIM_KEY out/env.yml) <(value APPLIANCE_DKIM_KEY out2/env.yml) && fail "same DKIM key twice"
echo "ok: three 39-byte secrets, fresh per run"

step "DKIM key and DNS record"
value APPLIANCE_DKIM_KEY out/env.yml > dkim.pem
openssl rsa -in dkim.pem -check -noout >/dev/null 2>&1 || fail "DKIM key is not a valid RSA key"
openssl rsa -in dkim.pem -text -noout 2>/dev/null | grep "Private-Key: (2048 bit" >/dev/null || fail "DKIM key is not 2048 bit"
pub=$(openssl rsa -in dkim.pem -pubout 2>/dev/null | sed '1d;$d' | tr -d '\n')
# the TXT record strings between the parentheses, joined
txt=$(sed -n '/IN TXT (/,/^#   )/p' out/env.yml | sed -n 's/^# *"\(.*\)"$/\1/p')
joined=$(printf %s "$txt" | tr -d '\n')
[ "$joined" = "v=DKIM1; k=rsa; s=email; p=$pub" ] || { echo "$joined"; fail "TXT record does not carry the public key"; }
while IFS= read -r line; do
	[ "${#line}" -le 250 ] || fail "TXT string longer than 250 characters"
done <<< "$txt"
grep -q "^#   default._domainkey: v=DKIM1; k=rsa; s=email; p=$pub\$" out/env.yml || fail "one-line DKIM record"
for rr in "IN  A " "IN  MX    10 ecs.example.org." '"v=spf1 a mx -all"' "_dmarc.ecs.example.org." "IN  PTR   ecs.example.org."; do
	grep -qF -- "$rr" out/env.yml || fail "record '$rr' missing in the header"
done
echo "ok: DKIM key, TXT record split at 250, A/MX/SPF/DMARC/PTR"

step "OpenPGP keys"
for pair in APPLIANCE_BACKUP_ENCRYPT:ecs_backup ECS_VAULT_ENCRYPT:ecs_mediaserver ECS_VAULT_SIGN:ecs_authority; do
	var=${pair%%:*} uid=${pair#*:}
	value "$var" out/env.yml > key.asc
	gpg --homedir "$G" --batch --import key.asc 2> import.err || { cat import.err; fail "$var: gpg import"; }
	grep -q "secret keys imported: 1" import.err || { cat import.err; fail "$var: no secret key"; }
	gpg --homedir "$G" --batch --with-colons -K "$uid" > k.txt || fail "$var: no key for $uid"
	grep -q '^sec:.*:2048:' k.txt || fail "$var: not RSA 2048"
	cut -d: -f12 k.txt | head -n1 | grep e >/dev/null || fail "$var: cannot encrypt"
	cut -d: -f12 k.txt | head -n1 | grep s >/dev/null || fail "$var: cannot sign"
	# unprotected: signing works without any passphrase
	echo test | gpg --homedir "$G" --batch --pinentry-mode loopback --passphrase '' -u "$uid" --sign > /dev/null 2>&1 \
		|| fail "$var: key is protected"
done
echo "ok: three unprotected OpenPGP keys with their user ids"

step "--extra"
cat > extra.yml <<'EOF'
ssh_authorized_keys:
  - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample admin@example.org"
appliance:
  sentry:
    dsn: 'https://key@sentry.example.org/2'
  metric:
    exporter: true
  git:
    branch: stable
  extra:
    files:
      - path: /etc/motd
        contents: "welcome\n'quoted' $x \\ done\n"
        owner: root:root
        permissions: "0644"
  update:
    automatic: false
ecs:
  git:
    branch: stable
http_proxy: http://proxy.example.org:3128
EOF
"$BUILDER" env create --extra extra.yml ecs.example.org ext 2> ext.err || { cat ext.err; fail "create --extra"; }
"$BUILDER" env check ext/env.yml 2> ext-check.err || { cat ext-check.err; fail "check after --extra"; }
[ "$(value SSH_AUTHORIZED_KEYS_0 ext/env.yml)" = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample admin@example.org" ] || fail "ssh key"
[ "$(value SSH_AUTHORIZED_KEYS_LEN ext/env.yml)" = 1 ] || fail "ssh key count"
[ "$(value APPLIANCE_SENTRY_DSN ext/env.yml)" = "https://key@sentry.example.org/2" ] || fail "sentry"
value ECS_SETTINGS ext/env.yml | grep -x "SENTRY_DSN = 'https://key@sentry.example.org/2'" >/dev/null || fail "sentry in settings"
[ "$(value APPLIANCE_METRIC_EXPORTER ext/env.yml)" = true ] || fail "metric"
[ "$(value APPLIANCE_UPDATE_AUTOMATIC ext/env.yml)" = false ] || fail "update"
[ "$(value APPLIANCE_GIT_BRANCH ext/env.yml)" = stable ] || fail "appliance git"
[ "$(value ECS_GIT_BRANCH ext/env.yml)" = stable ] || fail "ecs git"
[ "$(value APPLIANCE_EXTRA_FILES_0_CONTENTS ext/env.yml)" = $'welcome\n\'quoted\' $x \\ done' ] || fail "file contents"
[ "$(value APPLIANCE_EXTRA_FILES_0_PERMISSIONS ext/env.yml)" = 0644 ] || fail "permissions"
[ "$(value HTTP_PROXY ext/env.yml)" = http://proxy.example.org:3128 ] || fail "top-level key"
[ "$(value APPLIANCE_DOMAIN ext/env.yml)" = ecs.example.org ] || fail "template keys lost"
grep -q "^  # standby: true" ext/env.yml || fail "template comments lost"
echo "ok: --extra merged, comments kept, check passes"

step "own ssl key and certificate"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ssl.key -out ssl.crt -days 2 -subj /CN=ecs.example.org 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other 2>/dev/null
# with_ssl KEY CERT OUT: the created env with appliance:ssl:key/cert set
with_ssl() {
	awk -v key="$1" -v cert="$2" '
		function block(name, path,   l) {
			print "    " name ": |"
			while ((getline l < path) > 0) print "        " l
			close(path)
		}
		{ print }
		/^    client_certs_mandatory:/ { block("key", key); block("cert", cert) }
	' out/env.yml > "$3"
}
with_ssl ssl.key ssl.crt good.yml
"$BUILDER" env check good.yml 2> good.err || { cat good.err; fail "matching pair rejected"; }
with_ssl ssl.key other.crt bad.yml
rc=0; "$BUILDER" env check bad.yml 2> bad.err || rc=$?
[ "$rc" -eq 1 ] || fail "mismatched pair: exit $rc"
line=$(grep -n '^    cert: |' bad.yml | cut -d: -f1)
grep -q "bad.yml:$line:[0-9]*: appliance:ssl:cert: the certificate does not belong to appliance:ssl:key" bad.err \
	|| { cat bad.err; fail "mismatch not reported with line $line"; }
echo "ok: PEM pair checked ($(grep -c error bad.err) error line(s) for the mismatch)"

echo "PASS"
