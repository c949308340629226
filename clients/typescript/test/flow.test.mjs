// Drives the service-account flow through the generated client against a freshly built twinid.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTwinid } from "./twinid.mjs";
import { createTwinidClient } from "../dist/index.js";

let tw, baseUrl, clientId, clientSecret;

const tokenRequest = (uri, id, secret, scope) =>
  fetch(uri, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: "Basic " + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope }).toString(),
  });

before(async () => {
  tw = await startTwinid("ts-admin");
  ({ baseUrl, clientId, clientSecret } = tw);
});

after(async () => { if (tw) await tw.stop(); });

test("management call without a token is 401 problem+json", async () => {
  const { response, error } = await createTwinidClient(baseUrl).GET("/v1/accounts");
  assert.equal(response.status, 401);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.ok(error);
});

test("service-account flow through the generated client", async () => {
  const tr = await tokenRequest(`${baseUrl}/v1/accounts/root/auth/token`, clientId, clientSecret, "api://management/.default");
  assert.equal(tr.status, 200, await tr.clone().text());
  const { access_token: adminToken } = await tr.json();
  assert.ok(adminToken);
  const api = createTwinidClient(baseUrl, adminToken);

  let r = await api.POST("/v1/accounts", { body: { aid: "ts-tenant", name: "TS" } });
  assert.equal(r.response.status, 201, JSON.stringify(r.error));
  assert.equal(r.data.aid, "ts-tenant");

  const aid = { params: { path: { aid: "ts-tenant" } } };
  r = await api.POST("/v1/accounts/{aid}/scopes", {
    ...aid, body: { serviceName: "TS", audience: "api://ts", scope: "api://ts/.default" },
  });
  assert.equal(r.response.status, 201, JSON.stringify(r.error));

  r = await api.POST("/v1/accounts/{aid}/service-accounts", {
    ...aid, body: { name: "ts-worker", scopes: ["api://ts/.default"] },
  });
  assert.equal(r.response.status, 201, JSON.stringify(r.error));
  const sa = r.data;
  assert.equal(sa.grantType, "client_credentials");
  assert.ok(sa.tokenUri.endsWith("/v1/accounts/ts-tenant/auth/token"), sa.tokenUri);
  assert.equal(sa.scopes[0].serviceName, "TS");

  r = await api.POST("/v1/accounts/{aid}/service-accounts/{serviceAccountId}/secrets", {
    params: { path: { aid: "ts-tenant", serviceAccountId: sa.id } }, body: {},
  });
  assert.equal(r.response.status, 201, JSON.stringify(r.error));
  const { secret } = r.data;
  assert.ok(secret.startsWith("twid_"));

  r = await api.GET("/v1/accounts/{aid}/service-accounts", aid);
  assert.equal(r.response.status, 200, JSON.stringify(r.error));
  assert.ok(r.data.items.some((x) => x.id === sa.id && x.clientId === sa.clientId));

  const ok = await tokenRequest(sa.tokenUri, sa.clientId, secret, "api://ts/.default");
  assert.equal(ok.status, 200, await ok.clone().text());
  const tok = await ok.json();
  assert.equal(tok.token_type, "Bearer");
  assert.equal(tok.scope, "api://ts/.default");
  assert.ok(tok.access_token);

  const bad = await tokenRequest(sa.tokenUri, sa.clientId, secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"), "api://ts/.default");
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error, "invalid_client");
});
