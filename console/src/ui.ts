// The building blocks every screen shares: elements, buttons, tables that page with the API's
// cursors, forms that show problem+json field messages next to their fields, dialogs.
import { ApiError, pageSize, type Page } from "./api";

type Child = Node | string | number | null | undefined | false | Child[];
type Props = Record<string, string | boolean | number | EventListener | null | undefined>;

/** h builds an element: props starting with "on" are listeners, the others attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** button: kind is primary, danger or plain (secondary). */
export function button(label: string, onclick: () => void, kind: "primary" | "danger" | "plain" | "link" = "plain", extra: Props = {}) {
  return h("button", { type: "button", class: `btn btn-${kind}`, onclick: () => onclick(), ...extra }, label);
}

export const badge = (text: string, tone = "neutral") => h("span", { class: `badge badge-${tone}` }, text);
export const mono = (text: string) => h("code", { class: "mono" }, text);

/** when formats an instant for people; "never" and "—" for absent ones. */
export function when(iso?: string | null, none = "—") {
  if (!iso) return h("span", { class: "muted" }, none);
  const d = new Date(iso);
  return h("time", { datetime: iso, title: d.toISOString() }, d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" }));
}

/** errorBox shows a failure with what to do about it. */
export function errorBox(err: unknown, retry?: () => void) {
  const e = err instanceof ApiError ? err : new ApiError(0, { title: String((err as Error)?.message ?? err) });
  const title = e.problem.title && e.problem.title !== e.problem.detail ? e.problem.title : "The request failed";
  return h("div", { class: "alert alert-error", role: "alert" },
    h("strong", {}, title),
    e.problem.detail ? h("p", {}, e.problem.detail) : null,
    h("p", {}, e.advice),
    // Trying again helps only when the failure may pass (no answer, overload, an outage).
    retry && (e.status === 0 || e.status === 429 || e.status >= 500) ? button("Try again", retry) : null,
    e.status === 404 && parentRoute() ? button("Back to the list", () => { location.hash = parentRoute(); }) : null);
}

/** parentRoute is the list above a detail screen's route, "" on a list. */
function parentRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  return parts.length > 3 ? "#/" + parts.slice(0, -1).join("/") : "";
}

/** pageHeader is the title row of a screen with its actions on the right. */
export function pageHeader(title: string, intro: string, ...actions: Child[]) {
  return h("header", { class: "page-header" },
    h("div", {}, h("h1", {}, title), h("p", { class: "intro" }, intro)),
    h("div", { class: "actions" }, ...actions));
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  class?: string;
}

export interface ListSpec<T> {
  load: (cursor: string | undefined, limit: number) => Promise<Page<T>>;
  columns: Column<T>[];
  empty: { title: string; text: string; action?: Child };
  actions?: (row: T, reload: () => void) => Child;
  label: string;
}

/** list renders a table that pages forward with nextCursor and back through the cursors it saw. */
export function list<T>(spec: ListSpec<T>): HTMLElement {
  const root = h("section", { class: "card list", "aria-label": spec.label });
  const cursors: (string | undefined)[] = [undefined];
  let n = 0;
  const render = async () => {
    root.replaceChildren(h("p", { class: "loading" }, "Loading…"));
    let page: Page<T>;
    try {
      page = await spec.load(cursors[n], pageSize);
    } catch (err) {
      root.replaceChildren(errorBox(err, render));
      return;
    }
    if (page.items.length === 0 && n === 0) {
      root.replaceChildren(h("div", { class: "empty" }, h("h2", {}, spec.empty.title), h("p", {}, spec.empty.text), spec.empty.action ?? null));
      return;
    }
    const cols = spec.actions ? [...spec.columns, { label: "", cell: (r: T) => h("div", { class: "menu" }, spec.actions!(r, render)), class: "row-actions" }] : spec.columns;
    const table = h("table", {},
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { class: c.class }, c.label)))),
      h("tbody", {}, page.items.map((r) => h("tr", {}, cols.map((c) => h("td", { class: c.class }, c.cell(r)))))));
    const next = page.nextCursor ?? undefined;
    const pager = h("footer", { class: "pager" },
      h("span", { class: "muted" }, `Page ${n + 1} · ${page.items.length} shown`),
      h("span", {},
        button("Previous", () => { n--; render(); }, "plain", { disabled: n === 0 }),
        button("Next", () => { cursors[n + 1] = next; n++; render(); }, "plain", { disabled: !next })));
    root.replaceChildren(h("div", { class: "table-wrap" }, table), pager);
  };
  void render();
  return root;
}

