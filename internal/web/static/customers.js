// The customer table: column menu ordering, keyboard row focus, avatar
// fallbacks, and the Add customer and Create company dialogs.

const csrf = document.querySelector('meta[name="csrf-token"]').content;

// postJSON sends JSON to the API as the signed-in user and returns [status, body].
async function postJSON(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  return [res.status, data];
}

// --- column menu: move a line up or down -----------------------------------
document.querySelector(".column-list")?.addEventListener("click", (e) => {
  const b = e.target.closest("[data-move]");
  if (!b) return;
  const li = b.closest("li");
  if (b.dataset.move === "up" && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
  if (b.dataset.move === "down" && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
  b.focus();
});

// --- popovers: one open at a time; Esc closes -------------------------------
// (popovers inside the drawer come and go, so they are looked up each time)
const popovers = { forEach: (fn) => document.querySelectorAll("details.popover").forEach(fn) };
document.addEventListener("toggle", (e) => {
  const d = e.target;
  if (!d.matches?.("details.popover") || !d.open) return;
  popovers.forEach((o) => { if (o !== d && !o.contains(d)) o.open = false; });
  d.querySelector(".popover-body")?.scrollIntoView({ block: "nearest" }); // a menu opened near the bottom stays in sight
}, true);
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  const open = document.querySelectorAll("details.popover[open]");
  if (!open.length) return;
  open.forEach((d) => { d.open = false; d.querySelector("summary").focus(); });
  e.stopImmediatePropagation(); // one Esc closes one thing: the popover, not the drawer behind it
});
document.addEventListener("click", (e) => {
  popovers.forEach((d) => { if (d.open && !d.contains(e.target)) d.open = false; });
});

// --- avatars: a picture shows only once it has loaded; without one (no
// Gravatar, offline, still loading) the initials stay
document.addEventListener("load", (e) => {
  if (e.target instanceof HTMLImageElement && e.target.parentElement?.classList.contains("avatar")) e.target.classList.add("loaded");
}, true);
document.addEventListener("error", (e) => {
  if (e.target instanceof HTMLImageElement && e.target.parentElement?.classList.contains("avatar")) e.target.remove();
}, true);
// Pictures from our own origin (often cached) may have loaded, or ended
// without one (204), before this module ran and heard of it.
document.querySelectorAll(".avatar img").forEach((i) => {
  if (i.complete) i.naturalWidth ? i.classList.add("loaded") : i.remove();
});

// --- keyboard: j/k move the row focus -----------------------------------------
const rows = () => [...document.querySelectorAll("#customer-table tbody tr")];
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey || t.closest?.("input, select, textarea, dialog, [contenteditable]")) return;
  if (e.key !== "j" && e.key !== "k") return;
  const list = rows();
  if (!list.length) return;
  const i = list.indexOf(document.activeElement);
  const next = e.key === "j" ? Math.min(i + 1, list.length - 1) : Math.max(i - 1, 0);
  list[i < 0 ? 0 : next].focus();
  e.preventDefault();
});

// --- dialogs ---------------------------------------------------------------------
document.addEventListener("click", (e) => {
  const open = e.target.closest("[data-open]");
  if (open) { document.querySelector(open.dataset.open).showModal(); return; }
  if (e.target.closest("[data-close]")) e.target.closest("dialog").close();
});

function clearErrors(form) {
  form.querySelectorAll(".field").forEach((f) => {
    f.classList.remove("has-error");
    f.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
    const p = f.querySelector(".field-error");
    if (p) { p.hidden = true; p.textContent = ""; }
  });
  const general = form.querySelector(".form-error");
  if (general) { general.hidden = true; general.textContent = ""; }
}

