import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema.js";

export type { paths, components, operations } from "./schema.js";

/** A typed client for the twinid API; with a token, every request carries `Authorization: Bearer <token>`. */
export function createTwinidClient(baseUrl: string, token?: string): Client<paths> {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: token ? { Authorization: `Bearer ${token}` } : undefined,
  });
}
