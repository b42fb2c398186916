#!/bin/sh
# env-create.sh DOMAIN DIR [--extra FILE] [--force] (manual: "make a new env.yml: env-create.sh
# domainname.domain ~/domainname.domain/"): writes DIR/env.yml (0600) with fresh secrets from the
# env template of the image. Then: edit it, copy it to /app/env.yml and reboot.
exec /usr/sbin/appliance-env create --template /usr/share/appliance/env-template.yml "$@"
