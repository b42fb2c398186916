#!/bin/sh
# env-update.sh (manual: "Reconfigure a running Appliance"): read the env again from its sources
# (/app/env.yml, the cidata seed, ...), validate it and write /run/active-env.yml.
# Then apply it with: systemctl restart appliance
exec /usr/sbin/appliance-agent prepare-env "$@"
