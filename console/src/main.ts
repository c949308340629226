import "./style.css";
import { useToken } from "./api";
import { canRead, canWrite, currentSession, finishSignIn, forget, signIn, signOut, type Session } from "./auth";
import { href, type Ctx } from "./ctx";
import { badge, button, errorBox, h } from "./ui";
import { accountsScreen, settingsScreen } from "./screens/accounts";
import { scopesScreen } from "./screens/scopes";
import { serviceAccountScreen, serviceAccountsScreen } from "./screens/serviceAccounts";
import { clientScreen, clientsScreen } from "./screens/clients";
import { customersScreen } from "./screens/customers";
import { signingKeysScreen } from "./screens/signingKeys";
import { eventsScreen } from "./screens/events";

const app = document.getElementById("app")!;

type Screen = (ctx: Ctx, id: string) => HTMLElement;
const sections: { path: string; label: string; screen: Screen; detail?: Screen }[] = [
  { path: "", label: "Settings", screen: settingsScreen },
  { path: "scopes", label: "Scopes", screen: scopesScreen },
  { path: "service-accounts", label: "Service accounts", screen: serviceAccountsScreen, detail: serviceAccountScreen },
  { path: "clients", label: "Clients", screen: clientsScreen, detail: clientScreen },
  { path: "customers", label: "Customers", screen: customersScreen },
  { path: "signing-keys", label: "Signing keys", screen: signingKeysScreen },
  { path: "events", label: "Events", screen: eventsScreen },
];

function signInScreen(problem?: HTMLElement) {
  app.replaceChildren(h("main", { class: "signin" },
    h("div", { class: "card signin-card" },
      h("div", { class: "brand brand-large" }, h("span", { class: "logo" }, "t"), "twinid console"),
      h("p", {}, "Manage accounts, scopes, service accounts, clients, customers and signing keys, and read the audit trail."),
      problem ?? null,
      button("Sign in with twinid", () => signIn().catch((err) => signInScreen(errorBox(err))), "primary"),
      h("p", { class: "muted small" }, "You sign in on twinid's own login page. People holding api://management/.default manage; api://management/read only looks."))));
}

function layout(s: Session, aid: string, active: string, body: HTMLElement) {
  const root = s.aid === "root";
  const nav = h("nav", { class: "sidebar", "aria-label": "Sections" },
    root ? h("a", { href: href("accounts"), class: active === "accounts" ? "active" : "" }, "All accounts") : null,
    aid ? h("div", { class: "nav-group" }, h("div", { class: "nav-title" }, "Account ", h("code", {}, aid)),
      sections.map((sec) => h("a", { href: sec.path ? href("a", aid, sec.path) : href("a", aid), class: active === sec.path ? "active" : "" }, sec.label))) : null);
  const top = h("header", { class: "topbar" },
    h("a", { class: "brand", href: root ? href("accounts") : href("a", s.aid) }, h("span", { class: "logo" }, "t"), "twinid console"),
    h("div", { class: "who" },
      canWrite(s) ? badge("Administrator", "ok") : badge("Read-only", "warn"),
      h("span", { class: "email" }, s.email),
      button("Sign out", signOut, "link")));
  app.replaceChildren(top, h("div", { class: "shell" }, nav, h("main", { class: "content" }, body)));
}

function route() {
  const s = currentSession();
  if (!s) return signInScreen();
  useToken(s.accessToken, () => {
    forget();
    signInScreen(errorBox(new Error("Your sign-in has ended. Sign in again to continue.")));
  });
  if (!canRead(s)) {
    forget();
    return signInScreen(h("div", { class: "alert alert-error" }, h("strong", {}, "No management rights"),
      h("p", {}, `${s.email} holds neither api://management/.default nor api://management/read. Ask an administrator to give you one of them, then sign in again.`)));
  }
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const go = (hash: string) => { location.hash = hash; };
  if (parts.length === 0) return go(s.aid === "root" ? href("accounts") : href("a", s.aid));
  if (parts[0] === "accounts") {
    return layout(s, "", "accounts", accountsScreen({ session: s, write: canWrite(s), aid: "", go }));
  }
  const [, aid, section = "", id = ""] = parts;
  const sec = sections.find((x) => x.path === section);
  const ctx: Ctx = { session: s, write: canWrite(s), aid, go };
  if (parts[0] !== "a" || !aid || !sec) {
    return layout(s, aid ?? "", "", h("div", { class: "empty" }, h("h2", {}, "There is no such page"),
      h("p", {}, "The address does not name a screen of the console. Choose one on the left."), button("Go to the start", () => go(""), "primary")));
  }
  layout(s, aid, section, id && sec.detail ? sec.detail(ctx, id) : sec.screen(ctx, id));
}

async function start() {
  if (location.pathname.endsWith("/callback")) {
    try {
      const { returnTo } = await finishSignIn();
      history.replaceState(null, "", "/console/" + (returnTo || ""));
    } catch (err) {
      history.replaceState(null, "", "/console/");
      return signInScreen(errorBox(err));
    }
  }
  window.addEventListener("hashchange", route);
  route();
}

void start();
