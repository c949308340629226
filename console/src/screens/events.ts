// The account's audit trail: who did what, from where, with what outcome.
import { call, client, type Schemas } from "../api";
import { type Ctx } from "../ctx";
import { badge, h, list, mono, pageHeader, refreshable, when } from "../ui";

type Event = Schemas["Event"];
type Filters = {
  type?: Schemas["EventType"]; actorType?: Schemas["ActorType"]; actorId?: string; subject?: string; since?: string; until?: string;
};

// Every event type, as the document lists them (the compiler checks each against it).
const types: Schemas["EventType"][] = [
  "login.succeeded", "login.failed", "login.locked_out", "customer.unlocked", "refresh_token.reuse_detected", "code.replayed",
  "secret.created", "secret.deleted", "signing_key.rotated", "customer.created", "customer.updated", "customer.disabled",
  "customer.deleted", "customer.password_changed", "invitation.sent", "invitation.accepted", "account.created", "account.updated",
  "account.deleted", "scope.created", "scope.updated", "scope.deleted", "service_account.created", "service_account.updated",
  "service_account.deleted", "client.created", "client.updated", "client.deleted", "grant.created", "grant.updated",
  "grant.deleted", "identity.linked",
];
const actorTypes: Schemas["ActorType"][] = ["client", "person", "customer", "anonymous", "system"];

/** short shows a long id by its start; the whole id is its title (and what a click filters by). */
const short = (id: string) => h("code", { class: "mono", title: id }, id.length > 18 ? id.slice(0, 8) + "…" + id.slice(-4) : id);

export function eventsScreen(ctx: Ctx): HTMLElement {
  const c = client();
  let f: Filters = {};
  const pick = (patch: Filters) => () => { f = { ...f, ...patch }; fill(); t.reload(); };
  const who = (e: Event) => [badge(e.actor.type), h("br"), e.actor.id
    ? h("a", { href: "#", onclick: (ev: globalThis.Event) => { ev.preventDefault(); pick({ actorId: e.actor.id })(); } }, short(e.actor.id))
    : null, e.actor.aid ? h("span", { class: "muted" }, ` of ${e.actor.aid}`) : null];
  const what = (e: Event) => [h("span", { class: "muted" }, e.subject.type + " "), e.subject.id
    ? h("a", { href: "#", onclick: (ev: globalThis.Event) => { ev.preventDefault(); pick({ subject: e.subject.id })(); } }, short(e.subject.id)) : null];
  const t = refreshable(() => list<Event>({
    label: "Events",
    load: (cursor, limit) => call(c.GET("/v1/accounts/{aid}/events", { params: { path: { aid: ctx.aid }, query: { limit, startingAfter: cursor, ...f } } })),
    columns: [
      { label: "Time", cell: (e) => when(e.time) },
      { label: "Event", cell: (e) => [mono(e.type), h("br"), badge(e.outcome, e.outcome === "success" ? "ok" : "bad")] },
      { label: "Actor", cell: who },
      { label: "Subject", cell: what },
      { label: "From", cell: (e) => [e.sourceAddress ? mono(e.sourceAddress) : h("span", { class: "muted" }, "—"), e.clientId ? [h("br"), h("span", { class: "muted small" }, `client ${e.clientId}`)] : null] },
      { label: "Details", cell: (e) => [e.reason ? h("span", { class: "small" }, e.reason) : null, e.requestId ? [e.reason ? h("br") : null, h("span", { class: "muted small", title: "X-Request-Id, as in the server's log" }, `request ${e.requestId}`)] : null] },
    ],
    empty: Object.values(f).some(Boolean)
      ? { title: "No event matches", text: "Nothing on the trail matches all of these filters. Widen the time range or clear a filter." }
      : { title: "No events yet", text: "Sign-ins, lockouts and every change made through the API appear here as they happen." },
  }));
  const type = h("select", { "aria-label": "Event type" }, h("option", { value: "" }, "Any event"), types.map((x) => h("option", { value: x }, x)));
  const actorType = h("select", { "aria-label": "Actor type" }, h("option", { value: "" }, "Any actor"), actorTypes.map((x) => h("option", { value: x }, x)));
  const actorId = h("input", { type: "search", placeholder: "Actor id", "aria-label": "Actor id" });
  const subject = h("input", { type: "search", placeholder: "Subject id", "aria-label": "Subject id" });
  const since = h("input", { type: "datetime-local", "aria-label": "Since" });
  const until = h("input", { type: "datetime-local", "aria-label": "Until" });
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  const local = (v?: string) => (v ? new Date(new Date(v).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "");
  const fill = () => {
    type.value = f.type ?? ""; actorType.value = f.actorType ?? ""; actorId.value = f.actorId ?? "";
    subject.value = f.subject ?? ""; since.value = local(f.since); until.value = local(f.until);
  };
  const bar = h("form", { class: "toolbar toolbar-wrap", role: "search" }, type, actorType, actorId, subject,
    h("label", { class: "inline" }, "from ", since), h("label", { class: "inline" }, "to ", until),
    h("button", { type: "submit", class: "btn btn-plain" }, "Filter"),
    h("button", { type: "button", class: "btn btn-link", onclick: () => { f = {}; fill(); t.reload(); } }, "Clear"));
  bar.addEventListener("submit", (e) => {
    e.preventDefault();
    const opt = (v: string) => v.trim() || undefined;
    f = { type: (type.value || undefined) as Filters["type"], actorType: (actorType.value || undefined) as Filters["actorType"],
      actorId: opt(actorId.value), subject: opt(subject.value), since: iso(since.value), until: iso(until.value) };
    t.reload();
  });
  return h("div", {}, pageHeader("Events", "The audit trail: sign-ins, lockouts, token reuse and every change, newest first. Click an actor or a subject to see only its events."),
    bar, t.el);
}
