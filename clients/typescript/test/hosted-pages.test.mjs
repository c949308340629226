// Forgot password in headless Chromium: twinid's login page → "Forgot your password?" →
// code read from the mail that an in-process SMTP server (nodemailer's smtp-server) received
// → new password → back to the application's sign-in → a code at the redirect URI.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { SMTPServer } from "smtp-server";
import { startTwinid, adminToken, api, startMailbox, chromiumArgs } from "./twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);

let tw, browser, mailbox, app, appServer, redirect;

before(async () => {
  if (!haveBrowser) return;
  // The application: it only has to answer at its redirect URI.
  appServer = createServer((_req, res) => { res.setHeader("content-type", "text/html"); res.end("<p>app</p>"); });
  await new Promise((ok) => appServer.listen(0, "127.0.0.1", ok));
  redirect = `http://127.0.0.1:${appServer.address().port}/callback`;
  mailbox = await startMailbox(SMTPServer);
  tw = await startTwinid("pages-admin", { TWINID_SMTP_URL: mailbox.smtpURL });
  const admin = await adminToken(tw);
  const c = await api(tw, admin, "POST", "/v1/accounts/root/clients", { name: "web", type: "confidential", redirectUris: [redirect] });
  app = c.body.clientId;
  await api(tw, admin, "POST", "/v1/accounts/root/customers/users", { email: "grace@example.com", password: "an old passphrase" });
  browser = await chromium.launch({
    executablePath,
    args: chromiumArgs,
  });
});

after(async () => {
  if (browser) await browser.close();
  if (tw) await tw.stop();
  if (mailbox) await mailbox.close();
  if (appServer) await new Promise((ok) => appServer.close(ok));
});


test("forgot password in the browser, with the code from the mail", { skip: !haveBrowser && "no chromium" }, async () => {
  const page = await browser.newPage();
  const authz = `${tw.baseUrl}/v1/accounts/root/auth/authorize?` + new URLSearchParams({
    response_type: "code", client_id: app, redirect_uri: redirect, scope: "openid", state: "s1",
  });
  await page.goto(authz);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByRole("button", { name: "Send the code" }).click();
  await page.getByText("a code is on its way").waitFor();
  const mail = await mailbox.next(15_000);
  const code = mail.replace(/=\r?\n/g, "").match(/\b\d{8}\b/)[0];
  await page.getByLabel("Code from the email").fill(code);
  await page.getByLabel("New password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.getByText("Your password is set").waitFor();
  await page.getByRole("link", { name: "Continue to sign in" }).click();
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${redirect}**`);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "s1");
  assert.ok(back.searchParams.get("code"));
});
