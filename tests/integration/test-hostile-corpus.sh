#!/bin/bash
# The hostile-input corpus: every row of tests/data/hostile/cases.tsv is one case with its expected
# outcome, run through the real programs (under ASan+UBSan in the sanitizer build of the suite):
#
#   KIND|EXPECT|TEXT|INPUT     (INPUT: printf %b text, or a file name below tests/data/hostile/KIND)
#
#   env       builder "env check" and agent prepare-env (ROOT/app/env.yml) both give EXPECT
#   userdata  a cidata seed (genisoimage) with INPUT as user-data: agent prepare-env
#   metadata  a cidata seed with a good env and INPUT as meta-data: agent prepare-env
#   config2   a config-2 drive with INPUT as openstack/latest/meta_data.json: agent prepare-env
#   profile   INPUT as the image profile: agent prepare-env
#   iso, fat  the image file as the seed device (by-label/cidata or config-2): agent prepare-env
#   tarball   the root tarball extracted (fuzz-tarball: nothing may appear outside its directory)
#   plant     "STEP PATH": PATH made a symlink to the host before STEP runs: nothing is written
#             through it (the host unchanged after each case); a step that needs the path fails
#
# EXPECT: ok (exit 0), refused (exit 1), note (exit 0 and TEXT in the notes), unconfigured (exit 0,
# no env). TEXT, when given, must appear in the programs' messages (or the notes). A step that runs
# longer than 60 s is a failure (no hang). Nothing may change outside the root: a sentinel tree
# ("the host") is compared before and after the whole corpus.
set -euo pipefail

: "${AGENT:?}" "${BUILDER:?}" "${TESTDATA:?}" "${BUILDDIR:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (owners of the layout)"; exit 77; }
command -v genisoimage >/dev/null || { echo "SKIP: genisoimage missing"; exit 77; }
D=$TESTDATA/hostile
FUZZ_TARBALL=$BUILDDIR/fuzz-tarball
T=$(mktemp -d /tmp/test-hostile-corpus.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

H=$T/host
R=$T/root
mkdir -p "$H/etc" "$H/data" "$H/app"
for d in etc data app; do printf 'host %s\n' "$d" > "$H/$d/precious"; done
snapshot() {
	(cd "$T" && find . -path ./root -prune -o -path ./work -prune -o -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort &&
		find host -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}
BEFORE=$(snapshot)

GOOD_ENV='#cloud-config
appliance:
  domain: hostile.example.org'
# The env of the plant cases uses every path a step writes: root's keys, an extra file.
PLANT_ENV='#cloud-config
ssh_authorized_keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y plant@test
appliance:
  domain: hostile.example.org
  extra:
    files:
      - path: /etc/appliance/extra.conf
        contents: extra'

make_root() {
	rm -rf "$R" "$T/work"
	mkdir -p "$R/etc" "$R/app" "$R/root" "$R/dev/disk/by-label" "$R/usr/share/appliance" "$T/work"
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n' > "$R/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nadm:x:4:\nsudo:x:27:\n' > "$R/etc/group"
	printf 'root:!:19000:0:99999:7:::\n' > "$R/etc/shadow"
	echo image > "$R/etc/hostname"
	printf 'distribution: debian\nsuite: bookworm\npackages: [udev]\n' > "$R/usr/share/appliance/profile.yml"
}
agent() { timeout 60 "$AGENT" --root "$R" --systemctl=true --metadata-url http://127.0.0.1:1/latest/user-data "$@"; }

# seed_iso LABEL NAME=FILE...: an ISO 9660 seed at by-label/LABEL.
seed_iso() {
	local label=$1 a
	shift
	rm -rf "$T/work/tree"
	mkdir -p "$T/work/tree"
	for a; do
		mkdir -p "$(dirname "$T/work/tree/${a%%=*}")"
		cp "${a#*=}" "$T/work/tree/${a%%=*}"
	done
	genisoimage -quiet -o "$R/dev/disk/by-label/$label" -V "$label" -J -r "$T/work/tree"
}

# outcome RC OUTFILE: ok | refused | hang | crash (sanitizer report or signal)
outcome() {
	if [ "$1" = 124 ]; then echo hang
	elif [ "$1" -gt 1 ] || grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$2"; then echo "crash($1)"
	elif [ "$1" = 0 ]; then echo ok
	else echo refused
	fi
}

n=0
bad=0
check() { # CASE EXPECT TEXT RC OUT
	local got notes=$R/run/appliance/notes
	got=$(outcome "$4" "$5")
	case "$2:$got" in
	ok:ok | refused:refused) ;;
	note:ok) [ -n "$3" ] && grep -qF -- "$3" "$notes" 2>/dev/null || got="ok without the note" ;;
	unconfigured:ok) [ -e "$R/run/appliance-unconfigured" ] || got="ok, configured" ;;
	*) ;;
	esac
	case "$2:$got" in
	ok:ok | refused:refused | note:ok | unconfigured:ok)
		if [ -n "$3" ] && ! grep -qF -- "$3" "$5" && ! grep -qF -- "$3" "$notes" 2>/dev/null; then
			got="$got without '$3'"
		fi
		;;
	esac
	case "$got" in
	ok | refused) [ "$2" = "$got" ] || [ "$2:$got" = note:ok ] || [ "$2:$got" = unconfigured:ok ] ;;
	*) false ;;
	esac || {
		echo "FAIL: $1: expected $2${3:+ ($3)}, got $got" >&2
		sed 's/^/    /' "$5" | tail -n 5 >&2
		bad=$((bad + 1))
	}
	n=$((n + 1))
}

