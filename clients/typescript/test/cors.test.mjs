// CORS in headless Chromium: a single-page app served from a second loopback origin, which
// a client of the account lists in allowedOrigins, logs a customer in with fetch and
// refreshes the tokens; it signs in through an upstream provider, posting the code with the
// login cookie (credentials "include"); the same script from an unregistered origin is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { startTwinid, adminToken, api, launchChromium } from "./twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);

const aud = "https://api.example.com";
let tw, browser, spa, stranger, clientToken, upstreamSpa;

// A static "app": every path answers an empty page of that origin.
async function serve() {
  const s = createServer((_req, res) => { res.setHeader("content-type", "text/html"); res.end("<!doctype html><title>app</title><p>app</p>"); });
  await new Promise((ok) => s.listen(0, "127.0.0.1", ok));
  return { server: s, origin: `http://127.0.0.1:${s.address().port}` };
}

async function must(r, status, what) {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

before(async () => {
  if (!haveBrowser) return;
  spa = await serve();
  stranger = await serve();
  tw = await startTwinid("cors-admin");
  const admin = await adminToken(tw);
  const redirect = `${spa.origin}/callback`;
  await must(await api(tw, admin, "POST", "/v1/accounts", { aid: "shop", name: "Shop" }), 201, "account");
  await must(await api(tw, admin, "POST", "/v1/accounts", { aid: "idp", name: "Upstream" }), 201, "upstream account");
  // The login client (its token is what the SPA's backend hands the SPA) and the SPA's own client.
  const login = await must(await api(tw, admin, "POST", "/v1/accounts/shop/clients", { name: "login", type: "confidential" }), 201, "login client");
  const secret = (await must(await api(tw, admin, "POST", `/v1/accounts/shop/clients/${login.clientId}/secrets`, {}), 201, "secret")).secret;
  await must(await api(tw, admin, "POST", "/v1/accounts/shop/grants", { clientId: login.clientId, audience: aud, type: "client_credentials",
    scopes: ["accounts:auth:users", "create:accounts:auth:refresh_token", "customer_customers:read"] }), 201, "grant");
  upstreamSpa = (await must(await api(tw, admin, "POST", "/v1/accounts/shop/clients", { name: "spa", type: "public",
    redirectUris: [redirect], allowedOrigins: [spa.origin] }), 201, "spa client")).clientId;
  await must(await api(tw, admin, "POST", "/v1/accounts/shop/customers/users", { email: "ada@example.com", password: "correct horse battery",
    scopes: ["customer_customers:read"] }), 201, "customer");
  // The upstream provider is another account of the same twinid.
  const up = await must(await api(tw, admin, "POST", "/v1/accounts/idp/clients", { name: "shop", type: "confidential", redirectUris: [redirect] }), 201, "upstream client");
  const upSecret = (await must(await api(tw, admin, "POST", `/v1/accounts/idp/clients/${up.clientId}/secrets`, {}), 201, "upstream secret")).secret;
  await must(await api(tw, admin, "POST", "/v1/accounts/idp/customers/users", { email: "grace@example.com", password: "upstream passphrase",
    emailVerified: true }), 201, "upstream customer");
  await must(await api(tw, admin, "POST", "/v1/accounts/shop/grants", { clientId: upstreamSpa, audience: aud, type: "authorization_code",
    scopes: ["customer_customers:read"], oidc: { authority: `${tw.baseUrl}/v1/accounts/idp/.well-known/openid-configuration`,
      clientId: up.clientId, clientSecret: upSecret } }), 201, "upstream grant");
  const res = await fetch(`${tw.baseUrl}/v1/accounts/shop/auth/token`, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from(`${login.clientId}:${secret}`).toString("base64") },
    body: new URLSearchParams({ grant_type: "client_credentials", audience: aud }),
  });
  assert.equal(res.status, 200);
  clientToken = (await res.json()).access_token;
  browser = await launchChromium(executablePath);
});

after(async () => {
  if (browser) await browser.close();
  if (tw) await tw.stop();
  for (const s of [spa, stranger]) if (s) await new Promise((ok) => s.server.close(ok));
});

// The app's script: log in with fetch (a JSON POST with Authorization, so preflighted), then
// refresh; it answers what a script of its origin could read.
const loginScript = async ({ base, clientToken, aud }) => {
  const post = (path, body) => fetch(`${base}/v1/accounts/shop${path}`, {
    method: "POST", credentials: "include",
    headers: { "content-type": "application/json", authorization: `Bearer ${clientToken}` }, body: JSON.stringify(body),
  });
  try {
    const r = await post("/customers/login", { email: "ada@example.com", password: "correct horse battery", audience: aud });
    const tok = await r.json();
    const again = await post("/auth/token", { grant_type: "refresh_token", refresh_token: tok.refresh_token });
    const bad = await post("/customers/login", { email: "ada@example.com", password: "wrong", audience: aud });
    return { ok: true, status: r.status, access: !!tok.access_token, refreshed: again.status, badStatus: bad.status,
      badError: (await bad.json()).error, requestId: r.headers.get("x-request-id") };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
};

test("an SPA on a registered origin logs a customer in with fetch; an unregistered origin is refused", { skip: !haveBrowser && "no chromium" }, async () => {
  const page = await browser.newPage();
  const refused = [];
  page.on("console", (m) => { if (/CORS/i.test(m.text())) refused.push(m.text()); });
  await page.goto(`${spa.origin}/`);
  const got = await page.evaluate(loginScript, { base: tw.baseUrl, clientToken, aud });
  assert.equal(got.ok, true, got.error);
  assert.equal(got.status, 200);
  assert.equal(got.access, true);
  assert.equal(got.refreshed, 200);
  // Errors are readable too, and the exposed headers.
  assert.equal(got.badStatus, 400);
  assert.equal(got.badError, "invalid_grant");
  assert.ok(got.requestId, "X-Request-Id is exposed");
  assert.deepEqual(refused, []);

  const other = await browser.newPage();
  await other.goto(`${stranger.origin}/`);
  const no = await other.evaluate(loginScript, { base: tw.baseUrl, clientToken, aud });
  assert.equal(no.ok, false);
  assert.match(no.error, /TypeError: Failed to fetch/);
});

test("the upstream login's cookie reaches the token endpoint from the registered SPA", { skip: !haveBrowser && "no chromium" }, async () => {
  const page = await browser.newPage();
  const redirect = `${spa.origin}/callback`;
  await page.goto(`${tw.baseUrl}/v1/accounts/shop/auth/oidc/authorize?` + new URLSearchParams({
    client_id: upstreamSpa, response_type: "code", scope: "openid email", state: "st", redirect_uri: redirect, audience: aud,
  }));
  // The upstream provider's sign-in page, then back to the SPA with a code.
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("Password").fill("upstream passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${redirect}**`);
  const code = new URL(page.url()).searchParams.get("code");
  assert.ok(code);
  const exchange = async ({ base, body, credentials }) => {
    const r = await fetch(`${base}/v1/accounts/shop/auth/oidc/token`, {
      method: "POST", credentials, headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  const body = { grant_type: "authorization_code", code, client_id: upstreamSpa, redirect_uri: redirect, audience: aud };
  // Without the cookie the code is not this browser's; with it (credentials "include") it is.
  const without = await page.evaluate(exchange, { base: tw.baseUrl, body, credentials: "omit" });
  assert.equal(without.status, 400, JSON.stringify(without.body));
  const withCookie = await page.evaluate(exchange, { base: tw.baseUrl, body, credentials: "include" });
  assert.equal(withCookie.status, 200, JSON.stringify(withCookie.body));
  assert.ok(withCookie.body.access_token);
});
