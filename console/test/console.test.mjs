// The admin console in Debian's Chromium, as a person uses it: sign in on twinid's login page,
// create an account, a scope, a service account and its secret, get a token with that
// secret by curl, invite a customer who accepts from the mail, and look at every screen.
// Each screen is saved as a screenshot in console/test-results/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { startTwinid, adminToken, api, startMailbox, chromiumArgs } from "../../clients/typescript/test/twinid.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`no browser at ${executablePath}`);
const shots = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
const readerPassword = "a reader's long passphrase";

let tw, browser, mailbox;

before(async () => {
  if (!haveBrowser) return;
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  mailbox = await startMailbox(SMTPServer);
  tw = await startTwinid("console-admin", { TWINID_SMTP_URL: mailbox.smtpURL });
  // A second person who may only read.
  const admin = await adminToken(tw);
  const r = await api(tw, admin, "POST", "/v1/accounts/root/customers/users",
    { email: "reader@example.com", password: readerPassword, scopes: ["api://management/read"] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  // Enough customers in root for a second page (20 a page).
  for (let i = 0; i < 22; i++) {
    const c = await api(tw, admin, "POST", "/v1/accounts/root/customers/users", { email: `p${String(i).padStart(2, "0")}@example.com`, password: readerPassword });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
  browser = await chromium.launch({
    executablePath,
    args: chromiumArgs,
  });
});

after(async () => {
  // The page as it was when a step failed.
  if (current && !current.isClosed()) await current.screenshot({ path: join(shots, "last.png"), fullPage: true }).catch(() => {});
  if (browser) await browser.close();
  if (tw) await tw.stop();
  if (mailbox) await mailbox.close();
});


// go.mail sends quoted-printable: join soft line breaks and decode =XX.
const unQP = (s) => s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));

// shot saves the page, whole, or only the window while a dialog covers it.
async function shot(page, name) {
  await page.waitForLoadState("networkidle");
  const open = await page.getByRole("dialog").count();
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: open === 0 });
}

let current;
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  current = page;
  const problems = [];
  // Failed requests the test makes on purpose (a 422 shown next to a field) are not page errors.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text()); });
  page.on("response", (r) => { if (r.status() === 404) problems.push(`404 ${r.url()}`); });
  page.on("pageerror", (e) => problems.push(String(e)));
  return { page, context, problems };
}

