#!/bin/bash
# The agreement corpus (tests/data/agreement/cases.txt): every env and profile goes through both
# programs, the builder (env check, image --dry-run --env / --profile) and the agent (prepare-env,
# which loads the profile and checks the env), and each must give the case's one verdict, with the
# case's fragment in what it printed. A case where the programs differ fails, naming both verdicts.
set -uo pipefail

: "${BUILDER:?}" "${AGENT:?}" "${TESTDATA:?}"
C="$TESTDATA/agreement"
SRC="$TESTDATA/../.."
T=$(mktemp -d /tmp/test-agreement.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0 cases=0

make_root() {
	rm -rf "$T/root"
	mkdir -p "$T/root/dev/disk/by-label" "$T/root/app" "$T/root/etc"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$T/root/etc/passwd"
	printf 'root:x:0:\n' > "$T/root/etc/group"
}

# run NAME CMD...: the verdict of one program into $T/NAME.verdict, its output into $T/NAME.out.
run() {
	local name=$1 rc=0
	shift
	"$@" >"$T/$name.out" 2>&1 || rc=$?
	case $rc in
	0) echo ok ;;
	1) echo error ;;
	*) echo "exit-$rc" ;;
	esac >"$T/$name.verdict"
}

# judge CASE EXPECTED FRAGMENT PROGRAM...: compares each program's verdict and output.
judge() {
	local case=$1 want=$2 frag=$3 line="" bad=0
	shift 3
	for p in "$@"; do
		local got
		got=$(cat "$T/$p.verdict")
		line="$line $p=$got"
		[ "$got" = "$want" ] || bad=1
		if [ "$frag" != "-" ] && ! grep -qF -- "$frag" "$T/$p.out"; then
			bad=1
			line="$line($p lacks the fragment)"
		fi
	done
	if [ "$bad" = 1 ]; then
		failures=$((failures + 1))
		echo "FAIL $case: expected $want,$line"
		for p in "$@"; do sed "s/^/    $p: /" "$T/$p.out" | head -5; done
	fi
}

good_env="$T/good-env.yml"
printf '#cloud-config\nappliance:\n  domain: agree.example.org\n' > "$good_env"

while read -r kind name verdict frag; do
	case $kind in ''|'#'*) continue ;; esac
	cases=$((cases + 1))
	file="$C/$kind/$name.yml"
	[ -f "$file" ] || { echo "FAIL $name: no $file"; failures=$((failures + 1)); continue; }
	make_root
	if [ "$kind" = env ]; then
		run env-check "$BUILDER" env check "$file"
		run image-env "$BUILDER" image --dry-run --profile "$SRC/profiles/minimal.yml" --env "$file" -o "$T/out"
		ENV_YML="$file" run agent "$AGENT" --root "$T/root" --profile "$T/no-profile.yml" prepare-env
		judge "env/$name" "$verdict" "$frag" env-check image-env agent
	else
		run image-profile "$BUILDER" image --dry-run --profile "$file" -o "$T/out"
		ENV_YML="$good_env" run agent "$AGENT" --root "$T/root" --profile "$file" prepare-env
		judge "profile/$name" "$verdict" "$frag" image-profile agent
	fi
done < "$C/cases.txt"

[ "$cases" -ge 60 ] || { echo "FAIL: only $cases cases"; exit 1; }
if [ "$failures" -gt 0 ]; then
	echo "FAIL: $failures of $cases cases"
	exit 1
fi
echo "OK: $cases cases, the builder and the agent agree on every one"
