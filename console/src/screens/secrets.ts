// Secrets of a service account or a confidential client: hint, expiry and last use in the
// list; the value shown once, with copy.
import { call, client, type Page, type Schemas } from "../api";
import { writeButton, type Ctx } from "../ctx";
import { badge, button, confirmDialog, formDialog, h, list, mono, refreshable, secretDialog, toast, when } from "../ui";

type Secret = Schemas["Secret"];
type SecretWithValue = Schemas["SecretWithValue"];

/** SecretOps are the three calls on one owner's secrets. */
export interface SecretOps {
  list: (cursor: string | undefined, limit: number) => Promise<Page<Secret>>;
  create: (body: Schemas["SecretCreate"]) => Promise<SecretWithValue>;
  remove: (id: string) => Promise<unknown>;
  /** usage shows how the new secret is used (a curl line for a service account). */
  usage?: (secret: string) => HTMLElement;
}

/** serviceAccountSecrets are the calls on a service account's secrets. */
export function serviceAccountSecrets(aid: string, serviceAccountId: string): Omit<SecretOps, "usage"> {
  const c = client();
  const path = { aid, serviceAccountId };
  return {
    list: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/service-accounts/{serviceAccountId}/secrets", { params: { path, query: { limit, startingAfter: cursor } } })),
    create: (body) => call(c.POST("/v1/accounts/{aid}/service-accounts/{serviceAccountId}/secrets", { params: { path }, body })),
    remove: (secretId) => call(c.DELETE("/v1/accounts/{aid}/service-accounts/{serviceAccountId}/secrets/{secretId}", { params: { path: { ...path, secretId } } })),
  };
}

/** clientSecrets are the calls on a confidential client's secrets. */
export function clientSecrets(aid: string, clientId: string): SecretOps {
  const c = client();
  const path = { aid, clientId };
  return {
    list: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/clients/{clientId}/secrets", { params: { path, query: { limit, startingAfter: cursor } } })),
    create: (body) => call(c.POST("/v1/accounts/{aid}/clients/{clientId}/secrets", { params: { path }, body })),
    remove: (secretId) => call(c.DELETE("/v1/accounts/{aid}/clients/{clientId}/secrets/{secretId}", { params: { path: { ...path, secretId } } })),
  };
}

const tone = { active: "ok", expiring: "warn", expired: "bad" } as const;

/** secretsSection lists an owner's secrets and lets a full admin create and delete them. */
export function secretsSection(ctx: Ctx, ops: SecretOps): HTMLElement {
  const create = () => formDialog({
    title: "Create a secret",
    intro: "Several secrets may be active at once: create the new one, deploy it, then delete the old one.",
    fields: [
      { name: "description", label: "Description", placeholder: "prod deployment, rotated quarterly" },
      { name: "expiresAt", label: "Expires", type: "datetime", hint: "Leave empty for a secret that does not expire." },
    ],
    submitLabel: "Create secret",
    submit: async (v) => {
      const s = await ops.create(v as Schemas["SecretCreate"]);
      t.reload();
      secretDialog("Your new secret", s.secret, ops.usage?.(s.secret) ?? null);
    },
  });
  const del = (s: Secret, reload: () => void) => confirmDialog(`Delete the secret …${s.hint}?`,
    "Whoever uses it can no longer get tokens with it.", "Delete secret",
    async () => { await ops.remove(s.id); toast("Secret deleted"); reload(); });
  const t = refreshable(() => list<Secret>({
    label: "Secrets",
    load: ops.list,
    columns: [
      { label: "Secret", cell: (s) => mono(`twid_…${s.hint}`) },
      { label: "Description", cell: (s) => s.description || h("span", { class: "muted" }, "—") },
      { label: "Status", cell: (s) => badge(s.status, tone[s.status]) },
      { label: "Created", cell: (s) => when(s.createdAt) },
      { label: "Expires", cell: (s) => when(s.expiresAt, "never") },
      { label: "Last used", cell: (s) => when(s.lastUsedAt, "never") },
    ],
    actions: (s, reload) => (ctx.write ? button("Delete", () => del(s, reload), "danger") : null),
    empty: { title: "No secrets", text: "Without a secret nobody can authenticate as this client. Create one to get tokens.", action: writeButton(ctx, "Create secret", create, "primary") },
  }));
  return h("section", { class: "section" },
    h("div", { class: "section-header" }, h("h2", {}, "Secrets"), writeButton(ctx, "Create secret", create, "primary")),
    t.el);
}
