# syntax=docker/dockerfile:1
# The prodready image: one static-enough binary on a distroless base, run as uid 65532.
#   docker build -t prodready:dev .
# The same image runs every role: `prodready run` (the chart's default with the webhook on),
# `prodready controller`, `prodready audit`.

ARG RUST_VERSION=1.89

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target directory between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile dist --locked --bin prodready \
 && install -D -m 0755 target/dist/prodready /out/prodready

# glibc and libgcc only, no shell, no package manager; the nonroot tag runs as 65532:65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/prodready /usr/local/bin/prodready
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/prodready"]
CMD ["--help"]