// showErrors puts each API field error beside its field; others go on top.
function showErrors(form, error) {
  const list = error?.fields?.length ? error.fields : [{ field: error?.field || "", message: error?.message || "Something went wrong. Please try again." }];
  let first = null;
  const rest = [];
  for (const fe of list) {
    const key = (fe.field || "").split(".")[0];
    const box = form.querySelector(`[data-field="${CSS.escape(key)}"]`);
    if (!box) { rest.push(fe.message); continue; }
    box.classList.add("has-error");
    const p = box.querySelector(".field-error");
    p.textContent = fe.message;
    p.hidden = false;
    const input = box.querySelector("input, select");
    input?.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  if (rest.length) {
    const general = form.querySelector(".form-error");
    general.textContent = rest.join(" ");
    general.hidden = false;
  }
  first?.focus();
}

async function busy(button, work) {
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try { return await work(); } finally { button.removeAttribute("aria-busy"); button.disabled = false; }
}

// --- company type-ahead -------------------------------------------------------
const companyInput = document.getElementById("a-company");
const companyList = document.getElementById("company-list");
const knownCompanies = new Map(); // lower-cased name -> id
let lookup = 0;
companyInput?.addEventListener("input", () => {
  const q = companyInput.value.trim();
  const mine = ++lookup;
  setTimeout(async () => {
    if (mine !== lookup) return; // typed on
    const res = await fetch(`/api/v1/companies?limit=20&q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" } });
    if (!res.ok || mine !== lookup) return;
    const { items } = await res.json();
    companyList.replaceChildren(...items.map((c) => {
      knownCompanies.set(c.name.toLowerCase(), c.id);
      const o = document.createElement("option");
      o.value = c.name;
      o.textContent = c.domain || "";
      return o;
    }));
  }, 150);
});

// --- Create company (a small dialog over the Add customer dialog) ----------------
const companyDialog = document.getElementById("company-dialog");
const companyForm = document.getElementById("company-form");
document.getElementById("new-company")?.addEventListener("click", () => {
  // a fresh form each time (a cancelled one is discarded), named as typed in
  // the customer's Company field, in the new customer's country: the
  // likeliest for their new company
  clearErrors(companyForm);
  companyForm.reset();
  companyForm.elements.name.value = companyInput.value.trim();
  companyForm.elements.country.value = addForm.elements.country.value.trim();
  companyDialog.showModal();
  companyForm.elements.name.focus();
});
companyForm?.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(companyForm);
  const button = document.getElementById("company-submit");
  const [status, body] = await busy(button, () => postJSON("/api/v1/companies", {
    name: companyForm.elements.name.value, domain: companyForm.elements.domain.value, country: companyForm.elements.country.value,
  }));
  if (status !== 201) { showErrors(companyForm, body?.error); return; }
  knownCompanies.set(body.name.toLowerCase(), body.id);
  companyInput.value = body.name;
  companyDialog.close();
  companyInput.focus();
});

// --- Add customer ----------------------------------------------------------------
const addForm = document.getElementById("add-form");
const addDialog = document.getElementById("add-dialog");
addDialog?.addEventListener("close", () => document.getElementById("add-customer")?.focus());
addForm?.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(addForm);
  const f = addForm.elements;
  const body = { full_name: f.full_name.value, language: f.language.value, country: f.country.value };
  if (f.contact.value.trim()) body.contact = { channel: f.channel.value, value: f.contact.value };
  const company = f.company.value.trim();
  if (company) {
    const id = knownCompanies.get(company.toLowerCase());
    if (id) body.company_id = id; else body.company_name = company;
  }
  if (f.owner.value) body.owner_id = Number(f.owner.value);
  const tags = f.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) body.tags = tags;
  const key = contactKey();
  if (body.contact && dupFor !== key) body.check_duplicates = true; // "Add anyway" is a second, deliberate click
  const [status, data] = await busy(document.getElementById("add-submit"), () => postJSON("/api/v1/customers", body));
  if (status === 409 && data?.error?.matches?.length) { showDuplicate(data.error.matches, key); return; }
  if (status !== 201) { showErrors(addForm, data?.error); return; }
  sessionStorage.setItem("toast", `Added ${data.full_name}.`);
  location.reload();
});

// A message kept across the reload that shows the new row.
const toastText = sessionStorage.getItem("toast");
if (toastText) {
  sessionStorage.removeItem("toast");
  const t = document.createElement("div");
  t.className = "toast";
  t.setAttribute("role", "status");
  t.textContent = toastText;
  document.getElementById("main").append(t);
  setTimeout(() => t.remove(), 6000);
}

// --- Add customer: the contact value already belongs to someone (issue 12, item 10)
// Leaving the contact field looks the value up; the warning beside it names
// the customers holding it (links open in a new tab, so nothing typed is
// lost) and the button becomes "Add anyway". A submit without that warning
// asks the API to check (check_duplicates) and shows the same warning when
// it answers 409; only a click on "Add anyway" for the value shown adds the
// customer. Changing the value or the channel takes the warning away.
const addSubmit = document.getElementById("add-submit");
const dupBox = document.getElementById("add-dup");
let dupFor = ""; // the channel and value the warning shown is about
let dupLookup = 0;
function contactKey() { return addForm ? `${addForm.elements.channel.value} ${addForm.elements.contact.value.trim()}` : ""; }

function clearDuplicate() {
  if (!dupBox || dupBox.hidden) return;
  dupBox.hidden = true;
  dupBox.replaceChildren();
  dupFor = "";
  addSubmit.textContent = "Add customer";
}

function showDuplicate(matches, key) {
  const words = { email: "e-mail address", phone: "phone number", linkedin: "LinkedIn profile" }[addForm.elements.channel.value] || "contact";
  const head = document.createElement("p");
  head.textContent = `${matches.length === 1 ? "A customer already has" : `${matches.length} customers already have`} this ${words}:`;
  const ul = document.createElement("ul");
  for (const m of matches) {
    const li = document.createElement("li");
    const a = Object.assign(document.createElement("a"), { href: `/crm/customers/${m.id}`, target: "_blank", rel: "noopener", textContent: m.full_name });
    const more = [m.primary_email, m.company?.name, m.owner ? `owner ${m.owner.name}` : "unclaimed", `added ${m.created_at.slice(0, 10)}`].filter(Boolean);
    li.append(a, Object.assign(document.createElement("span"), { className: "muted", textContent: ` · ${more.join(" · ")}` }));
    ul.append(li);
  }
  const tail = document.createElement("p");
  tail.textContent = "Open one to update it instead, or choose Add anyway to add a separate customer.";
  dupBox.replaceChildren(head, ul, tail);
  dupBox.hidden = false;
  dupFor = key;
  addSubmit.textContent = "Add anyway";
}

async function lookupContact() {
  const f = addForm.elements;
  const key = contactKey();
  if (!f.contact.value.trim() || key === dupFor) return;
  const mine = ++dupLookup;
  const q = new URLSearchParams({ channel: f.channel.value, value: f.contact.value.trim(), country: f.country.value.trim() });
  const res = await fetch(`/api/v1/contacts/lookup?${q}`, { headers: { Accept: "application/json" } });
  if (!res.ok || mine !== dupLookup || key !== contactKey()) return; // typed on meanwhile
  const { customers } = await res.json();
  if (customers.length) showDuplicate(customers, key);
}

if (addForm && dupBox) {
  const sync = () => { if (contactKey() !== dupFor) clearDuplicate(); };
  addForm.elements.contact.addEventListener("input", sync);
  addForm.elements.channel.addEventListener("change", () => { sync(); lookupContact(); });
  addForm.elements.contact.addEventListener("change", lookupContact);
}
