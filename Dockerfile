# syntax=docker/dockerfile:1
#
# partner-center container image.
#   docker build -t partner-center .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:pw@db-host:5432/partner_center partner-center
# The image has no PostgreSQL: DATABASE_URL is required (see compose.yaml). Migrations are embedded in
# the binary and applied by `serve` at start-up.

# ---- build ------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# sqlx checks queries against the committed metadata in .sqlx/ instead of a live database.
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
COPY .sqlx ./.sqlx
COPY migrations ./migrations
COPY src ./src
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin partner-center \
    && install -m 0755 target/release/partner-center /usr/local/bin/partner-center

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 partner-center \
    && useradd --system --uid 10001 --gid partner-center --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin partner-center
WORKDIR /app
COPY --from=builder /usr/local/bin/partner-center /usr/local/bin/partner-center
# Loaded from the working directory: config/default.toml (the built-in defaults, documented).
COPY config ./config
USER partner-center:partner-center
EXPOSE 8080
CMD ["partner-center", "serve", "--listen", "0.0.0.0:8080"]
