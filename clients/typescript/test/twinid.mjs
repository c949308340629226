// Starts a freshly built twinid on a free loopback port for the node tests, and stops it.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomInt } from "node:crypto";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer().once("error", fail);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
  });

/**
 * startTwinid builds and starts twinid with fixed bootstrap credentials (a service account and a person).
 * publicHost names twinid in its public URL (publicUrl); the API calls of the tests use baseUrl, on
 * 127.0.0.1. Passkeys need a host name: WebAuthn refuses an IP address as the relying party.
 */
export async function startTwinid(clientId, extraEnv = {}, publicHost = "127.0.0.1") {
  const clientSecret = "twid_" + Array.from({ length: 43 }, () => base62[randomInt(62)]).join("");
  const adminEmail = "admin@example.com";
  const adminPassword = "admin " + Array.from({ length: 20 }, () => base62[randomInt(62)]).join("");
  const tmp = mkdtempSync(join(tmpdir(), "twinid-node-"));
  const bin = join(tmp, "twinid");
  execFileSync("go", ["build", "-o", bin, "./cmd/twinid"], { cwd: repoRoot, stdio: "inherit" });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const publicUrl = `http://${publicHost}:${port}`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("TWINID_")) delete env[k];
  Object.assign(env, {
    TWINID_LISTEN: `127.0.0.1:${port}`,
    TWINID_PUBLIC_URL: publicUrl,
    TWINID_DATA_DIR: join(tmp, "data"),
    TWINID_BOOTSTRAP_CLIENT_ID: clientId,
    TWINID_BOOTSTRAP_CLIENT_SECRET: clientSecret,
    TWINID_BOOTSTRAP_ADMIN_EMAIL: adminEmail,
    TWINID_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    TWINID_LOG_LEVEL: "warn",
    ...extraEnv,
  });
  let stderr = "";
  const proc = spawn(bin, ["serve"], { env, stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr.on("data", (d) => { stderr += d; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`twinid exited (${proc.exitCode}):\n${stderr}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`twinid not ready after 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  return { baseUrl, publicUrl, clientId, clientSecret, adminEmail, adminPassword, stop };
}

/** adminToken gets a management token for the bootstrap service account. */
export async function adminToken(tw) {
  const res = await fetch(`${tw.baseUrl}/v1/accounts/root/auth/token`, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from(`${tw.clientId}:${tw.clientSecret}`).toString("base64") },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "api://management/.default" }),
  });
  if (res.status !== 200) throw new Error(`admin token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

/** api calls the management API with a token and a JSON body. */
export async function api(tw, token, method, path, body) {
  const res = await fetch(`${tw.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** chromiumArgs are the flags the browser tests start Debian's Chromium with. */
export const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** launchChromium starts the headless Debian Chromium (CHROMIUM overrides its path) as the browser tests run it. */
export async function launchChromium(executablePath) {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath,
    args: chromiumArgs,
  });
}

/**
 * startMailbox receives mail over SMTP on a free loopback port, with the SMTPServer class of
 * nodemailer's smtp-server (passed in, so each test package resolves its own copy). smtpURL is
 * for TWINID_SMTP_URL; next waits for the next message and answers its raw text.
 */
export async function startMailbox(SMTPServer) {
  const mails = [];
  const smtp = new SMTPServer({
    authOptional: true, disabledCommands: ["STARTTLS"], logger: false,
    onData(stream, _session, done) {
      let raw = "";
      stream.on("data", (d) => { raw += d; });
      stream.on("end", () => { mails.push(raw); done(); });
    },
  });
  await new Promise((ok) => smtp.listen(0, "127.0.0.1", ok));
  return {
    smtpURL: `smtp://127.0.0.1:${smtp.server.address().port}?tls=none`,
    async next(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (mails.length) return mails.shift();
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("no mail arrived");
    },
    close: () => new Promise((ok) => smtp.close(ok)),
  };
}
