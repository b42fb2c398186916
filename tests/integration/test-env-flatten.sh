#!/bin/bash
# 'appliance-builder env flatten': the output is sourced in bash and in dash, and every variable
# must come out byte for byte as the value in env.yml (stripped), hostile strings included; the
# same for the systemd format; a freshly created env flattens identically in both shells.
set -euo pipefail
: "${BUILDER:?}" "${TESTDATA:?}"

for tool in bash dash cmp; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

T=$(mktemp -d /tmp/test-env-flatten.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# YAML double-quoted form of a string.
yaml_dq() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

# name, input value, expected value after flattening (stripped)
names=()
declare -A input expect
add() { names+=("$1"); input[$1]=$2; expect[$1]=$3; }

add SQ "it's" "it's"
add SQ2 "''" "''"
add DQ 'say "hi"' 'say "hi"'
add DOLLAR 'cost $5 ${HOME} $(id) $((1+1))' 'cost $5 ${HOME} $(id) $((1+1))'
add BACKTICK 'run `id` now' 'run `id` now'
add BACKSLASH 'a\b\\c\' 'a\b\\c\'
add BSN 'literal \n and \t' 'literal \n and \t'
add NEWLINES $'line1\nline2\n\n  line4\n' $'line1\nline2\n\n  line4'
add TRAILING 'value   ' 'value'
add LEADING $'  \t value' 'value'
add INNER 'a   b' 'a   b'
add TAB $'a\tb' $'a\tb'
add CR $'a\rb' $'a\rb'
add UTF8 'Grüße – 日本語 ✓' 'Grüße – 日本語 ✓'
add NBSP $'\u00a0padded\u3000' 'padded'
add SEMI 'x; rm -rf /tmp/nothing-here' 'x; rm -rf /tmp/nothing-here'
add GLOB '* ? [a-z]' '* ? [a-z]'
add TILDE '~root' '~root'
add HASH '#not a comment' '#not a comment'
add BANG '!! !$ !-1' '!! !$ !-1'
add DASH '-n' '-n'
add PCT '%s %d %%' '%s %d %%'
add EQ 'a=b=c' 'a=b=c'
add EMPTY '' ''
add SPACES '   ' ''
add SAFE 'a@b%c+d=e:f,g./h-_' 'a@b%c+d=e:f,g./h-_'
add MIXED $'\'"$`\\\n\'' $'\'"$`\\\n\''

{
	echo '#cloud-config'
	echo 'appliance:'
	for n in "${names[@]}"; do
		echo "  hostile_$n: $(yaml_dq "${input[$n]}")"
	done
	echo '  block: |'
	echo '      first line'
	echo "      it's \$HOME \`id\` \\"
	echo ''
	echo '      after an empty line   '
	echo '  list:'
	echo '    - one'
	echo '    - "two $x"'
	echo '    - [nested, 3]'
	echo '  flag: yes'
	echo '  off_flag: off'
	echo '  number: 0x10'
	echo '  nothing:'
	echo 'ecs:'
	echo '  settings: |'
	echo "      DOMAIN = 'x.example'"
	echo "      ALLOWED_HOSTS = [DOMAIN, ]"
} > env.yml

names+=(BLOCK LIST_0 LIST_1 LIST_2_0 LIST_2_1 LIST_2_LEN LIST_LEN FLAG OFF_FLAG NUMBER NOTHING)
expect[BLOCK]=$'first line\nit\'s $HOME `id` \\\n\nafter an empty line'
expect[LIST_0]=one
expect[LIST_1]='two $x'
expect[LIST_2_0]=nested
expect[LIST_2_1]=3
expect[LIST_2_LEN]=2
expect[LIST_LEN]=3
expect[FLAG]=true
expect[OFF_FLAG]=false
expect[NUMBER]=16
expect[NOTHING]=''

var_of() { case $1 in BLOCK|LIST_*|FLAG|OFF_FLAG|NUMBER|NOTHING) echo "APPLIANCE_$1" ;; *) echo "APPLIANCE_HOSTILE_$1" ;; esac; }

# dump SHELL FILE DIR: sources FILE in SHELL and writes each variable's value into DIR/NAME
dump() {
	local sh=$1 file=$2 dir=$3 vars=""
	mkdir -p "$dir"
	for n in "${names[@]}"; do vars="$vars $(var_of "$n")"; done
	# shellcheck disable=SC2016
	VARS=$vars "$sh" -c '. "$1" || exit 1; for v in $VARS; do eval "printf %s \"\${$v}\"" > "$2/$v"; done' \
		"$sh" "$PWD/$file" "$dir"
}

