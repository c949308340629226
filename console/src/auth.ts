// Sign-in through twinid's own hosted login page: authorization code with PKCE (RFC 7636),
// the public client `console` of the root account.
import { call, client } from "./api";

const clientId = "console";
const issuerAID = "root";
const scope = "openid email api://management/.default api://management/read";
const pendingKey = "twinid.console.pending";
const sessionKey = "twinid.console.session";

/** Session is the signed-in person, kept for this tab only. */
export interface Session {
  accessToken: string;
  idToken: string;
  scopes: string[];
  aid: string;
  email: string;
  expiresAt: number;
}

const redirectURI = () => `${location.origin}/console/callback`;
const issuer = () => `${location.origin}/v1/accounts/${issuerAID}`;

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function claims(jwt: string): Record<string, unknown> {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

/** signIn goes to the hosted login page; back at the callback, finishSignIn completes it. */
export async function signIn(returnTo = location.hash) {
  // The console's redirect URI is registered at twinid's public URL: opened under another
  // name (localhost for 127.0.0.1, a proxy), it moves there first.
  const meta = await call(client().GET("/v1/accounts/{aid}/.well-known/openid-configuration", { params: { path: { aid: issuerAID } } }));
  const home = new URL(meta.issuer).origin;
  if (home !== location.origin) {
    location.assign(`${home}/console/${returnTo}`);
    return;
  }
  const verifier = random();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = random(16);
  sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, returnTo }));
  const q = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectURI(), scope, state,
    code_challenge: challenge, code_challenge_method: "S256", nonce: random(16),
  });
  location.assign(`${meta.authorization_endpoint ?? issuer() + "/auth/authorize"}?${q}`);
}

/** finishSignIn exchanges the callback's code (with the PKCE verifier) for tokens. */
export async function finishSignIn(): Promise<{ returnTo: string }> {
  const q = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(pendingKey) ?? "null") as { verifier: string; state: string; returnTo: string } | null;
  sessionStorage.removeItem(pendingKey);
  if (q.get("error")) throw new Error(`${q.get("error")}: ${q.get("error_description") ?? "the sign-in was refused"}`);
  if (!pending || pending.state !== q.get("state")) throw new Error("This sign-in was not started in this tab, or it was already used. Sign in again.");
  const tok = await call(client().POST("/v1/accounts/{aid}/auth/token", {
    params: { path: { aid: issuerAID } },
    body: { grant_type: "authorization_code", code: q.get("code") ?? "", redirect_uri: redirectURI(), code_verifier: pending.verifier, client_id: clientId },
  }));
  const at = claims(tok.access_token);
  const id = claims(tok.id_token ?? "");
  const s: Session = {
    accessToken: tok.access_token, idToken: tok.id_token ?? "", scopes: tok.scope.split(" "),
    aid: String(at.aid ?? issuerAID), email: String(id.email ?? at.sub ?? ""),
    expiresAt: Date.now() + tok.expires_in * 1000,
  };
  sessionStorage.setItem(sessionKey, JSON.stringify(s));
  return { returnTo: pending.returnTo };
}

/** currentSession is this tab's session, or null when there is none or it has expired. */
export function currentSession(): Session | null {
  const s = JSON.parse(sessionStorage.getItem(sessionKey) ?? "null") as Session | null;
  return s && s.expiresAt > Date.now() + 5000 ? s : null;
}

/** canWrite reports whether the session holds full management, not only api://management/read. */
export const canWrite = (s: Session | null) => !!s?.scopes.includes("api://management/.default");
/** canRead reports whether the session may read the Management API at all. */
export const canRead = (s: Session | null) => canWrite(s) || !!s?.scopes.includes("api://management/read");

/** signOut ends the session here and at twinid (RP-initiated logout), then comes back. */
export function signOut() {
  const s = currentSession();
  sessionStorage.removeItem(sessionKey);
  const q = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: `${location.origin}/console/` });
  if (s?.idToken) q.set("id_token_hint", s.idToken);
  location.assign(`${issuer()}/auth/logout?${q}`);
}

/** forget drops the session of this tab without leaving the page (a token twinid refused). */
export function forget() {
  sessionStorage.removeItem(sessionKey);
}
