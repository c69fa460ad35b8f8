# Multi-stage build: the workspace is compiled once in `builder`; each service is a small
# distroless image running as non-root. Pick one with `--target customers-api|orders-api|orchestrator`.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p customers-api -p orders-api -p lambda-orchestrator \
 && mkdir -p /out \
 && cp target/release/customers-api target/release/orders-api target/release/lambda-orchestrator /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
WORKDIR /app
USER nonroot:nonroot
ENV LOG_FORMAT=json RUST_LOG=info

FROM runtime AS customers-api
COPY --from=builder /out/customers-api /app/customers-api
ENV PORT=3001
EXPOSE 3001
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["/app/customers-api", "healthcheck"]
ENTRYPOINT ["/app/customers-api"]

FROM runtime AS orders-api
COPY --from=builder /out/orders-api /app/orders-api
ENV PORT=3002
EXPOSE 3002
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["/app/orders-api", "healthcheck"]
ENTRYPOINT ["/app/orders-api"]

FROM runtime AS orchestrator
COPY --from=builder /out/lambda-orchestrator /app/lambda-orchestrator
ENV PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["/app/lambda-orchestrator", "healthcheck"]
ENTRYPOINT ["/app/lambda-orchestrator"]
