#!/bin/sh
# create-client-cert.sh EMAIL NAME [DAYS] (manual: "create and send matching client certificate"):
# issues a client certificate of the appliance's CA (/data/ecs-ca) for EMAIL with the common name
# NAME, valid DAYS (default 7), writes it with its key and the CA as PKCS#12 to
# /root/client-certs/NAME.p12 and prints its 16-character transport password once.
exec /usr/sbin/appliance-agent client-cert create "$@"