export interface Field {
  name: string;
  label: string;
  type?: "text" | "email" | "password" | "number" | "textarea" | "lines" | "select" | "checks" | "datetime" | "checkbox";
  hint?: string;
  required?: boolean;
  value?: unknown;
  placeholder?: string;
  options?: { value: string; label: string }[];
}

export type Values = Record<string, unknown>;

function input(f: Field): HTMLElement {
  const id = `f-${f.name.replace(/[^a-zA-Z0-9]/g, "-")}`;
  const common = { id, name: f.name, required: f.required, placeholder: f.placeholder };
  switch (f.type) {
    case "textarea":
      return h("textarea", { ...common, rows: 3 }, String(f.value ?? ""));
    case "lines":
      return h("textarea", { ...common, rows: 3 }, ((f.value as string[] | undefined) ?? []).join("\n"));
    case "select":
      return h("select", common, (f.options ?? []).map((o) => h("option", { value: o.value, selected: o.value === f.value }, o.label)));
    case "checks": {
      const held = (f.value as string[] | undefined) ?? [];
      if (!f.options?.length) return h("p", { class: "muted", id }, "There is nothing to choose from yet.");
      return h("fieldset", { class: "checks", id }, f.options.map((o) =>
        h("label", {}, h("input", { type: "checkbox", name: f.name, value: o.value, checked: held.includes(o.value) }), " ", o.label)));
    }
    case "checkbox":
      return h("input", { ...common, type: "checkbox", checked: !!f.value });
    case "datetime":
      return h("input", { ...common, type: "datetime-local" });
    default:
      return h("input", { ...common, type: f.type ?? "text", value: f.value === undefined || f.value === null ? "" : String(f.value) });
  }
}

function read(form: HTMLFormElement, fields: Field[]): Values {
  const out: Values = {};
  for (const f of fields) {
    if (f.type === "checks") {
      out[f.name] = [...form.querySelectorAll<HTMLInputElement>(`input[name="${f.name}"]:checked`)].map((i) => i.value);
      continue;
    }
    const el = form.elements.namedItem(f.name) as HTMLInputElement | null;
    if (!el) continue;
    const raw = el.value.trim();
    if (f.type === "checkbox") out[f.name] = el.checked;
    else if (f.type === "lines") out[f.name] = raw.split(/\s*\n\s*/).filter(Boolean);
    else if (f.type === "number") out[f.name] = raw === "" ? undefined : Number(raw);
    else if (f.type === "datetime") out[f.name] = raw === "" ? undefined : new Date(raw).toISOString();
    else out[f.name] = raw === "" ? undefined : raw;
  }
  return out;
}

/** nest turns {"settings.name": 1} into {settings: {name: 1}}, leaving out absent values. */
export function nest(v: Values): Values {
  const out: Values = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue;
    const parts = k.split(".");
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Values;
    o[parts[parts.length - 1]] = val;
  }
  return out;
}

/** fieldOf names the form field a problem's field path belongs to (`scopes[2]` → `scopes`). */
function fieldOf(path: string, fields: Field[]): Field | undefined {
  const names = fields.map((f) => f.name).sort((a, b) => b.length - a.length);
  const clean = path.replace(/^body\./, "");
  const name = names.find((n) => clean === n || clean.startsWith(n + ".") || clean.startsWith(n + "["));
  return fields.find((f) => f.name === name);
}

export interface FormSpec {
  title: string;
  intro?: string;
  fields: Field[];
  submitLabel: string;
  danger?: boolean;
  submit: (v: Values) => Promise<void>;
}

