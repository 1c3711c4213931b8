# The schemabench image for sharded runs on Kubernetes (deploy/k8s/,
# docs/scale-out.md): the release binary, the workloads and scenarios, CA
# certificates for TLS to the target, and /bin/sh for the Job's command.
# Nothing is fetched at run time.
#
#   docker build -t schemabench/schemabench:0.1.0 .
#
# Machines that cannot pull base images build the same layout from the
# host with scripts/build-image.sh.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin schemabench && strip target/release/schemabench

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --home-dir /home/schemabench --create-home schemabench
COPY --from=build /src/target/release/schemabench /usr/local/bin/schemabench
COPY workloads /usr/share/schemabench/workloads
COPY scenarios /usr/share/schemabench/scenarios
USER 10001
WORKDIR /home/schemabench
ENTRYPOINT ["/usr/local/bin/schemabench"]
