// The account's scope catalogue.
import { call, client, type Schemas } from "../api";
import { writeButton, type Ctx } from "../ctx";
import { badge, button, confirmDialog, formDialog, h, list, mono, nest, pageHeader, refreshable, toast, when } from "../ui";

type Scope = Schemas["Scope"];

export function scopesScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const create = () => formDialog({
    title: "Create a scope",
    intro: "A scope is a right on an API (the audience) that clients and customers can be given.",
    fields: [
      { name: "serviceName", label: "Service name", required: true, placeholder: "Tenant-A" },
      { name: "audience", label: "Audience", required: true, placeholder: "api://tenant-a", hint: "The API the tokens are for (their aud)." },
      { name: "scope", label: "Scope", required: true, placeholder: "api://tenant-a/.default" },
      { name: "description", label: "Description", type: "textarea" },
    ],
    submitLabel: "Create scope",
    submit: async (v) => {
      const s = await call(c.POST("/v1/accounts/{aid}/scopes", { params: { path }, body: nest(v) as Schemas["ScopeCreate"] }));
      toast(`Scope ${s.scope} created`);
      t.reload();
    },
  });
  const edit = (s: Scope, reload: () => void) => formDialog({
    title: `Edit ${s.scope}`,
    fields: [
      { name: "serviceName", label: "Service name", value: s.serviceName, required: true },
      { name: "description", label: "Description", type: "textarea", value: s.description },
    ],
    submitLabel: "Save",
    submit: async (v) => {
      await call(c.PATCH("/v1/accounts/{aid}/scopes/{scopeId}", { params: { path: { ...path, scopeId: s.id } }, body: { description: "", ...nest(v) } as Schemas["ScopeUpdate"] }));
      toast("Scope saved");
      reload();
    },
  });
  const del = (s: Scope, reload: () => void) => confirmDialog(`Delete ${s.scope}?`,
    "Clients, service accounts and customers lose it; tokens already issued keep it until they expire.", "Delete scope",
    async () => { await call(c.DELETE("/v1/accounts/{aid}/scopes/{scopeId}", { params: { path: { ...path, scopeId: s.id } } })); toast("Scope deleted"); reload(); });
  const t = refreshable(() => list<Scope>({
    label: "Scopes",
    load: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/scopes", { params: { path, query: { limit, startingAfter: cursor } } })),
    columns: [
      { label: "Scope", cell: (s) => [mono(s.scope), s.builtin ? [" ", badge("built in")] : null, h("br"), h("span", { class: "muted small" }, s.serviceName)] },
      { label: "Audience", cell: (s) => mono(s.audience) },
      { label: "Description", cell: (s) => s.description || h("span", { class: "muted" }, "—") },
      { label: "Created", cell: (s) => when(s.createdAt) },
    ],
    actions: (s, reload) => (ctx.write && !s.builtin ? [button("Edit", () => edit(s, reload)), button("Delete", () => del(s, reload), "danger")] : null),
    empty: { title: "No scopes", text: "Create a scope for each API that tokens are issued for.", action: writeButton(ctx, "Create scope", create, "primary") },
  }));
  return h("div", {}, pageHeader("Scopes", "The rights that tokens of this account can carry, per audience. Built-in scopes cannot be changed.",
    writeButton(ctx, "Create scope", create, "primary")), t.el);
}
