# itinerant worker image: compiled once at build time, no TypeScript runner or bundler at run time.
#   docker build -t itinerant-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=host:7233 -e TEMPORAL_NAMESPACE=default \
#     -e ITINERANT_CONFIG=/config/fleet.yaml -v "$PWD/config:/config:ro" itinerant-worker
# Stage 1 compiles src/ with tsc (dist/) and bundles the workflows with bundleWorkflowCode (dist/workflow-bundle.js);
# stage 2 has production dependencies only. The worker loads the prebuilt bundle (ITINERANT_WORKFLOW_BUNDLE) and
# reports its start-up time in its first line. The same image serves the codec server:
#   docker run ... itinerant-worker node dist/cli/main.js codec-server --listen 0.0.0.0:8089
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build ./scripts/build
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    ITINERANT_HOME=/home/node/.itinerant \
    ITINERANT_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /home/node/.itinerant && chown -R node:node /home/node/.itinerant
USER node
EXPOSE 9464
CMD ["node", "dist/workers/main.js"]
