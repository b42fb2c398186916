#!/bin/sh
# create-internal-user.sh EMAIL "First Name" "Last Name" f|m (manual: "create first internal
# office user"): creates, or on a second call updates, the application user through the hook the
# image profile defines (hooks: create-internal-user) and prints its new 16-character password once.
exec /usr/sbin/appliance-agent internal-user "$@"
