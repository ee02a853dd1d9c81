import react from "@vitejs/plugin-react";
import type { ServerOptions } from "vite";
import { defineConfig } from "vitest/config";
import { deployedConfigPlugin, deployedSite, localStackUrl } from "./dev/backend.ts";
import { serviceWorkerPlugin } from "./pwa/plugin.ts";

// Node's, untyped here (the project has no @types/node): only CHAT_BACKEND and CHAT_PORT are read.
declare const process: { env: Record<string, string | undefined> };

// The build is static files: the local stack serves web/dist at `/`, and the CDK stack uploads it to S3.
export default defineConfig(({ command, mode }) => {
  // `npm run dev` talks to the local stack (`make dev`), or to a deployed one with CHAT_BACKEND=https://<WebUrl host>.
  // Read only by the dev server: a build or a test run ignores both (`CHAT_PORT=0 make dev` builds too).
  const devServer = command === "serve" && mode !== "test";
  const backend = devServer && process.env.CHAT_BACKEND?.trim() ? deployedSite(process.env.CHAT_BACKEND) : null;
  let server: ServerOptions = {};
  if (backend) {
    // The sign-in redirect must come back to an origin registered on the app client (devOrigins): another port
    // would not be, so a busy one stops the server instead of moving it.
    server = { strictPort: true };
  } else if (devServer) {
    // The WebSocket URL comes from /config.json, the rest is proxied to the local stack.
    const localStack = localStackUrl(process.env.CHAT_PORT);
    server = { proxy: { "/config.json": localStack, "/auth": localStack } };
  }
  return {
    plugins: [react(), serviceWorkerPlugin(), ...(backend ? [deployedConfigPlugin(backend)] : [])],
    build: {
      outDir: "dist",
      emptyOutDir: true,
      sourcemap: true,
      reportCompressedSize: true,
    },
    server,
    test: {
      include: ["src/**/*.test.ts", "src/**/*.test.tsx", "dev/**/*.test.ts", "pwa/**/*.test.ts"],
      environment: "node",
    },
  };
});
