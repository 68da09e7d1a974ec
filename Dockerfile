# syntax=docker/dockerfile:1

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The test-only PostgreSQL binaries are dev dependencies; skip their install script here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
# The memory console (/ui) is bundled by the same build into dist/console.
COPY console ./console
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8888 \
    DATABASE_URL=pglite:///app/.data/memory
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8888
VOLUME ["/app/.data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8888)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# `npm start` would rebuild (prestart); the image is already built, so run what it runs.
CMD ["node", "dist/src/main.js"]
