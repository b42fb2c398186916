#!/bin/sh
# revoke-client-cert.sh SERIAL|NAME: revokes the client certificates with that serial (hex, as
# "appliance-agent client-cert list" shows it) or name, renews /data/ecs-ca/crl.pem and reloads
# nginx, which then refuses them.
exec /usr/sbin/appliance-agent client-cert revoke "$@"
