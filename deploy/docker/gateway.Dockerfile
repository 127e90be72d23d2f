# syntax=docker/dockerfile:1
# The Airwave gateway (no provider adapters): docker build -f deploy/docker/gateway.Dockerfile -t airwave-gateway .
# docs/deploy.md (Images). scripts/docker-base-image.sh makes the base where it cannot be pulled.

FROM node:24-bookworm-slim AS build
WORKDIR /src
# The lock file and every workspace's package.json first: the install layer is cached until they change.
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY services/package.json services/
COPY gateway/package.json gateway/
COPY web/package.json web/
COPY bench/package.json bench/
# --ignore-scripts: the image has Node 24; the `node` dev dependency would fetch it again.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY proto proto
COPY gateway gateway
COPY services services
COPY web web
RUN npx tsc -b proto/tsconfig.json proto/src/server/tsconfig.json gateway/tsconfig.json web/tsconfig.json && npm run build -w @airwave/web

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    AIRWAVE_HOST=0.0.0.0 \
    AIRWAVE_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY services/package.json services/
COPY gateway/package.json gateway/
COPY web/package.json web/
COPY bench/package.json bench/
# Production dependencies of the gateway and what it imports, nothing else.
RUN npm ci --omit=dev --no-audit --no-fund -w @airwave/gateway -w @airwave/proto -w @airwave/web \
 && npm cache clean --force
COPY --from=build /src/proto/dist proto/dist
COPY --from=build /src/gateway/dist gateway/dist
COPY --from=build /src/web/dist web/dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.AIRWAVE_PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (the gateway drains on it).
STOPSIGNAL SIGTERM
CMD ["node", "gateway/dist/main.js"]
