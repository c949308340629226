// Accounts (tenants) and their settings.
import { call, client, type Schemas } from "../api";
import { href, writeButton, type Ctx } from "../ctx";
import { confirmDialog, detail, details, formDialog, h, list, mono, nest, pageHeader, refreshable, seconds, toast, when, type Field, type Values } from "../ui";

type Account = Schemas["Account"];

export function accountsScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const create = () => formDialog({
    title: "Create an account",
    intro: "An account is a tenant: its own issuer, signing keys, clients and customers.",
    fields: [
      { name: "name", label: "Name", required: true, placeholder: "Tenant A" },
      { name: "aid", label: "Account id", hint: "Lowercase letters, digits and dashes, 2 to 63 characters. Leave empty for a generated id.", placeholder: "tenant-a" },
    ],
    submitLabel: "Create account",
    submit: async (v) => {
      const a = await call(c.POST("/v1/accounts", { body: nest(v) as Schemas["AccountCreate"] }));
      toast(`Account ${a.aid} created`);
      ctx.go(href("a", a.aid));
    },
  });
  const t = refreshable(() => list<Account>({
    label: "Accounts",
    load: (cursor, limit) => call(c.GET("/v1/accounts", { params: { query: { limit, startingAfter: cursor } } })),
    columns: [
      { label: "Account", cell: (a) => h("a", { href: href("a", a.aid) }, h("strong", {}, a.name), h("br"), mono(a.aid)) },
      { label: "Issuer", cell: (a) => mono(a.issuer) },
      { label: "Created", cell: (a) => when(a.createdAt) },
    ],
    empty: { title: "No accounts yet", text: "Create the first account to give a tenant its own issuer.", action: writeButton(ctx, "Create account", create, "primary") },
  }));
  return h("div", {}, pageHeader("Accounts", "Every account is its own issuer with its own keys, clients and customers.",
    writeButton(ctx, "Create account", create, "primary")), t.el);
}

// Each setting: its name, label, hint, and whether it is a duration in seconds.
const settingFields: [string, string, string, boolean?][] = [
  ["accessTokenLifetime", "Access token lifetime", "seconds (60–86400)", true],
  ["refreshTokenIdleLifetime", "Refresh token idle lifetime", "seconds", true],
  ["refreshTokenAbsoluteLifetime", "Refresh token absolute lifetime", "seconds", true],
  ["refreshTokenReuseGrace", "Refresh token reuse grace", "seconds (0–60)", true],
  ["sessionIdleLifetime", "Session idle lifetime", "seconds", true],
  ["sessionAbsoluteLifetime", "Session absolute lifetime", "seconds", true],
  ["loginMaxFailures", "Failed logins before lockout", "per customer"],
  ["loginIpMaxFailures", "Failed logins per address", "before the address is locked out"],
  ["loginLockoutSeconds", "Lockout", "seconds", true],
  ["invitationLifetime", "Invitation lifetime", "seconds (3600–2592000)", true],
  ["keyRotationInterval", "Key rotation interval", "seconds; 0 rotates only by hand", true],
  ["keyPropagationDelay", "Key propagation delay", "seconds a new key is published before it signs", true],
];

export function settingsScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { params: { path: { aid: ctx.aid } } };
  return detail("Account", ctx.aid, () => call(c.GET("/v1/accounts/{aid}", path)), (a, reload) => {
    const s = a.settings as Values;
    const edit = () => {
      const fields: Field[] = [
        { name: "name", label: "Name", value: a.name, required: true },
        { name: "settings.emailSenderName", label: "Email sender name", value: s.emailSenderName, hint: "Shown as the sender and in the emails' text." },
        { name: "settings.signingAlg", label: "Access token algorithm", type: "select", value: s.signingAlg ?? "",
          options: [{ value: "", label: "Default" }, { value: "ES256", label: "ES256" }, { value: "RS256", label: "RS256" }] },
        ...settingFields.map(([k, label, hint]): Field => ({ name: `settings.${k}`, label, hint, type: "number", value: s[k] })),
        { name: "settings.tokenRateLimit.perMinute", label: "Tokens per minute per client", type: "number", value: (s.tokenRateLimit as Values | undefined)?.perMinute },
        { name: "settings.tokenRateLimit.burst", label: "Token burst per client", type: "number", value: (s.tokenRateLimit as Values | undefined)?.burst },
      ];
      formDialog({
        title: "Edit the account", intro: "Empty fields keep their current value.", fields, submitLabel: "Save",
        submit: async (v) => {
          await call(c.PATCH("/v1/accounts/{aid}", { ...path, body: nest(v) as Schemas["AccountUpdate"] }));
          toast("Settings saved");
          reload();
        },
      });
    };
    const del = () => confirmDialog(`Delete the account ${a.aid}?`,
      "Its clients, service accounts, customers, keys and tokens are deleted with it. This cannot be undone.", "Delete account",
      async () => { await call(c.DELETE("/v1/accounts/{aid}", path)); toast(`Account ${a.aid} deleted`); ctx.go(href("accounts")); });
    const val = (k: string) => (s[k] === undefined || s[k] === null ? h("span", { class: "muted" }, "default") : String(s[k]));
    const rl = s.tokenRateLimit as Values | undefined;
    return [
      pageHeader(a.name, "The account's identity and the settings of its tokens, sessions and logins.",
        writeButton(ctx, "Edit settings", edit, "primary"),
        a.aid !== "root" ? writeButton(ctx, "Delete account", del, "danger") : null),
      h("section", { class: "card" }, h("h2", {}, "Account"), details([
        ["Account id", mono(a.aid)], ["Issuer", mono(a.issuer)],
        ["Discovery", h("a", { href: `${a.issuer}/.well-known/openid-configuration`, target: "_blank", rel: "noopener" }, "openid-configuration")],
        ["Created", when(a.createdAt)], ["Updated", when(a.updatedAt)],
      ])),
      h("section", { class: "card" }, h("h2", {}, "Settings"), details([
        ["Email sender name", val("emailSenderName")],
        ["Access token algorithm", val("signingAlg")],
        ...settingFields.map(([k, label, , dur]): [string, HTMLElement | string] => [label, dur && s[k] !== undefined ? seconds(s[k]) : val(k)]),
        ["Token rate limit", rl ? `${rl.perMinute} per minute, burst ${rl.burst}` : h("span", { class: "muted" }, "default")],
      ]))];
  });
}