/** formDialog opens a modal form; a failed submit keeps it open with the messages next to the fields. */
export function formDialog(spec: FormSpec) {
  const dlg = h("dialog", { class: "dialog" });
  const banner = h("div", { class: "form-banner" });
  const errs = new Map<string, HTMLElement>();
  const rows = spec.fields.map((f) => {
    const err = h("p", { class: "field-error", id: `err-${f.name}`, role: "alert" });
    errs.set(f.name, err);
    const control = input(f);
    return h("div", { class: `field field-${f.type ?? "text"}` },
      h("label", { for: control.id, class: f.required ? "required" : null }, f.label),
      control,
      f.hint ? h("p", { class: "hint" }, f.hint) : null,
      err);
  });
  const submit = h("button", { type: "submit", class: `btn btn-${spec.danger ? "danger" : "primary"}` }, spec.submitLabel);
  const form = h("form", { method: "dialog", novalidate: true },
    h("h2", {}, spec.title),
    spec.intro ? h("p", { class: "intro" }, spec.intro) : null,
    banner, ...rows,
    h("footer", { class: "dialog-actions" }, button("Cancel", () => dlg.close()), submit));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    banner.replaceChildren();
    for (const e of errs.values()) e.replaceChildren();
    form.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
    submit.disabled = true;
    try {
      await spec.submit(read(form, spec.fields));
      dlg.close();
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, { title: String(err) });
      const loose: string[] = [];
      for (const fe of e.fields) {
        const f = fieldOf(fe.field, spec.fields);
        if (!f) { loose.push(`${fe.field}: ${fe.message}`); continue; }
        const msg = fe.field === f.name ? fe.message : `${fe.field.slice(f.name.length).replace(/^\./, "")}: ${fe.message}`;
        errs.get(f.name)!.append(h("span", {}, msg));
        rows[spec.fields.indexOf(f)].classList.add("invalid");
      }
      const marked = e.fields.length > loose.length;
      banner.replaceChildren(marked && (e.status === 400 || e.status === 422)
        ? h("div", { class: "alert alert-error", role: "alert" }, h("strong", {}, "Some fields need a change"), h("p", {}, e.advice))
        : errorBox(e));
      if (loose.length) banner.append(h("ul", { class: "loose" }, loose.map((l) => h("li", {}, l))));
    } finally {
      submit.disabled = false;
    }
  });
  dlg.append(form);
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

/** confirmDialog asks before something that cannot be undone. */
export function confirmDialog(title: string, text: string, label: string, run: () => Promise<void>) {
  formDialog({ title, intro: text, fields: [], submitLabel: label, danger: true, submit: run });
}

/** secretDialog shows a value that twinid returns only once, with a copy button. */
export function secretDialog(title: string, value: string, extra: Child = null) {
  const dlg = h("dialog", { class: "dialog" });
  const field = h("input", { class: "mono secret-value", readonly: true, value, "aria-label": "Secret", onfocus: (e: Event) => (e.target as HTMLInputElement).select() });
  const copied = h("span", { class: "copied", role: "status" });
  const copy = button("Copy", async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      field.select();
      document.execCommand("copy");
    }
    copied.textContent = "Copied";
  }, "primary");
  dlg.append(h("form", { method: "dialog" },
    h("h2", {}, title),
    h("div", { class: "alert alert-warn" }, h("strong", {}, "Copy it now."), h("p", {}, "twinid stores only a hash: this is the only time the secret is shown. If you lose it, create a new one.")),
    h("div", { class: "secret-row" }, field, copy, copied),
    extra,
    h("footer", { class: "dialog-actions" }, h("button", { class: "btn btn-plain", value: "done" }, "I have stored it"))));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

/** toast tells briefly that something worked. */
export function toast(text: string) {
  let stack = document.querySelector<HTMLElement>(".toasts");
  if (!stack) document.body.append((stack = h("div", { class: "toasts" })));
  const t = h("div", { class: "toast", role: "status" }, text);
  stack.append(t);
  // The newest two stay readable; older ones give way.
  while (stack.children.length > 2) stack.firstElementChild!.remove();
  setTimeout(() => t.remove(), 4000);
}

/** definition renders a list of label/value pairs. */
export const details = (pairs: [string, Child][]) =>
  h("dl", { class: "details" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));

/** refreshable holds a screen part that can be built again (a list after a create: its first page). */
export function refreshable(build: () => HTMLElement) {
  const holder = h("div", {}, build());
  return { el: holder, reload: () => holder.replaceChildren(build()) };
}

/** seconds shows a duration setting with its size in words: "3600 s (1 h)". */
export function seconds(n: unknown): string {
  const v = Number(n);
  if (!Number.isFinite(v) || v === 0) return String(n);
  const units: [number, string][] = [[86400, "d"], [3600, "h"], [60, "min"]];
  const u = units.find(([size]) => v >= size && v % size === 0);
  return u ? `${v} s (${v / u[0]} ${u[1]})` : `${v} s`;
}

/** detail loads one resource and shows it; a failure shows what to do under a header naming what was asked for. */
export function detail<T>(title: string, id: string, get: () => Promise<T>, render: (v: T, reload: () => void) => Child[]): HTMLElement {
  const root = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const load = async () => {
    let v: T;
    try {
      v = await get();
    } catch (err) {
      root.replaceChildren(pageHeader(title, id), errorBox(err, load));
      return;
    }
    root.replaceChildren(h("div", {}, render(v, () => void load())));
  };
  void load();
  return root;
}
