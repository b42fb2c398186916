#!/bin/bash
# 'appliance-builder size': output, JSON and usage errors.
set -euo pipefail

out=$("$BUILDER" size --studies-per-month 100)
grep -q '^Database  *8.0 GB' <<<"$out"
grep -q '^Cores  *6 ' <<<"$out"

json=$("$BUILDER" size -n 250 --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["cores"]==8 and d["database_bytes"]==20*2**30, d' "$json"

out=$("$BUILDER" size --test-instance)
grep -q '^Disksize  *20-40 GB' <<<"$out"

# 5 years: half the storage of 10.
d10=$("$BUILDER" size -n 40 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents_bytes"])')
d5=$("$BUILDER" size -n 40 -y 5 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents_bytes"])')
[ "$d10" -eq $((2 * d5)) ]

# Usage errors exit 2 and say what is wrong.
for args in "" "-n abc" "-n 10 -y 0" "-n 10 extra"; do
	set +e
	# shellcheck disable=SC2086
	err=$("$BUILDER" size $args 2>&1 >/dev/null)
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || { echo "size $args: exit $rc, expected 2"; exit 1; }
	[ -n "$err" ] || { echo "size $args: no message"; exit 1; }
done

out=$("$BUILDER" size -n 300 2>&1)
grep -q 'More than 250 studies' <<<"$out"
echo "size: ok"
