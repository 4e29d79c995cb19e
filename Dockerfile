# PromptGate in a container: `docker build -t promptgate .` (compose.yaml runs two replicas of it
# behind a load balancer, on PostgreSQL and Redis). Three stages: a full install that builds the
# console and the server's bundle; the production dependencies alone (npm ci --omit=dev); and the
# image, which holds those, the server's bundle (dist/server.mjs, what `npm start` runs), the built
# console, and the sources the admin CLI and the migrations run through tsx; run as `node`.

# --- 1. build: every dependency, then the console (console/dist) and the server (dist/) -----------
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY console/package.json console/
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-console.mjs --force && node --import tsx scripts/build-server.ts

# --- 2. production dependencies only ------------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY console/package.json console/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- 3. the image -------------------------------------------------------------------------------
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    PORT=4000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node server ./server
COPY --chown=node:node scripts/migrate.ts ./scripts/migrate.ts
COPY --chown=node:node sdk/package.json ./sdk/package.json
COPY --from=build --chown=node:node /app/console/dist ./console/dist
COPY --from=build --chown=node:node /app/dist ./dist
# The embedded SQLite file lives here when DATABASE_URL is not set (mount a volume to keep it).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4000
# /ready asks the database (and Redis when configured): 503 while either is down. No curl in the
# slim image: Node's fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Not `npm start`: it would try to rebuild the console and the bundle, and npm would stand between
# the signals (SIGTERM: finish the requests in flight, then stop) and the server.
CMD ["node", "--enable-source-maps", "dist/server.mjs"]
