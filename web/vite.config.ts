import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build is static files: the local stack serves web/dist at `/`, and the CDK stack uploads it to S3.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` against `make dev`: the WebSocket URL comes from /config.json, the rest is proxied.
    proxy: {
      "/config.json": "http://127.0.0.1:8080",
      "/auth": "http://127.0.0.1:8080",
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
