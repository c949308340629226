// The account's signing keys and their rotation.
import { call, client, type Schemas } from "../api";
import { writeButton, type Ctx } from "../ctx";
import { badge, formDialog, h, list, mono, nest, pageHeader, refreshable, toast, when } from "../ui";

type SigningKey = Schemas["SigningKey"];

const tone = { next: "info", active: "ok", retiring: "warn" } as const;

export function signingKeysScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const rotate = () => formDialog({
    title: "Rotate the signing key",
    intro: "A new key is published in the JWKS at once and signs after the delay, so verifiers can fetch it first. The active key then retires.",
    fields: [
      { name: "alg", label: "Algorithm", type: "select", value: "", options: [{ value: "", label: "The account's setting" }, { value: "ES256", label: "ES256" }, { value: "RS256", label: "RS256" }] },
      { name: "activateAfter", label: "Signs after", type: "number", hint: "Seconds; empty uses the account's key propagation delay." },
    ],
    submitLabel: "Rotate",
    submit: async (v) => {
      await call(c.POST("/v1/accounts/{aid}/signing-keys/rotate", { params: { path }, body: nest(v) as Schemas["SigningKeyRotate"] }));
      toast("A new key is published");
      t.reload();
    },
  });
  // The API answers all keys at once (there are only a few); the table shows them as one page.
  const t = refreshable(() => list<SigningKey>({
    label: "Signing keys",
    load: async () => ({ items: (await call(c.GET("/v1/accounts/{aid}/signing-keys", { params: { path } }))).items, nextCursor: null }),
    columns: [
      { label: "Key id", cell: (k) => mono(k.kid) },
      { label: "Algorithm", cell: (k) => k.alg },
      { label: "Status", cell: (k) => badge(k.status, tone[k.status]) },
      { label: "Created", cell: (k) => when(k.createdAt) },
      { label: "Signs from", cell: (k) => when(k.activatesAt) },
      { label: "Leaves the JWKS", cell: (k) => when(k.retiresAt, "not scheduled") },
    ],
    empty: { title: "No signing keys", text: "Rotate to create the first key; tokens cannot be issued without one.", action: writeButton(ctx, "Rotate now", rotate, "primary") },
  }));
  return h("div", {}, pageHeader("Signing keys", "The keys that sign this account's tokens, as its JWKS publishes them.",
    writeButton(ctx, "Rotate now", rotate, "primary")), t.el);
}