check_dump() {
	local dir=$1 label=$2
	for n in "${names[@]}"; do
		local v
		v=$(var_of "$n")
		printf %s "${expect[$n]}" > expected.bin
		cmp -s expected.bin "$dir/$v" || {
			echo "expected:"; od -c expected.bin | head -5
			echo "got:"; od -c "$dir/$v" | head -5
			fail "$label: $v differs"
		}
	done
	echo "ok: $label: ${#names[@]} values identical"
}

step "sh format"
"$BUILDER" env flatten env.yml > flat.sh
grep -q '^export APPLIANCE_HOSTILE_SQ=' flat.sh || fail "no export lines"
dump bash flat.sh out-bash
dump dash flat.sh out-dash
check_dump out-bash "bash, sh format"
check_dump out-dash "dash, sh format"

step "systemd format"
"$BUILDER" env flatten env.yml --format systemd > flat.env
grep -q '^APPLIANCE_HOSTILE_SQ=' flat.env || fail "no KEY= lines"
dump bash flat.env sd-bash
dump dash flat.env sd-dash
check_dump sd-bash "bash, systemd format"
check_dump sd-dash "dash, systemd format"

step "order and roots"
"$BUILDER" env flatten env.yml > all.sh
[ "$(head -n1 all.sh)" = "export ECS_SETTINGS='DOMAIN = '\"'\"'x.example'\"'\"'" ] || { head -n2 all.sh; fail "ecs does not come first"; }
grep '^export APPLIANCE_' all.sh | cut -d= -f1 > names.txt
# sorted by the original-case key (all lower case here)
tr 'A-Z' 'a-z' < names.txt | LC_ALL=C sort -c || fail "APPLIANCE_ lines are not sorted"
"$BUILDER" env flatten env.yml --roots appliance > app.sh
! grep -q '^export ECS_' app.sh || fail "--roots appliance printed ECS_"
"$BUILDER" env flatten env.yml --roots nope,ecs > nope.sh 2> nope.err
grep -q "key 'nope' not found" nope.err || fail "missing root not warned about"
[ "$(grep -c '^export ECS_' nope.sh)" -eq 1 ] || fail "--roots nope,ecs"
echo "ok: roots and order"

step "golden: what the original flatyaml printed for an original-style env"
"$BUILDER" env flatten "$TESTDATA/env/original-style.yml" > golden.sh 2>/dev/null
"$BUILDER" env flatten "$TESTDATA/env/original-style.yml" --roots ssh_authorized_keys,USERDATA_TYPE,disable_root \
	>> golden.sh 2>/dev/null
# names that are no shell identifiers: the original printed an export that bash rejected, we a comment
sed -E "s/^export ([^=]*[^A-Z0-9_=][^=]*)=.*\$/# skipped: '\1' is not a valid variable name/" \
	"$TESTDATA/env/expected-flatten.sh" > golden-expected.sh
diff -u golden-expected.sh golden.sh || fail "flatten differs from the original's output"
echo "ok: $(wc -l < golden.sh) lines identical to the original's"

step "a created env flattens identically in bash and dash"
"$BUILDER" env create flat.example.org created 2> create.err || { cat create.err; fail "env create"; }
"$BUILDER" env flatten created/env.yml > created.sh
for sh in bash dash; do
	# shellcheck disable=SC2016
	"$sh" -c '. "$1" && for v in $(sed -n "s/^export \([A-Z0-9_]*\)=.*/\1/p" "$1"); do eval "printf \"%s=%s\\0\" $v \"\${$v}\""; done' \
		"$sh" "$PWD/created.sh" > "created.$sh"
done
cmp created.bash created.dash || fail "bash and dash see different values"
[ "$(grep -c '^export ' created.sh)" -ge 12 ] || fail "too few variables"
tr '\0' '\n' < created.bash | grep '^APPLIANCE_DOMAIN=flat.example.org$' >/dev/null || fail "APPLIANCE_DOMAIN"
tr '\0' '\n' < created.bash | grep '^APPLIANCE_DKIM_KEY=-----BEGIN RSA PRIVATE KEY-----$' >/dev/null || fail "DKIM key"
tr '\0' '\n' < created.bash | grep '^ECS_VAULT_SIGN=-----BEGIN PGP PRIVATE KEY BLOCK-----$' >/dev/null || fail "vault_sign"
echo "ok: created env: $(grep -c '^export ' created.sh) variables, bash = dash"

echo "PASS"
