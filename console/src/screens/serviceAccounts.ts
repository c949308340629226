// Service accounts (machine clients with client_credentials) and their secrets.
import { call, client, type Schemas } from "../api";
import { href, writeButton, type Ctx } from "../ctx";
import { confirmDialog, detail, details, formDialog, h, list, mono, nest, pageHeader, refreshable, toast, when, type Field } from "../ui";
import { secretsSection, serviceAccountSecrets } from "./secrets";

type ServiceAccount = Schemas["ServiceAccount"];

/** scopeOptions are the account's scopes as choices (the first 100 of the catalogue). */
export async function scopeOptions(aid: string) {
  const page = await call(client().GET("/v1/accounts/{aid}/scopes", { params: { path: { aid }, query: { limit: 100 } } }));
  return page.items.map((s) => ({ value: s.scope, label: `${s.scope} (${s.serviceName})` }));
}

function saFields(options: { value: string; label: string }[], sa?: ServiceAccount): Field[] {
  return [
    { name: "name", label: "Name", required: true, value: sa?.name, placeholder: "billing-worker" },
    { name: "description", label: "Description", type: "textarea", value: sa?.description },
    { name: "scopes", label: "Scopes", type: "checks", options, value: sa?.scopes.map((s) => s.scope) ?? [],
      hint: "What tokens of this service account may carry." },
  ];
}

const scopeList = (sa: ServiceAccount) =>
  sa.scopes.length ? h("ul", { class: "tags" }, sa.scopes.map((s) => h("li", {}, mono(s.scope)))) : h("span", { class: "muted" }, "none");

export function serviceAccountsScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const create = async () => {
    const options = await scopeOptions(ctx.aid).catch(() => []);
    formDialog({
      title: "Create a service account",
      intro: "A service account is a machine client: it gets tokens with its secret (client_credentials).",
      fields: saFields(options),
      submitLabel: "Create service account",
      submit: async (v) => {
        const sa = await call(c.POST("/v1/accounts/{aid}/service-accounts", { params: { path }, body: nest(v) as Schemas["ServiceAccountCreate"] }));
        toast(`Service account ${sa.name} created`);
        ctx.go(href("a", ctx.aid, "service-accounts", sa.id));
      },
    });
  };
  const t = refreshable(() => list<ServiceAccount>({
    label: "Service accounts",
    load: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/service-accounts", { params: { path, query: { limit, startingAfter: cursor } } })),
    columns: [
      { label: "Name", cell: (sa) => h("a", { href: href("a", ctx.aid, "service-accounts", sa.id) }, h("strong", {}, sa.name)) },
      { label: "Client id", cell: (sa) => mono(sa.clientId) },
      { label: "Scopes", cell: scopeList },
      { label: "Created", cell: (sa) => when(sa.createdAt) },
    ],
    empty: { title: "No service accounts", text: "Create one for each program that calls your APIs on its own behalf.", action: writeButton(ctx, "Create service account", create, "primary") },
  }));
  return h("div", {}, pageHeader("Service accounts", "Machine clients that get tokens with a secret (client_credentials).",
    writeButton(ctx, "Create service account", () => void create(), "primary")), t.el);
}

export function serviceAccountScreen(ctx: Ctx, id: string): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid, serviceAccountId: id };
  return detail("Service account", id, () => call(c.GET("/v1/accounts/{aid}/service-accounts/{serviceAccountId}", { params: { path } })), (sa, reload) => {
    const edit = async () => {
      const options = await scopeOptions(ctx.aid).catch(() => []);
      formDialog({
        title: `Edit ${sa.name}`, fields: saFields(options, sa), submitLabel: "Save",
        submit: async (v) => {
          await call(c.PATCH("/v1/accounts/{aid}/service-accounts/{serviceAccountId}", { params: { path }, body: nest(v) as Schemas["ServiceAccountUpdate"] }));
          toast("Service account saved");
          reload();
        },
      });
    };
    const del = () => confirmDialog(`Delete ${sa.name}?`, "Its secrets stop working at once. This cannot be undone.", "Delete service account",
      async () => { await call(c.DELETE("/v1/accounts/{aid}/service-accounts/{serviceAccountId}", { params: { path } })); toast("Service account deleted"); ctx.go(href("a", ctx.aid, "service-accounts")); });
    const ops = {
      ...serviceAccountSecrets(ctx.aid, id),
      usage: (secret: string) => h("div", { class: "usage" }, h("p", {}, "Get a token with it:"),
        h("pre", { class: "mono" }, `curl -u '${sa.clientId}:${secret}' \\\n  -d grant_type=client_credentials${sa.scopes[0] ? ` -d scope='${sa.scopes[0].scope}'` : ""} \\\n  ${sa.tokenUri}`)),
    };
    return [
      h("p", { class: "crumbs" }, h("a", { href: href("a", ctx.aid, "service-accounts") }, "Service accounts"), " / ", sa.name),
      pageHeader(sa.name, sa.description || "A machine client that gets tokens with its secret.",
        writeButton(ctx, "Edit", () => void edit()), writeButton(ctx, "Delete", del, "danger")),
      h("section", { class: "card" }, details([
        ["Client id", mono(sa.clientId)], ["Token URL", mono(sa.tokenUri)], ["Grant type", mono(sa.grantType)],
        ["Scopes", scopeList(sa)], ["Created", when(sa.createdAt)],
        ["Token rate limit", sa.tokenRateLimit ? `${sa.tokenRateLimit.perMinute} per minute, burst ${sa.tokenRateLimit.burst}` : h("span", { class: "muted" }, "the account's")],
      ])),
      secretsSection(ctx, ops)];
  });
}
