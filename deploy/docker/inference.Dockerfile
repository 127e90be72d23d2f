# syntax=docker/dockerfile:1
# The Airwave inference service (the provider adapters and the simulator):
# docker build -f deploy/docker/inference.Dockerfile -t airwave-inference .
# docs/deploy.md (Images). scripts/docker-base-image.sh makes the base where it cannot be pulled.

FROM node:24-bookworm-slim AS build
WORKDIR /src
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
COPY services services
RUN npx tsc -b proto/tsconfig.json proto/src/server/tsconfig.json services/tsconfig.json

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    AIRWAVE_SERVICES_HOST=0.0.0.0 \
    AIRWAVE_SERVICES_PORT=50051 \
    AIRWAVE_SERVICES_METRICS_PORT=9464
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY services/package.json services/
COPY gateway/package.json gateway/
COPY web/package.json web/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund -w @airwave/services -w @airwave/proto && npm cache clean --force
COPY --from=build /src/proto/dist proto/dist
COPY --from=build /src/services/dist services/dist
USER node
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s \
  CMD ["node", "-e", "require('node:net').connect(Number(process.env.AIRWAVE_SERVICES_PORT || 50051), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "services/dist/main.js"]
