# itinerant worker image.
#   docker build -t itinerant-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=host:7233 -e TEMPORAL_NAMESPACE=default \
#     -e ITINERANT_CONFIG=/config/fleet.yaml -v "$PWD/config:/config:ro" itinerant-worker
# The worker runs TypeScript directly with tsx (a runtime dependency), so there
# is no build step; dev dependencies are left out.
FROM node:20-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    ITINERANT_HOME=/home/node/.itinerant

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

RUN mkdir -p /home/node/.itinerant && chown -R node:node /home/node/.itinerant

USER node

CMD ["npx", "--no-install", "tsx", "src/workers/main.ts"]
