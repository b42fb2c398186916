#!/bin/bash
# prepare-storage's move of /var/lib/postgresql onto /data (another filesystem) cut at each point,
# as a power cut or a SIGKILL of the VM would: APPLIANCE_AGENT_CUT ends the agent there at once.
# The next run must finish or redo the move: the link in place, the data complete and identical
# (names, owners, modes, sizes, contents), no temporary copy nor old directory left, and a third
# run changes nothing. Also a copy cut half way (a truncated file in the temporary copy), an old
# directory half removed when the cut came during its removal, and the image as the builder ships
# it, booted with the volume it wrote, with a blank one and with one from an earlier appliance.
set -euo pipefail

: "${AGENT:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mounts)"; exit 77; }

T=$(mktemp -d /tmp/test-agent-storage-cut.XXXXXX)
cleanup() {
	set +e
	mountpoint -q "$T/root/data" 2>/dev/null && umount "$T/root/data"
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

R=$T/root
agent() { "$AGENT" --root "$R" --systemctl=true "$@"; }

# manifest DIR: every entry's name, type, owner, mode and link target, and every file's SHA-256.
manifest() {
	(cd "$1" && find . -printf '%p %y %u:%g %m %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# fresh_root: an appliance root whose /data is a separate (tmpfs) filesystem, with PostgreSQL's
# state in /var/lib/postgresql as the image ships it.
fresh_root() {
	mountpoint -q "$R/data" 2>/dev/null && umount "$R/data"
	rm -rf "$R"
	mkdir -p "$R/etc" "$R/app" "$R/data" "$R/var/lib/postgresql/15/main/base/1"
	mount -t tmpfs -o size=64m tmpfs "$R/data"
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/bash\npostgres:x:115:120::/var/lib/postgresql:/bin/sh\n' >"$R/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\npostgres:x:120:\n' >"$R/etc/group"
	printf '#cloud-config\nappliance:\n  domain: cut.example.org\n  storage:\n    ignore:\n      data: true\n      volatile: true\n' >"$R/app/env.yml"
	local pg=$R/var/lib/postgresql/15/main
	echo 15 >"$pg/PG_VERSION"
	head -c 3M /dev/urandom >"$pg/base/1/16384"
	head -c 100k /dev/urandom >"$pg/base/1/1259"
	ln -s base/1/1259 "$pg/a-link"
	chown -R 115:120 "$R/var/lib/postgresql"
	chmod 0700 "$pg"
	manifest "$R/var/lib/postgresql" >"$T/before"
}

check_done() { # WHAT
	[ "$(readlink "$R/var/lib/postgresql")" = ../../data/postgresql ] || fail "$1: /var/lib/postgresql is not the link"
	manifest "$R/data/postgresql" >"$T/after"
	diff -u "$T/before" "$T/after" >&2 || fail "$1: the data on /data differs from the original"
	[ "$(stat -c "%u %a" "$R/data/postgresql")" = "115 755" ] || fail "$1: /data/postgresql owner/mode: $(stat -c "%u %a" "$R/data/postgresql")"
	if ls -a "$R/data" "$R/var/lib" | grep -q 'appliance-'; then
		fail "$1: leftovers: $(ls -a "$R/data" "$R/var/lib" | tr '\n' ' ')"
	fi
	agent prepare-storage
	grep -q '^RESULT=ok$' "$R/run/appliance/steps/prepare-storage" || fail "$1: the run after the recovery changed something"
}

# cut POINT: a run that ends at POINT, as killed (exit 137).
cut() {
	local rc=0
	APPLIANCE_AGENT_CUT=$1 agent prepare-storage 2>"$T/cut.log" || rc=$?
	[ "$rc" = 137 ] || { cat "$T/cut.log" >&2; fail "the run cut at '$1' ended with $rc, not 137"; }
}

agent_env() { agent prepare-env >/dev/null 2>&1 || fail "prepare-env failed"; }

# Each point: the state the cut left, then a normal run.
for point in copied aside renamed linked; do
	fresh_root
	agent_env
	cut "$point"
	case $point in
	copied | aside)
		[ -d "$R/data/.postgresql.appliance-tmp" ] || fail "$point: no temporary copy on /data" ;;
	esac
	case $point in
	copied) [ -d "$R/var/lib/postgresql" ] && [ ! -L "$R/var/lib/postgresql" ] || fail "copied: the source moved" ;;
	aside | renamed) [ ! -e "$R/var/lib/postgresql" ] && [ -d "$R/var/lib/postgresql.appliance-moved" ] ||
		fail "$point: not the state after the commit point" ;;
	linked) [ -L "$R/var/lib/postgresql" ] && [ -d "$R/var/lib/postgresql.appliance-moved" ] ||
		fail "linked: no link, or the old directory already gone" ;;
	esac
	agent prepare-storage 2>"$T/run.log" || { cat "$T/run.log" >&2; fail "$point: the run after the cut failed"; }
	check_done "cut at $point"
	echo "ok: cut at $point"
