#!/bin/sh
# Container entrypoint: runs shardis-server as PID 1 (exec, so it receives SIGTERM itself),
# reading /etc/shardis/shardis.conf first when that file exists. Options given to the
# container (the image's CMD, or `docker run IMAGE --name value ...`) come after the file and
# override it. A first argument that is not an option is run as a command instead (e.g. bash).
set -e
CONF=/etc/shardis/shardis.conf
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  if [ -f "$CONF" ]; then
    exec shardis-server "$CONF" "$@"
  fi
  exec shardis-server "$@"
fi
exec "$@"