while IFS='|' read -r kind expect text input; do
	case "$kind" in '' | '#'*) continue ;; esac
	make_root
	name="$kind: ${input:0:60}"
	if [ -f "$D/$kind/$input" ]; then src=$D/$kind/$input; else printf '%b' "$input" > "$T/work/input"; src=$T/work/input; fi
	rc=0
	case "$kind" in
	env)
		"$BUILDER" env check "$src" > "$T/work/out" 2>&1 || rc=$?
		check "$name (env check)" "$expect" "$text" "$rc" "$T/work/out"
		cp "$src" "$R/app/env.yml"
		rc=0
		agent prepare-env > "$T/work/out" 2>&1 || rc=$?
		check "$name (agent)" "$expect" "$text" "$rc" "$T/work/out"
		continue
		;;
	userdata)
		printf 'instance-id: iid-hostile\n' > "$T/work/meta"
		seed_iso cidata user-data="$src" meta-data="$T/work/meta"
		;;
	metadata)
		printf '%s\n' "$GOOD_ENV" > "$T/work/user"
		seed_iso cidata user-data="$T/work/user" meta-data="$src"
		;;
	config2)
		seed_iso config-2 openstack/latest/meta_data.json="$src"
		;;
	profile)
		cp "$src" "$R/usr/share/appliance/profile.yml"
		printf '%s\n' "$GOOD_ENV" > "$R/app/env.yml"
		;;
	iso | fat)
		case "$input" in config2-*) label=config-2 ;; *) label=cidata ;; esac
		cp "$src" "$R/dev/disk/by-label/$label"
		;;
	tarball)
		timeout 60 "$FUZZ_TARBALL" "$src" > "$T/work/out" 2>&1 || rc=$?
		check "$name" "$expect" "$text" "$rc" "$T/work/out"
		continue
		;;
	plant)
		step=${input%% *}
		path=${input#* }
		printf '%s\n' "$PLANT_ENV" > "$R/app/env.yml"
		[ "$step" = prepare-env ] || agent prepare-env > /dev/null 2>&1 || fail "$name: prepare-env on a clean tree"
		[ "$step" != prepare-appliance ] || agent prepare-storage > /dev/null 2>&1 ||
			fail "$name: prepare-storage on a clean tree"
		mkdir -p "$(dirname "$R$path")"
		rm -rf "${R:?}$path"
		ln -s "$H/etc" "$R$path"
		agent "$step" > "$T/work/out" 2>&1 || rc=$?
		check "$name" "$expect" "$text" "$rc" "$T/work/out"
		[ "$(snapshot)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(snapshot) >&2 || true; fail "$name: the host changed"; }
		continue
		;;
	*) fail "unknown kind '$kind'" ;;
	esac
	agent prepare-env > "$T/work/out" 2>&1 || rc=$?
	check "$name" "$expect" "$text" "$rc" "$T/work/out"
done < "$D/cases.tsv"

rm -rf "$R" "$T/work"
[ "$(snapshot)" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(snapshot) >&2 || true; fail "something outside the root changed"; }
[ "$bad" = 0 ] || fail "$bad of $n hostile cases did not give their expected outcome"
echo "OK: $n hostile cases, each with its expected outcome; nothing written outside the root"
