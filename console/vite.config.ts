import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

// The console is served by twinid at /console/; the client generated from the OpenAPI
// document is compiled in from clients/typescript/src (its one dependency, openapi-fetch,
// resolved from here so the client package needs no install of its own).
export default defineConfig({
  base: "/console/",
  resolve: {
    alias: { "@twinid/client": fileURLToPath(new URL("../clients/typescript/src/index.ts", import.meta.url)) },
    dedupe: ["openapi-fetch"],
  },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false, assetsInlineLimit: 0 },
});
