FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Production runs the TypeScript through tsx, a runtime dependency: no build step, no dev dependencies.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
# The generated-secrets volume mounts here; made now so a fresh volume belongs to the node user.
RUN mkdir -p /run/candor && chown node:node /run/candor
USER node
EXPOSE 3000
CMD ["npm", "start"]
