# syntax=docker/dockerfile:1
# The LeakWatch operator image: `leakwatch run` by default, any other subcommand as arguments.
#   docker build -t leakwatch:dev .
#   docker run --rm leakwatch:dev --help
# Three stages: build (all dependencies, compile TypeScript), deps (production dependencies only),
# runtime (distroless Node 24, no shell, no npm, non-root). test/unit/dockerfile.test.ts keeps these
# invariants. For releases, pin both base images by digest (FROM image:tag@sha256:…).

# ---- build: compile src/ to dist/ ---------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
# No lifecycle scripts: nothing here needs one (the `node` devDependency's preinstall only fetches a
# second Node binary, and the image's own Node 24 runs the build).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, exactly as locked ---------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /src
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
# --omit=dev: no compiler, test runner or linters in the image. --ignore-scripts: production
# dependencies must not need install scripts (a supply-chain rule of the project).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="leakwatch" \
      org.opencontainers.image.description="Kubernetes operator that catches memory leaks from pprof profiles" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module" (dist/ is ESM) and the version the CLI reports.
COPY --from=deps /src/package.json ./package.json
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY crds ./crds
# 65532 is distroless's "nonroot"; numeric, so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
CMD ["run"]
