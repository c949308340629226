// Passkeys in headless Chromium with the DevTools virtual authenticator (a platform
// authenticator with user verification and resident keys): sign in with the password,
// enrol a passkey on twinid's factors page, sign out, sign in passwordless with it, then
// sign in with the password and the passkey as the second step. The ID tokens say how.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { startTwinid, adminToken, api, launchChromium } from "./twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);

let tw, browser, appServer, redirect, app, appSecret;

before(async () => {
  if (!haveBrowser) return;
  appServer = createServer((_req, res) => { res.setHeader("content-type", "text/html"); res.end("<p>app</p>"); });
  await new Promise((ok) => appServer.listen(0, "127.0.0.1", ok));
  redirect = `http://127.0.0.1:${appServer.address().port}/callback`;
  tw = await startTwinid("passkey-admin", {}, "localhost");
  const admin = await adminToken(tw);
  const c = await api(tw, admin, "POST", "/v1/accounts/root/clients", { name: "web", type: "confidential", redirectUris: [redirect] });
  app = c.body.clientId;
  appSecret = (await api(tw, admin, "POST", `/v1/accounts/root/clients/${app}/secrets`, {})).body.secret;
  const cu = await api(tw, admin, "POST", "/v1/accounts/root/customers/users", { email: "ada@example.com", password: "correct horse battery" });
  assert.equal(cu.status, 201);
  browser = await launchChromium(executablePath);
});

after(async () => {
  if (browser) await browser.close();
  if (tw) await tw.stop();
  if (appServer) await new Promise((ok) => appServer.close(ok));
});

/** idToken exchanges the code at the redirect the page arrived at and decodes the ID token. */
async function idToken(page, state) {
  await page.waitForURL(`${redirect}**`);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), state);
  const res = await fetch(`${tw.baseUrl}/v1/accounts/root/auth/token`, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from(`${app}:${appSecret}`).toString("base64") },
    body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code"), redirect_uri: redirect }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { id_token: idt } = await res.json();
  return JSON.parse(Buffer.from(idt.split(".")[1], "base64url").toString());
}

const authorize = (state) => `${tw.publicUrl}/v1/accounts/root/auth/authorize?` + new URLSearchParams({
  response_type: "code", client_id: app, redirect_uri: redirect, scope: "openid email", state,
});

test("enrol a passkey, sign in passwordless, and with password + passkey", { skip: !haveBrowser && "no chromium" }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  // Script errors and refused resources (CSP), except the browser's own favicon request.
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => { if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`${r.status()} ${r.url()}`); });
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });

  // 1. Password sign-in, then the factors page: add a passkey.
  await page.goto(authorize("s1"));
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  let id = await idToken(page, "s1");
  assert.deepEqual(id.amr, ["pwd"]);
  await page.goto(`${tw.publicUrl}/v1/accounts/root/auth/factors`);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await page.getByRole("button", { name: "Create the passkey" }).click();
  await page.getByText("Your recovery codes").waitFor();
  assert.equal(await page.locator("#recovery-codes li").count(), 10);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, "localhost");
  const listed = await api(tw, await adminToken(tw), "GET",
    `/v1/accounts/root/customers/users/${id.sub}/factors`);
  assert.deepEqual(listed.body.items.map((f) => f.type).sort(), ["recovery_codes", "webauthn"]);
  assert.ok(!JSON.stringify(listed.body).includes(credentials[0].privateKey));

  // 2. Sign out (the session cookie goes), then passwordless with the passkey.
  await context.clearCookies();
  await page.goto(authorize("s2"));
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  id = await idToken(page, "s2");
  assert.equal(id.email, "ada@example.com");
  assert.deepEqual(id.amr, ["hwk", "user", "mfa"]);
  assert.equal(id.acr, "urn:twinid:acr:mfa");

  // 3. Password, then the passkey as the second step.
  await context.clearCookies();
  await page.goto(authorize("s3"));
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Use your passkey" }).click();
  id = await idToken(page, "s3");
  assert.deepEqual(id.amr, ["pwd", "hwk", "user", "mfa"]);

  // The counter moved on every use, and the script ran under the CSP without errors.
  const after = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials[0];
  assert.ok(after.signCount >= 3, `sign count ${after.signCount}`);
  assert.deepEqual(errors, []);
  await context.close();
});
