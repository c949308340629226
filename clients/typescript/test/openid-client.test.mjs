// panva's openid-client (a certified relying party library) against twinid: discovery,
// authorization code + PKCE (driving twinid's login form), UserInfo, refresh, introspection
// and revocation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";
import { startTwinid, adminToken, api } from "./twinid.mjs";

let tw, admin, app;
const redirect = "http://127.0.0.1:5173/callback";

before(async () => {
  tw = await startTwinid("oidc-admin");
  admin = await adminToken(tw);
  const c = await api(tw, admin, "POST", "/v1/accounts/root/clients", { name: "rp", type: "confidential", redirectUris: [redirect] });
  assert.equal(c.status, 201);
  const s = await api(tw, admin, "POST", `/v1/accounts/root/clients/${c.body.clientId}/secrets`, {});
  app = { id: c.body.clientId, secret: s.body.secret };
  const u = await api(tw, admin, "POST", "/v1/accounts/root/customers/users", {
    email: "ada@example.com", name: "Ada Lovelace", password: "correct horse battery", emailVerified: true,
  });
  assert.equal(u.status, 201);
});

after(async () => { if (tw) await tw.stop(); });

// signIn follows the authorization URL like a browser would, filling in the login form.
async function signIn(url, email, password) {
  let res = await fetch(url, { redirect: "manual" });
  assert.equal(res.status, 200);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const html = await res.text();
  const action = html.match(/<form method="post" action="([^"]+)">/)[1];
  const ar = html.match(/name="ar" value="([^"]+)"/)[1];
  res = await fetch(action, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ ar, email, password }),
  });
  assert.equal(res.status, 303);
  return new URL(res.headers.get("location"));
}

test("openid-client: discovery, code + PKCE, UserInfo, refresh, introspection, revocation", async () => {
  const config = await client.discovery(new URL(`${tw.baseUrl}/v1/accounts/root`), app.id, app.secret,
    client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
  assert.equal(config.serverMetadata().issuer, `${tw.baseUrl}/v1/accounts/root`);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: "openid email profile offline_access", state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const callback = await signIn(url, "ada@example.com", "correct horse battery");
  const tokens = await client.authorizationCodeGrant(config, callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  const claims = tokens.claims();
  assert.equal(claims.email, "ada@example.com");
  assert.ok(tokens.refresh_token, "a refresh token with offline_access");

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.name, "Ada Lovelace");

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, "rotated");

  const intro = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(intro.active, true);
  assert.equal(intro.sub, claims.sub);

  await client.tokenRevocation(config, refreshed.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), (e) => e.error === "invalid_grant");
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false);
});