done

# A copy cut half way: the temporary copy lacks most of a file. The next run makes it again.
fresh_root
agent_env
cut copied
truncate -s 4096 "$R/data/.postgresql.appliance-tmp/15/main/base/1/16384"
rm -f "$R/data/.postgresql.appliance-tmp/15/main/PG_VERSION"
agent prepare-storage
check_done "a copy cut half way"
echo "ok: a copy cut half way"

# Cut while the old directory was being removed: part of it is gone, the rest goes.
fresh_root
agent_env
cut linked
rm -rf "$R/var/lib/postgresql.appliance-moved/15/main/base"
agent prepare-storage
check_done "a removal cut half way"
echo "ok: a removal cut half way"

# The image as the builder ships it with the ecs-data it wrote (disk/prefill.h): the old directory
# aside, its complete copy on the volume. The first boot finishes the move without copying.
fresh_root
agent_env
cp -a "$R/var/lib/postgresql" "$R/data/.postgresql.appliance-tmp"
mv "$R/var/lib/postgresql" "$R/var/lib/postgresql.appliance-moved"
agent prepare-storage >"$T/run.log" 2>&1 || { cat "$T/run.log" >&2; fail "the builder's volume: the run failed"; }
grep -q "Finishing the move of '/var/lib/postgresql' to '/data/postgresql': its copy there is complete" "$T/run.log" ||
	{ cat "$T/run.log" >&2; fail "the builder's volume: the move was not finished"; }
! grep -q "Moved '/var/lib/postgresql'" "$T/run.log" || fail "the builder's volume: the data was copied again"
check_done "the builder's volume"
echo "ok: the builder's volume"

# The same image with a blank volume instead: the old directory comes back and moves (a copy).
fresh_root
agent_env
mv "$R/var/lib/postgresql" "$R/var/lib/postgresql.appliance-moved"
agent prepare-storage >"$T/run.log" 2>&1 || { cat "$T/run.log" >&2; fail "a blank volume: the run failed"; }
grep -q "Moving '/var/lib/postgresql' again" "$T/run.log" && grep -q "Moved '/var/lib/postgresql'" "$T/run.log" ||
	{ cat "$T/run.log" >&2; fail "a blank volume: the old directory was not moved"; }
check_done "a blank volume"
echo "ok: a blank volume"

# The same image with the ecs-data of an earlier appliance: the volume's data is kept as it is.
fresh_root
agent_env
mkdir -p "$R/data/postgresql/15/main"
echo 15 >"$R/data/postgresql/15/main/PG_VERSION"
head -c 64k /dev/urandom >"$R/data/postgresql/15/main/earlier"
chown -R 115:120 "$R/data/postgresql"
manifest "$R/data/postgresql" >"$T/before"
mv "$R/var/lib/postgresql" "$R/var/lib/postgresql.appliance-moved"
agent prepare-storage >"$T/run.log" 2>&1 || { cat "$T/run.log" >&2; fail "an earlier volume: the run failed"; }
grep -q "Finishing the move of '/var/lib/postgresql' to '/data/postgresql': the data there is kept" "$T/run.log" ||
	{ cat "$T/run.log" >&2; fail "an earlier volume: not kept"; }
check_done "an earlier volume"
echo "ok: an earlier volume"

# The same filesystem (one rename), cut right after it, before the link: nothing lost.
fresh_root
umount "$R/data"
agent_env
cut renamed
[ ! -e "$R/var/lib/postgresql" ] && [ -f "$R/data/postgresql/15/main/PG_VERSION" ] || fail "same filesystem: not renamed"
agent prepare-storage
check_done "same filesystem"
echo "ok: same filesystem"
echo "OK"
