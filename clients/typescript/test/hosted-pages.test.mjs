// Forgot password in headless Chromium: twinid's login page → "Forgot your password?" →
// code read from the mail that an in-process SMTP server (nodemailer's smtp-server) received
// → new password → back to the application's sign-in → a code at the redirect URI.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { SMTPServer } from "smtp-server";
import { startTwinid, adminToken, api } from "./twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);

let tw, browser, smtp, app, appServer, redirect;
const mails = [];

before(async () => {
  if (!haveBrowser) return;
  // The application: it only has to answer at its redirect URI.
  appServer = createServer((_req, res) => { res.setHeader("content-type", "text/html"); res.end("<p>app</p>"); });
  await new Promise((ok) => appServer.listen(0, "127.0.0.1", ok));
  redirect = `http://127.0.0.1:${appServer.address().port}/callback`;
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ["STARTTLS"], logger: false,
    onData(stream, _session, done) {
      let raw = "";
      stream.on("data", (d) => { raw += d; });
      stream.on("end", () => { mails.push(raw); done(); });
    },
  });
  await new Promise((ok) => smtp.listen(0, "127.0.0.1", ok));
  const port = smtp.server.address().port;
  tw = await startTwinid("pages-admin", { TWINID_SMTP_URL: `smtp://127.0.0.1:${port}?tls=none` });
  const admin = await adminToken(tw);
  const c = await api(tw, admin, "POST", "/v1/accounts/root/clients", { name: "web", type: "confidential", redirectUris: [redirect] });
  app = c.body.clientId;
  await api(tw, admin, "POST", "/v1/accounts/root/customers/users", { email: "grace@example.com", password: "an old passphrase" });
  browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (tw) await tw.stop();
  if (smtp) await new Promise((ok) => smtp.close(ok));
  if (appServer) await new Promise((ok) => appServer.close(ok));
});

async function waitForMail(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (mails.length) return mails.shift();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no mail arrived");
}

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
  const mail = await waitForMail(15_000);
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
