#!/bin/sh
# env-update.sh (manual: "Reconfigure a running Appliance": edit /app/env.yml, env-update.sh,
# systemctl start appliance-update): reads the env again from its sources (/app/env.yml, the
# cidata seed, ...) and checks it as the boot does. Valid: /run/active-env.yml is replaced
# atomically. Invalid or missing: the reason (FILE:LINE:COLUMN) on stderr, exit status 1, and the
# running appliance, its flags and /run/active-env.yml stay as they are.
exec /usr/sbin/appliance-agent env-update "$@"
