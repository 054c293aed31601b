# syntax=docker/dockerfile:1.7
#
# camp-backend as one self-contained executable (`bun build --compile`) in a distroless image:
# no shell, no package manager, no curl, running as the unprivileged `nonroot` user (65532).
#   docker build -t camp-backend .
#   docker run --env-file .env.production -p 8000:8000 camp-backend            # serve
#   docker run --env-file .env.production camp-backend migrate                 # release step

ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS builder
WORKDIR /src
# Dependencies first so source edits reuse the cached install layer.
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle
COPY seed ./seed
# Docker says amd64/arm64; Bun's compile targets say x64/arm64.
ARG TARGETARCH=amd64
RUN case "${TARGETARCH}" in \
      amd64) bun_target=bun-linux-x64 ;; \
      arm64) bun_target=bun-linux-arm64 ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && bun build --compile --bytecode --format esm --minify-whitespace --minify-syntax --target "${bun_target}" \
      --external @electric-sql/pglite --external drizzle-orm/pglite \
      --root src src/cli/main.ts src/modules/analysis/engine-pool/worker.ts --outfile dist/camp-backend
# Writable folders for local storage and the embedded database, owned by the runtime user
# (the distroless image has no shell to create them).
RUN mkdir -p /out/uploads /out/data

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="camp-backend" \
      org.opencontainers.image.description="camp-backend API (Bun + Elysia + PostgreSQL)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
WORKDIR /app
COPY --from=builder --chown=65532:65532 /out/uploads /app/uploads
COPY --from=builder --chown=65532:65532 /out/data /app/data
COPY --from=builder /src/drizzle /app/drizzle
# Seed sets are plain files read at `seed` / start-up (analysis.md §6.3), found beside the binary.
COPY --from=builder /src/seed /app/seed
COPY --from=builder /src/dist/camp-backend /app/camp-backend
# Chart fonts (Noto Sans JP, OFL) as plain files beside the executable: resvg's native code reads
# fonts by path and cannot see files embedded in the compiled binary.
COPY assets/fonts /app/assets/fonts
# An image that reaches a server is production unless told otherwise, so it fails closed on
# missing configuration; docker-compose sets ENVIRONMENT=development for local work.
# NODE_ENV=production keeps the framework from pretty-printing failing values (O(depth²) on deep
# JSON); two workers let the primary replace one that exits (crash policy) while the other serves;
# Bun's own header limit sits above MAX_HEADER_BYTES so the app answers 431 as problem+json.
# JavaScriptCore sizes its heap growth from the host's RAM, not the container's memory limit, so
# on a large host an idle-looking process keeps tens of MB of garbage; 512 MiB (the smallest
# limit we deploy with) makes it collect as a 512 MiB machine would. It is not a heap cap.
ENV ENVIRONMENT=production \
    NODE_ENV=production \
    WORKERS=2 \
    BUN_OPTIONS=--max-http-header-size=65536 \
    HOST=0.0.0.0 \
    PORT=8000 \
    BUN_JSC_forceRAMSize=536870912 \
    VERSION=${VERSION}
EXPOSE 8000
USER nonroot
# The binary's own `healthcheck` subcommand calls GET /health, so no curl is needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/app/camp-backend", "healthcheck"]
ENTRYPOINT ["/app/camp-backend"]
CMD ["serve"]