async function signIn(page, email, password) {
  await page.goto(`${tw.baseUrl}/console/`);
  await page.getByRole("button", { name: "Sign in with twinid" }).click();
  await page.waitForSelector("#email");
  assert.match(await page.title(), /Sign in/);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

const dialog = (page) => page.getByRole("dialog");

test("an administrator manages twinid in the console", { skip: !haveBrowser && "no chromium" }, async () => {
  const { page, context, problems } = await newPage();
  await page.goto(`${tw.baseUrl}/console/`);
  const res = await page.request.get(`${tw.baseUrl}/console/`);
  assert.match(res.headers()["content-security-policy"], /^default-src 'self'/);
  await shot(page, "01-sign-in");

  await signIn(page, tw.adminEmail, tw.adminPassword);
  await page.getByRole("heading", { name: "Accounts" }).waitFor();
  await page.getByRole("cell", { name: /Root/ }).waitFor();
  await shot(page, "02-accounts");

  // An account: a wrong id is refused with the message next to the field.
  await page.getByRole("button", { name: "Create account" }).first().click();
  await dialog(page).getByLabel("Name").fill("Tenant A");
  await dialog(page).getByLabel("Account id").fill("Not An Id");
  await dialog(page).getByRole("button", { name: "Create account" }).click();
  const aidError = dialog(page).locator("#err-aid");
  await aidError.waitFor();
  assert.ok((await aidError.innerText()).length > 0);
  await shot(page, "03-account-field-error");
  await dialog(page).getByLabel("Account id").fill("tenant-a");
  await dialog(page).getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Tenant A" }).waitFor();
  await shot(page, "04-account-settings");

  // Edit a setting.
  await page.getByRole("button", { name: "Edit settings" }).click();
  await dialog(page).getByLabel("Email sender name").fill("Tenant A support");
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await page.getByText("Tenant A support").waitFor();

  // A scope.
  await page.getByRole("link", { name: "Scopes" }).click();
  await page.getByRole("heading", { name: "Scopes" }).waitFor();
  await page.getByRole("cell", { name: "api://management/.default built in" }).waitFor();
  await page.getByRole("button", { name: "Create scope" }).first().click();
  await dialog(page).getByLabel("Service name").fill("Orders");
  await dialog(page).getByLabel("Audience").fill("api://orders");
  await dialog(page).getByLabel("Scope", { exact: true }).fill("api://orders/.default");
  await dialog(page).getByLabel("Description").fill("Everything on the orders API");
  await dialog(page).getByRole("button", { name: "Create scope" }).click();
  await page.getByRole("cell", { name: "api://orders/.default" }).waitFor();
  await shot(page, "05-scopes");

  // A service account with that scope, and a secret.
  await page.getByRole("link", { name: "Service accounts" }).click();
  await page.getByText("No service accounts").waitFor();
  await shot(page, "06-service-accounts-empty");
  await page.getByRole("button", { name: "Create service account" }).first().click();
  await dialog(page).getByLabel("Name").fill("order-worker");
  await dialog(page).getByLabel("api://orders/.default (Orders)").check();
  await dialog(page).getByRole("button", { name: "Create service account" }).click();
  await page.getByRole("heading", { name: "order-worker" }).waitFor();
  await page.getByText("No secrets").waitFor();
  await page.getByRole("button", { name: "Create secret" }).first().click();
  await dialog(page).getByLabel("Description").fill("for curl");
  await dialog(page).getByRole("button", { name: "Create secret" }).click();
  const secret = await dialog(page).getByLabel("Secret").inputValue();
  assert.match(secret, /^twid_[0-9A-Za-z]{43}$/);
  await shot(page, "07-secret-shown-once");
  await dialog(page).getByRole("button", { name: "I have stored it" }).click();
  await page.getByRole("cell", { name: `twid_…${secret.slice(-4)}` }).waitFor();
  await page.getByRole("cell", { name: "never" }).first().waitFor();
  await shot(page, "08-service-account");
  const clientId = (await page.locator(".details dd code").first().innerText()).trim();

  // A token with that secret, by curl.
  const out = execFileSync("curl", ["-sS", "-u", `${clientId}:${secret}`, "-d", "grant_type=client_credentials",
    "-d", "scope=api://orders/.default", `${tw.baseUrl}/v1/accounts/tenant-a/auth/token`], { encoding: "utf8" });
  const tok = JSON.parse(out);
  assert.equal(tok.token_type, "Bearer", out);
  assert.equal(tok.scope, "api://orders/.default");
  // The list now shows when the secret was last used.
  await page.reload();
  await page.getByRole("cell", { name: "for curl" }).waitFor();

  // A client with a redirect URI and a grant with an upstream oidc block.
  await page.getByRole("link", { name: "Clients" }).click();
  await page.getByRole("button", { name: "Create client" }).first().click();
  await dialog(page).getByLabel("Name").fill("Web shop");
  await dialog(page).getByLabel("Type").selectOption("confidential");
  await dialog(page).getByLabel("Redirect URIs", { exact: true }).fill("not a url");
  await dialog(page).getByRole("button", { name: "Create client" }).click();
  await dialog(page).locator("#err-redirectUris").filter({ hasText: /./ }).waitFor();
  await dialog(page).getByLabel("Redirect URIs", { exact: true }).fill("https://shop.example.com/callback");
  await dialog(page).getByLabel("Allowed origins (CORS)").fill("https://shop.example.com");
  await dialog(page).getByRole("button", { name: "Create client" }).click();
  await page.getByRole("heading", { name: "Web shop" }).waitFor();
  await page.getByRole("definition").getByText("https://shop.example.com", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Add grant" }).first().click();
  await dialog(page).getByLabel("Audience").fill("api://orders");
  await dialog(page).getByLabel("api://orders/.default (Orders)").check();
  await dialog(page).getByLabel("Upstream OpenID provider").fill("https://login.example.com");
  await dialog(page).getByLabel("Upstream client id").fill("shop-at-upstream");
  await dialog(page).getByLabel("Upstream client secret").fill("upstream secret value");
  await shot(page, "09-grant-dialog");
  await dialog(page).getByRole("button", { name: "Add grant" }).click();
  await page.getByText("client shop-at-upstream, secret set").waitFor();
  await shot(page, "09-client");
  await page.getByRole("link", { name: "Clients", exact: true }).first().click();
  await page.getByRole("cell", { name: "Web shop" }).waitFor();
  await shot(page, "09-clients");

  // Customers: empty, invite, accept from the mail, search, disable, unlock.
  await page.getByRole("link", { name: "Customers" }).click();
  await page.getByText("No customers yet").waitFor();
  await shot(page, "10-customers-empty");
  await page.getByRole("button", { name: "Create or invite" }).first().click();
  await dialog(page).getByLabel("Email").fill("ada@example.com");
  await dialog(page).getByLabel("Name").fill("Ada Lovelace");
  await dialog(page).getByRole("button", { name: "Create customer" }).click();
  await page.getByRole("cell", { name: "invited" }).waitFor();
  const mail = unQP(await mailbox.next(15_000));
  const link = mail.match(/https?:\/\/[^\s"<>]+accept-invitation[^\s"<>]*/)[0].replace(/&amp;/g, "&");
  const invitee = await context.newPage();
  await invitee.goto(link);
  await invitee.getByLabel("New password").fill("Ada's own passphrase");
  await invitee.getByRole("button", { name: "Set the password" }).click();
  await invitee.getByText("Your password is set").waitFor();
  await invitee.close();
  await page.getByRole("searchbox", { name: "Search customers" }).fill("ADA");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("cell", { name: "active" }).waitFor();
  await shot(page, "11-customers");
  await page.getByRole("button", { name: "Edit" }).click();
  await dialog(page).getByLabel("Name").fill("Ada King");
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await page.getByText("Ada King").waitFor();
  await page.getByRole("button", { name: "Disable" }).click();
  await dialog(page).getByRole("button", { name: "Disable" }).click();
  await page.getByRole("cell", { name: "disabled" }).waitFor();
  await page.getByRole("button", { name: "Unlock" }).click();
  await page.getByText("ada@example.com is unlocked").waitFor();
  await page.getByRole("searchbox", { name: "Search customers" }).fill("nobody");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByText("No customer matches").waitFor();

  // Signing keys and rotation.
  await page.getByRole("link", { name: "Signing keys" }).click();
  await page.getByRole("cell", { name: "active" }).first().waitFor();
  await page.getByRole("button", { name: "Rotate now" }).first().click();
  await dialog(page).getByRole("button", { name: "Rotate" }).click();
  await page.getByRole("cell", { name: "next" }).first().waitFor();
  await shot(page, "12-signing-keys");

  // The audit trail of the account: what this session did, filtered by type and by actor.
  await page.getByRole("link", { name: "Events" }).click();
  await page.getByRole("heading", { name: "Events" }).waitFor();
  for (const type of ["scope.created", "service_account.created", "secret.created", "client.created", "grant.created",
    "invitation.sent", "invitation.accepted", "customer.disabled", "customer.unlocked", "signing_key.rotated"]) {
    await page.getByRole("cell", { name: new RegExp(`^${type.replace(".", "\\.")}\\s+success`) }).first().waitFor();
  }
  await shot(page, "13-events");
  await page.getByLabel("Event type").selectOption("secret.created");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("Page 1 · 1 shown").waitFor();
  await page.getByRole("cell", { name: "person" }).getByRole("link").click();
  await page.getByText("Page 1 · 1 shown").waitFor();
  assert.notEqual(await page.getByLabel("Actor id").inputValue(), "");
  await page.getByLabel("Event type").selectOption("account.deleted");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("No event matches").waitFor();

  // The secret's list shows when curl used it (twinid writes lastUsedAt in batches every 30 s).
  await page.getByRole("link", { name: "Service accounts" }).click();
  await page.getByRole("link", { name: "order-worker" }).click();
  for (const deadline = Date.now() + 40_000; ;) {
    await page.getByRole("cell", { name: "for curl" }).waitFor();
    if (await page.locator("tbody tr").first().locator("td").nth(5).locator("time").count()) break;
    assert.ok(Date.now() < deadline, "lastUsedAt never shown");
    await new Promise((r) => setTimeout(r, 2000));
    await page.reload();
  }

  // Something that does not exist: the error says what to do.
  await page.goto(`${tw.baseUrl}/console/#/a/tenant-a/service-accounts/no-such-id`);
  await page.getByText("Go back to the list").waitFor();
  await shot(page, "14-not-found");
  await page.getByRole("button", { name: "Back to the list" }).click();
  await page.getByRole("cell", { name: "order-worker" }).waitFor();

  // Signing out ends the session at twinid too and comes back to the console.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in with twinid" }).click();
  await page.waitForSelector("#email");

  assert.deepEqual(problems.filter((p) => !p.includes("/no-such-id")), []);
  await context.close();
});

test("a read-only administrator sees no write buttons", { skip: !haveBrowser && "no chromium" }, async () => {
  const { page, context, problems } = await newPage();
  await signIn(page, "reader@example.com", readerPassword);
  await page.getByText("Read-only").waitFor();
  await page.getByRole("cell", { name: /Root/ }).waitFor();
  for (const [section, heading] of [["scopes", "Scopes"], ["service-accounts", "Service accounts"], ["clients", "Clients"],
    ["customers", "Customers"], ["signing-keys", "Signing keys"], ["events", "Events"], ["", "Root"]]) {
    await page.goto(`${tw.baseUrl}/console/#/a/root${section ? "/" + section : ""}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    await page.locator(".card").first().waitFor();
    await page.waitForLoadState("networkidle");
    const writes = await page.getByRole("button", { name: /^(Create|Edit|Delete|Rotate|Add|Disable|Unlock|Remove)/ }).count();
    assert.equal(writes, 0, `write buttons on ${section || "settings"}`);
  }
  // Lists page with the API's cursors: 24 customers are 20 and 4, and back.
  await page.goto(`${tw.baseUrl}/console/#/a/root/customers`);
  await page.getByText("Page 1 · 20 shown").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Page 2 · 4 shown").waitFor();
  assert.ok(await page.getByRole("button", { name: "Next" }).isDisabled());
  await page.getByRole("button", { name: "Previous" }).click();
  await page.getByText("Page 1 · 20 shown").waitFor();

  await page.goto(`${tw.baseUrl}/console/#/a/root/service-accounts`);
  await page.getByRole("cell", { name: "console-admin" }).waitFor();
  await shot(page, "15-read-only");
  await page.getByRole("link", { name: "admin", exact: true }).click();
  await page.getByRole("cell", { name: "bootstrap" }).waitFor();
  assert.equal(await page.getByRole("button", { name: /^(Create|Edit|Delete)/ }).count(), 0, "write buttons on a service account");
  assert.deepEqual(problems, []);
  await context.close();
});
