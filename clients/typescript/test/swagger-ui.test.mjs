// Swagger UI in headless Chromium: the page as a first visitor sees it; Authorize with client
// credentials (a refusal shows its error) and as a person, then "Try it out" on a management
// endpoint answers 200. Needs Debian's chromium (.ci/run installs it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { startTwinid, chromiumArgs } from "./twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);

let tw, browser;

before(async () => {
  if (!haveBrowser) return;
  tw = await startTwinid("swagger-admin");
  browser = await chromium.launch({
    executablePath,
    args: chromiumArgs,
  });
});

after(async () => {
  if (browser) await browser.close();
  if (tw) await tw.stop();
});

// tryListServiceAccounts closes the Authorize dialog and runs "Try it out" on
// GET /v1/accounts/root/service-accounts, which must answer 200.
async function tryListServiceAccounts(page) {
  await page.click("button.close-modal");
  const op = page.locator("#operations-ServiceAccounts-listServiceAccounts");
  await op.locator("button.opblock-summary-control").click();
  await op.locator("button.try-out__btn").click();
  await op.locator("input[placeholder=aid]").fill("root");
  await op.locator("button.execute").click();
  const status = op.locator(".live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 10_000 });
  assert.equal((await status.innerText()).trim(), "200");
  return op;
}

test("Swagger UI: twinid API, management first, read-only operations take .default", { skip: !haveBrowser && "no chromium" }, async () => {
  const page = await browser.newPage();
  await page.goto(`${tw.baseUrl}/swagger/`);
  await page.locator(".opblock-tag").first().waitFor();
  assert.equal(await page.title(), "twinid API");
  assert.match(await page.locator(".info .title").innerText(), /^twinid API/);
  const tags = await page.locator(".opblock-tag").allInnerTexts();
  const first = (name) => tags.findIndex((t) => t.startsWith(name));
  assert.equal(first("Accounts"), 0, `tags: ${tags}`);
  assert.ok(first("OAuth") > first("SigningKeys"), `the protocol tag is not after the management ones: ${tags}`);
  // The lock of a read-only operation offers .default, the scope Authorize preselects (it lists
  // the first of the operation's alternatives: .default, then read).
  const op = page.locator("#operations-ServiceAccounts-listServiceAccounts");
  await op.locator("button.authorization__btn").click();
  const cc = page.locator(".auth-container", { hasText: "clientCredentials" });
  await cc.locator("input#client_id_clientCredentials").waitFor();
  const offered = await page.locator(".modal-ux-content").innerText();
  assert.match(offered, /api:\/\/management\/\.default/);
  await page.close();
});

test("Swagger UI: Authorize with client credentials (a wrong secret shows its error), then Try it out", { skip: !haveBrowser && "no chromium" }, async () => {
  const page = await browser.newPage();
  await page.goto(`${tw.baseUrl}/swagger/`);
  await page.click("button.authorize");
  const cc = page.locator(".auth-container", { hasText: "clientCredentials" });
  const id = cc.locator("input#client_id_clientCredentials");
  // swagger-ui is the code flow's client only: nothing is pre-filled here.
  assert.equal(await id.inputValue(), "");
  await id.fill(tw.clientId);
  await cc.locator("input#client_secret_clientCredentials").fill("twid_wrong-secret");
  await cc.locator("input[type=checkbox]").first().check();
  const refused = page.waitForResponse((r) => r.url().endsWith("/v1/accounts/root/auth/token"));
  await cc.locator("button.authorize").click();
  assert.equal((await refused).status(), 401);
  // The dialog shows what twinid answered, and stays usable.
  await cc.locator(".errors").waitFor({ timeout: 10_000 });
  assert.match(await cc.locator(".errors").innerText(), /invalid_client/);
  await cc.locator("input#client_secret_clientCredentials").fill(tw.clientSecret);
  const tokenResponse = page.waitForResponse((r) => r.url().endsWith("/v1/accounts/root/auth/token"));
  await cc.locator("button.authorize").click();
  // Swagger UI called twinid's token endpoint itself (client credentials as HTTP Basic).
  assert.equal((await tokenResponse).status(), 200);
  const op = await tryListServiceAccounts(page);
  const body = await op.locator(".live-responses-table .microlight").first().innerText();
  assert.match(body, /"clientId": "swagger-admin"/);
  await page.close();
});

test("Swagger UI: Authorize as a person (code + PKCE, twinid's login page), then Try it out", { skip: !haveBrowser && "no chromium" }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${tw.baseUrl}/swagger/`);
  await page.click("button.authorize");
  const ac = page.locator(".auth-container", { hasText: "authorizationCode" });
  // The code flow's public client is pre-filled.
  assert.equal(await ac.locator("input#client_id_authorizationCode").inputValue(), "swagger-ui");
  await ac.locator("input[type=checkbox]").first().check();
  const popupOpened = context.waitForEvent("page");
  await ac.locator("button.authorize").click();
  // twinid's hosted login page opens in Swagger UI's popup.
  const popup = await popupOpened;
  await popup.waitForSelector("#email");
  assert.match(await popup.title(), /Sign in/);
  await popup.fill("#email", tw.adminEmail);
  await popup.fill("#password", tw.adminPassword);
  const tokenResponse = page.waitForResponse((r) => r.url().endsWith("/v1/accounts/root/auth/token"));
  await popup.click("button[type=submit]");
  // Back in Swagger UI, it exchanged the code (with its PKCE verifier) at the token endpoint.
  assert.equal((await tokenResponse).status(), 200);
  const op = await tryListServiceAccounts(page);
  await context.close();
});
