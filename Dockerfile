# custom-exporter container image.
#
#   docker build -t custom-exporter:0.1.0 .
#   docker run --rm -p 9000:9000 --read-only custom-exporter:0.1.0
#
# Every stage starts from the same pinned Node 24 LTS image (Debian bookworm, slim). When you bump
# it, bump the tag in one place: this line.
FROM node:24.21.0-bookworm-slim AS base

# Build: all dependencies, TypeScript compiled to dist/.
FROM base AS build
WORKDIR /src
# Set only when building behind a TLS-intercepting proxy: the path of a CA bundle made available to
# RUN (for example with buildah/podman --volume). Not an image setting; the final stage never sees it.
ARG NODE_EXTRA_CA_CERTS
COPY package.json package-lock.json ./
# --ignore-scripts: no package needs an install script to build, and the `node` devDependency would
# otherwise download a second Node binary just to be discarded.
RUN npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM base AS deps
WORKDIR /app
ARG NODE_EXTRA_CA_CERTS
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --no-update-notifier --ignore-scripts \
 && npm cache clean --force

# Runtime: node, production node_modules, dist/ and package.json (the exporter reads its version there).
FROM base
ARG VERSION=0.1.0
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="custom-exporter" \
      org.opencontainers.image.description="Prometheus exporter that turns the numbers a team cares about into metrics, built on OpenTelemetry" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0"
# The exporter never runs a package manager: drop them (and their CVE reports) from the runtime image.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the runtime user; the exporter writes nothing to disk, so the
# container runs with a read-only root filesystem.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# A numeric non-root user (no passwd entry needed), the same uid/gid the Helm chart sets.
USER 65532:65532
EXPOSE 9000
# node is PID 1: the exporter handles SIGTERM itself (stops listening, finishes in-flight scrapes, exits).
STOPSIGNAL SIGTERM
# V8's young generation capped (as in package.json's start and dist/main.js' shebang): under sustained scraping V8
# would otherwise grow it to ~100 MiB of RSS that it keeps; with 8 MiB semi-spaces throughput is the same (bench/).
# glibc's malloc kept to two arenas: V8's background threads otherwise each keep an arena of freed memory
# (~2 MiB of idle RSS, bench/RESULTS.md).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/main.js"]
