# Shardis container image.
#
#   docker build -t shardis .
#   docker run -d -p 6379:6379 shardis
#
# The server listens on 0.0.0.0:6379 with protected mode off and NO PASSWORD: publish the port
# only where that is acceptable, or set a password, which replaces the default arguments:
#   docker run -d -p 6379:6379 shardis --bind 0.0.0.0 --requirepass 'change-me'
# A redis.conf-style file mounted at /etc/shardis/shardis.conf is read first when present
# (options on the command line override it):
#   docker run -d -v "$PWD/shardis.conf:/etc/shardis/shardis.conf:ro" -v shardis-data:/data shardis
# Any Redis parameter can be passed as `--name value`, e.g. `--threads 4` (default: one reactor
# thread per CPU the container may use).

# ---- build stage ----
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libabsl-dev libjemalloc-dev libssl-dev \
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF \
 && ninja -C /build shardis-server \
 && install -D -m 0755 -s /build/server/shardis-server /out/usr/local/bin/shardis-server \
 && install -D -m 0755 /src/scripts/docker-entrypoint.sh /out/usr/local/bin/docker-entrypoint.sh

# ---- runtime stage ----
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libjemalloc2 libabsl20220623 libssl3 liblua5.1-0 lua-cjson lua-bitop \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system shardis \
 && useradd --system --gid shardis --home-dir /data --no-create-home --shell /usr/sbin/nologin shardis \
 && mkdir -p /data /etc/shardis \
 && chown shardis:shardis /data
COPY --from=build /out/ /
# Fail the build if a shared library is missing from the runtime image.
RUN ! ldd /usr/local/bin/shardis-server | grep -q 'not found'

USER shardis
WORKDIR /data
EXPOSE 6379
# PING over bash's /dev/tcp (no redis-cli needed); -NOAUTH also means the server is up (when
# --requirepass is set). Assumes the default port 6379 inside the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\\r\\n' >&3 && IFS= read -r -t 3 reply <&3 && [[ $reply == +PONG* || $reply == -NOAUTH* ]]"]
STOPSIGNAL SIGTERM
# The entrypoint execs shardis-server (PID 1), adding /etc/shardis/shardis.conf if present.
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no"]
