// Clients (applications) with their redirect URIs, grants (including the upstream `oidc`
// block) and, for confidential ones, secrets.
import { call, client, type Schemas } from "../api";
import { href, writeButton, type Ctx } from "../ctx";
import { badge, button, confirmDialog, detail, details, formDialog, h, list, mono, nest, pageHeader, refreshable, toast, when, type Field, type Values } from "../ui";
import { clientSecrets, secretsSection } from "./secrets";
import { scopeOptions } from "./serviceAccounts";

type OAuthClient = Schemas["OAuthClient"];
type Grant = Schemas["Grant"];

const uriHint = "One per line. Exact match; https, or http on loopback.";

function clientFields(cl?: OAuthClient): Field[] {
  return [
    { name: "name", label: "Name", required: true, value: cl?.name, placeholder: "Web shop" },
    { name: "description", label: "Description", type: "textarea", value: cl?.description },
    ...(cl ? [] : [{ name: "type", label: "Type", type: "select", value: "public", options: [
      { value: "public", label: "Public: a single-page or mobile app, no secret (PKCE)" },
      { value: "confidential", label: "Confidential: a server-side app with a secret" }] } as Field]),
    { name: "redirectUris", label: "Redirect URIs", type: "lines", value: cl?.redirectUris, hint: uriHint, placeholder: "https://shop.example.com/callback" },
    { name: "postLogoutRedirectUris", label: "Post-logout redirect URIs", type: "lines", value: cl?.postLogoutRedirectUris, hint: uriHint },
    { name: "allowedOrigins", label: "Allowed origins (CORS)", type: "lines", value: cl?.allowedOrigins, placeholder: "https://shop.example.com",
      hint: "One per line, exact origins (scheme, host, port; no path, no wildcards): single-page apps on these may call twinid with fetch." },
  ];
}

const uris = (u: string[]) => (u.length ? h("ul", { class: "tags" }, u.map((x) => h("li", {}, mono(x)))) : h("span", { class: "muted" }, "none"));

export function clientsScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const create = () => formDialog({
    title: "Create a client", intro: "A client is an application that signs people in or gets tokens.",
    fields: clientFields(), submitLabel: "Create client",
    submit: async (v) => {
      const cl = await call(c.POST("/v1/accounts/{aid}/clients", { params: { path }, body: nest(v) as Schemas["OAuthClientCreate"] }));
      toast(`Client ${cl.name} created`);
      ctx.go(href("a", ctx.aid, "clients", cl.clientId));
    },
  });
  const t = refreshable(() => list<OAuthClient>({
    label: "Clients",
    load: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/clients", { params: { path, query: { limit, startingAfter: cursor } } })),
    columns: [
      { label: "Name", cell: (cl) => h("a", { href: href("a", ctx.aid, "clients", cl.clientId) }, h("strong", {}, cl.name)) },
      { label: "Client id", cell: (cl) => mono(cl.clientId) },
      { label: "Type", cell: (cl) => badge(cl.type, cl.type === "public" ? "info" : "neutral") },
      { label: "Redirect URIs", cell: (cl) => uris(cl.redirectUris) },
      { label: "Created", cell: (cl) => when(cl.createdAt) },
    ],
    empty: { title: "No clients", text: "Create a client for each application that signs people in.", action: writeButton(ctx, "Create client", create, "primary") },
  }));
  return h("div", {}, pageHeader("Clients", "Applications that sign people in (authorization code with PKCE) or log customers in through the API.",
    writeButton(ctx, "Create client", create, "primary")), t.el);
}

async function grantFields(aid: string, g?: Grant): Promise<Field[]> {
  const options = await scopeOptions(aid).catch(() => []);
  return [
    ...(g ? [] : [
      { name: "audience", label: "Audience", required: true, placeholder: "https://api.example.com", hint: "The API the tokens are for; the scopes must belong to it." },
      { name: "type", label: "Grant type", type: "select", value: "authorization_code", options: [
        { value: "authorization_code", label: "authorization_code (people sign in)" },
        { value: "password", label: "password (the API logs customers in)" },
        { value: "client_credentials", label: "client_credentials (the client itself)" }] },
    ] as Field[]),
    { name: "scopes", label: "Scopes", type: "checks", options, value: g?.scopes ?? [] },
    { name: "oidc.authority", label: "Upstream OpenID provider", value: g?.oidc?.authority, placeholder: "https://login.vipps.no",
      hint: "Optional, authorization_code only: log customers in through this provider. Its issuer URL." },
    { name: "oidc.clientId", label: "Upstream client id", value: g?.oidc?.clientId },
    { name: "oidc.clientSecret", label: "Upstream client secret", type: "password",
      hint: g?.oidc?.hasClientSecret ? "Stored encrypted and never shown. Leave empty to keep it." : "Stored encrypted; never shown again." },
  ];
}

