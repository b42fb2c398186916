#!/bin/sh
# recover-from-backup.sh [--only-restore] [--overwrite] --yes-i-am-sure (manual: "Desaster Recovery
# from backup"): activates the env again, restores the storage vault and the database dump from
# the backup target (appliance:backup) into the empty /data directories, recreates the database
# from the dump (not with --only-restore) and restarts the appliance. Refuses without
# --yes-i-am-sure, and over a non-empty vault, dump directory or database without --overwrite.
set -eu
for a in "$@"; do
	case "$a" in
	--yes-i-am-sure | --only-restore | --overwrite) ;;
	*) echo "usage: recover-from-backup.sh [--only-restore] [--overwrite] --yes-i-am-sure" >&2; exit 2 ;;
	esac
done
/usr/sbin/appliance-agent prepare-env
exec /usr/sbin/appliance-agent recover "$@"
