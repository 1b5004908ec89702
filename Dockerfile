# syntax=docker/dockerfile:1
# openclaw-trace alone in a container (share the socket directory and run
# the gateway in another container), or copy /usr/local/bin/openclaw-trace
# and start.sh into the gateway's image (see README.md, "Docker").
#   docker build -t openclaw-trace --build-arg VERSION=$(git describe --tags --always) .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
# Static (pure-Go SQLite), stripped, reproducible paths.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/openclaw-trace ./cmd/openclaw-trace \
 && mkdir -p /out/data /out/run/openclaw-trace

# distroless static: CA certificates (HTTPS push), tzdata, /etc/passwd with
# the nonroot user (65532); no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/openclaw-trace /usr/local/bin/openclaw-trace
# No shell in this stage to mkdir/chown: the directories come from the
# build stage, owned by the user the daemon runs as.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/run/openclaw-trace /run/openclaw-trace
USER 65532:65532

# The binary sets its own soft memory limit (GOMEMLIMIT 18 MiB unless set;
# BENCHMARKS.md, "Faults"): the budget is 30 MB peak RSS, about
# 10 MiB of which are the binary's mapped pages the limit does not count.
# It is soft: above it the GC runs more often, it never kills the process.
# Raise it (ENV GOMEMLIMIT=32MiB) for large pushes.
ENV OCT_DB_PATH=/data/openclaw-trace.db \
    OCT_SOCKET_PATH=/run/openclaw-trace/openclaw-trace.sock
# The database; only a volume survives the container.
VOLUME /data
# Nothing exposed: ingest (HTTP and UDP 9090) listens on 127.0.0.1 only,
# and the unix socket is shared by mounting /run/openclaw-trace.
ENTRYPOINT ["/usr/local/bin/openclaw-trace"]
