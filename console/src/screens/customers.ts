// Customers (end users): search, create or invite, disable, unlock, delete.
import { ApiError, call, client, type Schemas } from "../api";
import { writeButton, type Ctx } from "../ctx";
import { badge, button, confirmDialog, formDialog, h, list, mono, nest, pageHeader, refreshable, toast, when, type Field } from "../ui";
import { scopeOptions } from "./serviceAccounts";

type Customer = Schemas["Customer"];
type Status = Schemas["CustomerStatus"];

const tone: Record<Status, string> = { active: "ok", invited: "info", disabled: "bad" };

export function customersScreen(ctx: Ctx): HTMLElement {
  const c = client();
  const path = { aid: ctx.aid };
  const at = (customerId: string) => ({ params: { path: { ...path, customerId } } });
  let search = "";
  let status: Status | "" = "";
  // The fields a customer is created and edited with; a password only at creation.
  const fields = async (cu?: Customer): Promise<Field[]> => [
    { name: "email", label: "Email", type: "email", placeholder: "ada@example.com", value: cu?.email },
    { name: "phoneNumber", label: "Phone number", placeholder: "+4799999999", value: cu?.phoneNumber, hint: "E.164 form. An email or a phone number is needed." },
    { name: "name", label: "Name", value: cu?.name },
    ...(cu ? [] : [
      { name: "type", label: "Type", type: "select", value: "customer", options: [{ value: "customer", label: "Customer (a person)" }, { value: "company", label: "Company" }] },
      { name: "password", label: "Password", type: "password", hint: "Leave empty to send an invitation by email." },
    ] as Field[]),
    { name: "scopes", label: "Scopes", type: "checks", value: cu?.scopes ?? [], options: await scopeOptions(ctx.aid).catch(() => []),
      hint: "In the root account, api://management/.default makes the person an administrator of the console; api://management/read a read-only one." },
  ];
  const create = async () => formDialog({
    title: "Create or invite a customer",
    intro: "Without a password the customer is invited: twinid emails a link to choose one.",
    fields: await fields(),
    submitLabel: "Create customer",
    submit: async (v) => {
      const cu = await call(c.POST("/v1/accounts/{aid}/customers/users", { params: { path }, body: nest(v) as Schemas["CustomerCreate"] }));
      toast(cu.status === "invited" ? `Invitation sent to ${cu.email ?? cu.phoneNumber}` : `Customer ${cu.email ?? cu.phoneNumber} created`);
      t.reload();
    },
  });
  const edit = async (cu: Customer, reload: () => void) => formDialog({
    title: `Edit ${label(cu)}`, fields: await fields(cu), submitLabel: "Save",
    submit: async (v) => {
      await call(c.PATCH("/v1/accounts/{aid}/customers/users/{customerId}", { ...at(cu.customerId), body: nest(v) as Schemas["CustomerUpdate"] }));
      toast("Customer saved");
      reload();
    },
  });
  const label = (cu: Customer) => cu.email ?? cu.phoneNumber ?? cu.customerId;
  const patchStatus = (cu: Customer, to: Status) =>
    call(c.PATCH("/v1/accounts/{aid}/customers/users/{customerId}", { ...at(cu.customerId), body: { status: to } }));
  const actions = (cu: Customer, reload: () => void) => {
    if (!ctx.write) return null;
    const run = (f: () => Promise<unknown>, done: string) => async () => {
      try { await f(); toast(done); reload(); } catch (err) { toast(err instanceof ApiError ? `${err.message}. ${err.advice}` : String(err)); }
    };
    return [
      button("Edit", () => void edit(cu, reload)),
      cu.status === "disabled"
        ? button("Enable", run(() => patchStatus(cu, "active"), `${label(cu)} is enabled`))
        : button("Disable", () => confirmDialog(`Disable ${label(cu)}?`, "They can no longer sign in, and their tokens stop working.", "Disable",
          async () => { await patchStatus(cu, "disabled"); toast(`${label(cu)} is disabled`); reload(); })),
      button("Unlock", run(() => call(c.POST("/v1/accounts/{aid}/customers/users/{customerId}/unlock", at(cu.customerId))), `${label(cu)} is unlocked`)),
      cu.status === "invited" ? button("Resend invitation", run(() => call(c.POST("/v1/accounts/{aid}/customers/users/{customerId}/invitation", at(cu.customerId))), "Invitation sent again")) : null,
      button("Delete", () => confirmDialog(`Delete ${label(cu)}?`, "The customer, their sessions and tokens are deleted. This cannot be undone.", "Delete customer",
        async () => { await call(c.DELETE("/v1/accounts/{aid}/customers/users/{customerId}", at(cu.customerId))); toast("Customer deleted"); reload(); }), "danger")];
  };
  const t = refreshable(() => list<Customer>({
    label: "Customers",
    load: (cursor, limit) => {
      const q = search.startsWith("+") ? { phoneNumber: search } : search ? { email: search } : {};
      return call(c.GET("/v1/accounts/{aid}/customers/users", { params: { path, query: { limit, startingAfter: cursor, ...q, ...(status ? { status } : {}) } } }));
    },
    columns: [
      { label: "Customer", cell: (cu) => [h("strong", {}, label(cu)), h("br"), h("span", { class: "muted small" }, [cu.name, cu.type].filter(Boolean).join(" · "))] },
      { label: "Status", cell: (cu) => [badge(cu.status, tone[cu.status]), h("br"), h("span", { class: "muted small" }, cu.emailVerified ? "email verified" : "email not verified")] },
      { label: "Scopes", cell: (cu) => (cu.scopes.length ? h("ul", { class: "tags" }, cu.scopes.map((s) => h("li", {}, mono(s)))) : h("span", { class: "muted" }, "none")) },
      { label: "Created", cell: (cu) => when(cu.createdAt) },
    ],
    actions,
    empty: search || status
      ? { title: "No customer matches", text: "Nobody's email or phone number starts like this. Check the spelling or clear the search." }
      : { title: "No customers yet", text: "Create a customer with a password, or invite one by email.", action: writeButton(ctx, "Create or invite", () => void create(), "primary") },
  }));
  const box = h("input", { type: "search", placeholder: "Email or +phone prefix", "aria-label": "Search customers" });
  const sel = h("select", { "aria-label": "Status" },
    [["", "Any status"], ["active", "Active"], ["invited", "Invited"], ["disabled", "Disabled"]].map(([v, l]) => h("option", { value: v }, l)));
  const bar = h("form", { class: "toolbar", role: "search" }, box, sel, h("button", { type: "submit", class: "btn btn-plain" }, "Search"));
  bar.addEventListener("submit", (e) => { e.preventDefault(); search = box.value.trim(); status = sel.value as Status | ""; t.reload(); });
  sel.addEventListener("change", () => bar.requestSubmit());
  return h("div", {}, pageHeader("Customers", "The end users of this account. Search by the start of an email address or phone number.",
    writeButton(ctx, "Create or invite", () => void create(), "primary")), bar, t.el);
}