function grantsSection(ctx: Ctx, clientId: string): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const withoutEmptyOIDC = (v: Values) => {
    const body = nest(v);
    if (body.oidc && !(body.oidc as Values).authority && !(body.oidc as Values).clientId && !(body.oidc as Values).clientSecret) delete body.oidc;
    return body;
  };
  const create = async () => formDialog({
    title: "Add a grant", intro: "A grant says what the client may obtain for one audience.",
    fields: await grantFields(ctx.aid), submitLabel: "Add grant",
    submit: async (v) => {
      await call(c.POST("/v1/accounts/{aid}/grants", { params: { path }, body: { ...withoutEmptyOIDC(v), clientId } as Schemas["GrantCreate"] }));
      toast("Grant added");
      t.reload();
    },
  });
  const edit = async (g: Grant, reload: () => void) => formDialog({
    title: `Edit the ${g.type} grant for ${g.audience}`, fields: await grantFields(ctx.aid, g), submitLabel: "Save",
    submit: async (v) => {
      const body = withoutEmptyOIDC(v);
      if (!body.oidc && g.oidc) body.oidc = null;
      await call(c.PATCH("/v1/accounts/{aid}/grants/{grantId}", { params: { path: { ...path, grantId: g.id } }, body: body as Schemas["GrantUpdate"] }));
      toast("Grant saved");
      reload();
    },
  });
  const del = (g: Grant, reload: () => void) => confirmDialog(`Remove the ${g.type} grant for ${g.audience}?`,
    "The client can no longer obtain these scopes.", "Remove grant",
    async () => { await call(c.DELETE("/v1/accounts/{aid}/grants/{grantId}", { params: { path: { ...path, grantId: g.id } } })); toast("Grant removed"); reload(); });
  const t = refreshable(() => list<Grant>({
    label: "Grants",
    load: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/grants", { params: { path, query: { clientId, limit, startingAfter: cursor } } })),
    columns: [
      { label: "Type", cell: (g) => mono(g.type) },
      { label: "Audience", cell: (g) => mono(g.audience) },
      { label: "Scopes", cell: (g) => uris(g.scopes) },
      { label: "Upstream login", cell: (g) => (g.oidc ? [mono(g.oidc.authority), h("br"), h("span", { class: "muted" }, `client ${g.oidc.clientId}${g.oidc.hasClientSecret ? ", secret set" : ""}`)] : h("span", { class: "muted" }, "—")) },
    ],
    actions: (g, reload) => (ctx.write ? [button("Edit", () => void edit(g, reload)), button("Remove", () => del(g, reload), "danger")] : null),
    empty: { title: "No grants", text: "Without a grant the client obtains no API scopes, only OpenID ones. Add one per audience.", action: writeButton(ctx, "Add grant", () => void create(), "primary") },
  }));
  return h("section", { class: "section" },
    h("div", { class: "section-header" }, h("h2", {}, "Grants"), writeButton(ctx, "Add grant", () => void create(), "primary")), t.el);
}

export function clientScreen(ctx: Ctx, id: string): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid, clientId: id };
  return detail("Client", id, () => call(c.GET("/v1/accounts/{aid}/clients/{clientId}", { params: { path } })), (cl, reload) => {
    const edit = () => formDialog({
      title: `Edit ${cl.name}`, fields: clientFields(cl), submitLabel: "Save",
      submit: async (v) => {
        await call(c.PATCH("/v1/accounts/{aid}/clients/{clientId}", { params: { path }, body: { redirectUris: [], postLogoutRedirectUris: [], allowedOrigins: [], ...nest(v) } as Schemas["OAuthClientUpdate"] }));
        toast("Client saved");
        reload();
      },
    });
    const del = () => confirmDialog(`Delete ${cl.name}?`, "Its grants, secrets and tokens go with it. This cannot be undone.", "Delete client",
      async () => { await call(c.DELETE("/v1/accounts/{aid}/clients/{clientId}", { params: { path } })); toast("Client deleted"); ctx.go(href("a", ctx.aid, "clients")); });
    return [
      h("p", { class: "crumbs" }, h("a", { href: href("a", ctx.aid, "clients") }, "Clients"), " / ", cl.name),
      pageHeader(cl.name, cl.description || "An application of this account.", writeButton(ctx, "Edit", edit), writeButton(ctx, "Delete", del, "danger")),
      h("section", { class: "card" }, details([
        ["Client id", mono(cl.clientId)], ["Type", badge(cl.type, cl.type === "public" ? "info" : "neutral")],
        ["Redirect URIs", uris(cl.redirectUris)], ["Post-logout redirect URIs", uris(cl.postLogoutRedirectUris)], ["Allowed origins", uris(cl.allowedOrigins ?? [])],
        ["Created", when(cl.createdAt)], ["Updated", when(cl.updatedAt)],
      ])),
      grantsSection(ctx, cl.clientId),
      ...(cl.type === "confidential" ? [secretsSection(ctx, clientSecrets(ctx.aid, cl.clientId))] : [])];
  });
}
