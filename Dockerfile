# syntax=docker/dockerfile:1
# Identity Doctor as a container image: the same HTTP service as on Azure Functions, from the same esbuild bundle
# (dist/bundle/server.mjs, as `npm run serve` runs it), plus the identity-doctor CLI, on Node 22, as a non-root user,
# with production dependencies only.
#
#   docker build -t identity-doctor .
#   docker run -p 8080:8080 -e DIAGNOSE_API_KEY="$(openssl rand -base64 32)" -e DIAGNOSE_TARGETS='[…]' identity-doctor
#   docker run --rm -e DIAGNOSE_TARGETS='[…]' identity-doctor dist/src/cli/main.js diagnose      # the CLI, once
#
# Off Functions no platform checks a function key: the server refuses to listen on 0.0.0.0 (the default here) unless
# DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE is set, and then requires that key on /api/diagnose. Probes: liveness
# GET /api/health/live, readiness GET /api/health (both anonymous). test/unit/image.test.ts holds this file to that.

# 1. Compile and bundle: the dev dependencies (TypeScript, esbuild) live and die in this stage. The bundle starts
#    faster than tsc's ~1,500 files (docs/performance.md, P4); tsc's output stays for the CLI.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.image.json ./
COPY src ./src
COPY scripts/bundle.ts ./scripts/
RUN npx tsc -p tsconfig.image.json
RUN node dist/scripts/bundle.js

# 2. Production dependencies only.
FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# 3. The image: distroless Node 22 — no shell, no package manager — running as the unprivileged "nonroot" user.
FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/bundle ./dist/bundle
COPY package.json ./
USER 65532:65532
EXPOSE 8080
# No curl in a distroless image: node itself asks the liveness route.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/api/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["dist/bundle/server.mjs"]
