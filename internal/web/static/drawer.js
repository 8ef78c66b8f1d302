// The customer drawer: opened from the table beside it (the table stays
// usable), its own URL, tabs, and every edit sent to the JSON API. A field
// saves in place: only that field and its "Saved" change, so focus and what
// is being typed elsewhere stay. Changes that reshape the drawer (claim, a
// contact added...) fetch it again, keeping the focused field, its selection
// and every unsaved value. The table row follows each change.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const drawer = document.getElementById("drawer");
const companyPage = document.querySelector("[data-company-page]");
const root = drawer || companyPage;

async function api(method, url, body) {
  const opts = { method, headers: { Accept: "application/json", "X-CSRF-Token": csrf } };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(url, opts);
  let data = null;
  try { data = await res.json(); } catch { /* empty */ }
  return [res.status, data];
}

const ok = (status) => status >= 200 && status < 300;
const customerId = () => Number(root?.querySelector("[data-customer]")?.dataset.customer || 0);
const tableQuery = () => new URLSearchParams(location.search);

function toast(text, isError) {
  const t = document.createElement("div");
  t.className = "toast" + (isError ? " toast-error" : "");
  t.setAttribute("role", isError ? "alert" : "status");
  t.textContent = text;
  document.getElementById("main").append(t);
  if (!isError) setTimeout(() => t.remove(), 5000);
  else t.addEventListener("click", () => t.remove());
}

// errText is what a person reads of an API error: the field messages, without field names.
const errText = (error) => (error?.fields?.length ? error.fields.map((f) => f.message).join(" ") : error?.message)
  || "Something went wrong. Please try again.";

// fieldBox is what holds a field with its error and status lines.
const fieldBox = (el) => el?.closest?.(".kv-value, .contact-value, .tag-editor") || el?.closest?.("form");

// showError puts a refusal beside the element it concerns (or on top of the drawer).
function showError(el, error) {
  const msg = errText(error);
  const box = fieldBox(el)?.querySelector(".field-error") || root.querySelector(".drawer-error");
  box.textContent = msg;
  box.hidden = false;
  el?.setAttribute?.("aria-invalid", "true");
}

function clearError(el) {
  const box = fieldBox(el)?.querySelector(".field-error");
  if (box) box.hidden = true;
  el?.removeAttribute?.("aria-invalid");
  const top = root.querySelector(".drawer-error");
  if (top) top.hidden = true;
}

// --- opening, closing and the URL --------------------------------------------------
function drawerURL(id, extra) {
  const q = tableQuery();
  q.delete("tab");
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  const s = q.toString();
  return `/crm/customers/${id}${s ? "?" + s : ""}`;
}

async function loadCustomer(id, { push = true, tab } = {}) {
  const q = tableQuery();
  q.set("fragment", "drawer");
  q.set("tab", tab || q.get("tab") || "profile");
  const res = await fetch(`/crm/customers/${id}?${q}`, { headers: { Accept: "text/html" } });
  if (!res.ok) { toast(res.status === 404 ? "That customer does not exist." : "The customer could not be loaded.", true); return; }
  const scroll = drawer.scrollTop;
  const same = customerId() === id;
  const kept = same ? keepEdits() : null;
  drawer.innerHTML = await res.text();
  drawer.hidden = false;
  if (same) { drawer.scrollTop = scroll; kept(); }
  markRow(id);
  if (push) history.pushState({ drawer: id }, "", drawerURL(id, tab && tab !== "profile" ? { tab } : {}));
}

// The company drawer has its own URL, /crm/companies/{id} (with the table's
// query, so closing it keeps the table's filters); from is the customer its
// "Back to customer" returns to.
async function loadCompany(id, from, { push = true } = {}) {
  const res = await fetch(`/crm/companies/${id}?fragment=drawer${from ? "&from=" + from : ""}`);
  if (!res.ok) { toast("The company could not be loaded.", true); return; }
  (drawer || companyPage).innerHTML = await res.text();
  if (!drawer) return;
  drawer.hidden = false;
  if (push) {
    const q = tableQuery();
    q.delete("tab");
    history.pushState({ company: id, from }, "", `/crm/companies/${id}${q.toString() ? "?" + q : ""}`);
  }
}

function closeDrawer({ push = true } = {}) {
  if (!drawer || drawer.hidden) return;
  const id = customerId();
  document.querySelector(`#customer-table tr[data-id="${id}"]`)?.focus(); // before the focused field goes away with the drawer
  drawer.hidden = true;
  drawer.innerHTML = "";
  markRow(0);
  if (push) {
    const q = tableQuery();
    q.delete("tab");
    history.pushState({}, "", `/crm/customers${q.toString() ? "?" + q : ""}`);
  }
  document.querySelector(`#customer-table tr[data-id="${id}"]`)?.focus();
}

function markRow(id) {
  document.querySelectorAll("#customer-table tr[aria-selected]").forEach((r) => r.removeAttribute("aria-selected"));
  if (id) document.querySelector(`#customer-table tr[data-id="${id}"]`)?.setAttribute("aria-selected", "true");
}

// refresh reloads the drawer and the customer's table row after a change
// that reshapes the drawer.
async function refresh() {
  const id = customerId();
  if (!id) return;
  const tab = drawer.querySelector('[role=tab][aria-selected="true"]')?.dataset.tab;
  await loadCustomer(id, { push: false, tab });
  // the control that had the focus may be gone (Claim, once claimed): the focus stays in the drawer
  if (!document.activeElement || document.activeElement === document.body) drawer.querySelector("#drawer-name")?.focus();
  await refreshRow(id);
}

// refreshRow reloads the customer's table row (a field saved in place).
async function refreshRow(id) {
  if (!drawer || !id) return;
  const q = tableQuery();
  q.set("fragment", "row");
  q.delete("tab");
  const res = await fetch(`/crm/customers/${id}?${q}`);
  const row = document.querySelector(`#customer-table tr[data-id="${id}"]`);
  if (res.ok && row) {
    const tpl = document.createElement("template");
    tpl.innerHTML = (await res.text()).trim();
    const fresh = tpl.content.firstElementChild;
    if (fresh) {
      const focused = document.activeElement === row; // the drawer may have closed back to this row meanwhile
      row.replaceWith(fresh);
      if (focused) fresh.focus();
      if (customerId() === id) markRow(id);
    }
  }
}

if (drawer) {
  // A click on a row (not on a control in it) opens the drawer beside the table.
  document.getElementById("customer-table")?.addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-id]");
    if (!row || e.target.closest("input, button, label") || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    loadCustomer(Number(row.dataset.id));
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches?.("#customer-table tr[data-id]")) { // open it, and go into it
      loadCustomer(Number(e.target.dataset.id)).then(() => drawer.querySelector("#drawer-name")?.focus());
      return;
    }
    if (e.key !== "Escape" || drawer.hidden) return;
    if (document.querySelector("dialog[open], details.popover[open]")) return; // Esc closes those first
    if (drawer.contains(e.target) && cancelEdit(e.target)) { e.preventDefault(); return; } // the first Esc cancels the edit
    if (e.target.closest?.("input, textarea, select") && !drawer.contains(e.target)) return;
    closeDrawer();
  });
  window.addEventListener("popstate", () => {
    const m = location.pathname.match(/^\/crm\/customers\/(\d+)$/);
    const co = location.pathname.match(/^\/crm\/companies\/(\d+)$/);
    if (m) loadCustomer(Number(m[1]), { push: false });
    else if (co) loadCompany(Number(co[1]), history.state?.from, { push: false });
    else closeDrawer({ push: false });
  });
}

// --- everything inside the drawer -------------------------------------------------------
root?.addEventListener("click", async (e) => {
  const t = e.target.closest("button, a, [data-tab]");
  if (!t) return;
  const id = customerId();
  if (t.matches("[data-close-drawer]")) { drawer ? closeDrawer() : (location.href = "/crm/companies"); return; }
  if (t.matches("[data-tab]")) { selectTab(t.dataset.tab); return; }
  if (t.matches("[data-company]")) { e.preventDefault(); loadCompany(Number(t.dataset.company), id); return; }
  if (t.matches("[data-back-customer]")) { loadCustomer(Number(t.dataset.backCustomer)); return; }
  if (t.matches("[data-company-create]")) { createCompany(t); return; }
  if (t.matches("[data-open-customer]") && drawer) { e.preventDefault(); loadCustomer(Number(t.dataset.openCustomer)); return; }
  if (t.matches("[data-action]")) {
    t.closest("details")?.removeAttribute("open");
    const action = t.dataset.action;
    if (action === "archive" && !(await confirmDialog("Archive this customer?",
      "It leaves the active list and the Archived filter shows it. Nothing is deleted; it can be restored.", "Archive"))) return;
    const [status, data] = await api("POST", `/api/v1/customers/${id}/${action}`);
    if (!ok(status)) { showError(null, data?.error); return; }
    toast({ claim: "Claimed.", unclaim: "Unclaimed.", release: "Released.", archive: "Archived.", restore: "Restored." }[action]);
    refresh();
    return;
  }
  if (t.matches("[data-open-reassign]")) {
    t.closest("details")?.removeAttribute("open");
    const f = root.querySelector('[data-form="reassign"]');
    f.hidden = false;
    f.querySelector("select").focus();
    return;
  }
  if (t.matches("[data-primary]")) {
    t.closest("details")?.removeAttribute("open");
    const [status, data] = await api("PATCH", `/api/v1/contacts/${t.dataset.primary}`, { primary: true });
    if (!ok(status)) { showError(null, data?.error); return; }
    refresh();
    return;
  }
  if (t.matches("[data-remove-contact]")) {
    t.closest("details")?.removeAttribute("open");
    if (!(await confirmDialog(`Remove ${t.dataset.value}?`, "It is taken off this customer; the removal is written to the activity log.", "Remove"))) return;
    const [status, data] = await api("DELETE", `/api/v1/contacts/${t.dataset.removeContact}`);
    if (!ok(status)) { showError(null, data?.error); return; }
    refresh();
    return;
  }
  if (t.matches("[data-compose]")) {
    const dlg = root.querySelector("#compose-dialog");
    const form = dlg.querySelector("form");
    form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
    if (!form.querySelector("select option:not([disabled])")) {
      showError(t, { message: "This customer has no e-mail address that may be written to." });
      return;
    }
    dlg.showModal();
    form.elements.subject.focus();
    return;
  }
  if (t.matches("[data-log-message]")) {
    const f = root.querySelector('[data-form="log-message"]');
    f.hidden = !f.hidden;
    if (!f.hidden) f.querySelector("textarea").focus();
    return;
  }
  if (t.matches("[data-suppress]")) { t.closest("details")?.removeAttribute("open"); openSuppress("suppress", t.dataset.suppress, t.dataset.value); return; }
  if (t.matches("[data-unsuppress]")) { t.closest("details")?.removeAttribute("open"); openSuppress("unsuppress", t.dataset.unsuppress, t.dataset.value); return; }
  if (t.matches("[data-history]")) {
    t.closest("details")?.removeAttribute("open");
    const box = t.closest(".contact").querySelector(".history");
    const [status, data] = await api("GET", `/api/v1/contacts/${t.dataset.history}/suppressions`);
    if (!ok(status)) { showError(null, data?.error); return; }
    box.replaceChildren(...(data.items.length ? data.items : [null]).map((ev) => {
      const p = document.createElement("p");
      p.textContent = ev ? `${when(ev.at)}: ${actionWords[ev.action] || ev.action}${ev.reason ? " (" + (reasonWords[ev.reason] || ev.reason) + ")" : ""} by ${ev.by ? ev.by.name : "the system"}${ev.note ? " — “" + ev.note + "”" : ""}`
        : "Never suppressed.";
      return p;
    }));
    box.hidden = false;
    return;
  }
  if (t.matches("[data-untag]")) {
    const input = root.querySelector('[data-form="add-tag"] input');
    const chip = t.closest(".chip");
    const next = chip.nextElementSibling?.querySelector("button") || chip.previousElementSibling?.querySelector("button") || input;
    const [status, data] = await tagQueue(() => api("DELETE", `/api/v1/customers/${id}/tags/${encodeURIComponent(t.dataset.untag)}`));
    if (!ok(status)) { showError(input, data?.error); return; }
    clearError(input);
    const had = document.activeElement === t;
    renderTags(data.tags, `Removed “${t.dataset.untag}”.`);
    if (had) (root.querySelector(`[data-untag="${CSS.escape(next?.dataset?.untag || "")}"]`) || input).focus();
    refreshRow(id);
    return;
  }
  if (t.matches("[data-company-clear]")) {
    const [status, data] = await api("PATCH", `/api/v1/customers/${id}`, { company_id: null });
    if (!ok(status)) { showError(t, data?.error); return; }
    refresh();
    return;
  }
  if (t.matches("[data-older]")) {
    const q = new URLSearchParams({ fragment: "activity", before: t.dataset.older });
    const res = await fetch(`/crm/customers/${id}?${q}`);
    if (!res.ok) return;
    t.closest("li").remove();
    root.querySelector("#activity-list").insertAdjacentHTML("beforeend", await res.text());
  }
});

function selectTab(key) {
  root.querySelectorAll("[role=tab]").forEach((b) => {
    const on = b.dataset.tab === key;
    b.setAttribute("aria-selected", on);
    b.tabIndex = on ? 0 : -1;
    root.querySelector(`#panel-${b.dataset.tab}`).hidden = !on;
    if (on) b.focus();
  });
  if (drawer) {
    const url = new URL(location.href);
    if (key === "profile") url.searchParams.delete("tab"); else url.searchParams.set("tab", key);
    history.replaceState(history.state, "", url);
  }
}

root?.addEventListener("keydown", (e) => { // arrow keys move between tabs
  if (!e.target.matches("[role=tab]") || (e.key !== "ArrowRight" && e.key !== "ArrowLeft")) return;
  const tabs = [...root.querySelectorAll("[role=tab]")];
  const i = tabs.indexOf(e.target) + (e.key === "ArrowRight" ? 1 : -1);
  selectTab(tabs[(i + tabs.length) % tabs.length].dataset.tab);
});

// Inline edits save when the value is committed (change: Enter, Tab, a
// click elsewhere, a pick), in place; a refusal shows beside the field and
// keeps what was typed.
root?.addEventListener("change", async (e) => {
  const el = e.target;
  const id = customerId();
  if (el.matches('[data-form="add-tag"] input')) { addTypedTags(el); return; }
  let call = null;
  let sent = el.value;
  let saved = null; // the value the server keeps, from its answer
  if (el.matches("[data-patch]")) {
    const key = el.dataset.patch;
    call = ["PATCH", `/api/v1/customers/${id}`, { [key]: el.value }];
    saved = (c) => shown(key, c[key]);
  } else if (el.closest("[data-custom]")) {
    const box = el.closest("[data-custom]");
    const multi = box.hasAttribute("data-multi");
    const value = multi ? [...box.querySelectorAll("input:checked")].map((c) => c.value) : (el.value === "" ? null : el.value);
    call = ["PATCH", `/api/v1/customers/${id}`, { custom: { [box.dataset.custom]: value } }];
    if (!multi && el.tagName === "INPUT") saved = (c) => String(c.custom?.[box.dataset.custom] ?? "");
  } else if (el.matches("[data-contact]")) {
    call = ["PATCH", `/api/v1/contacts/${el.dataset.contact}`, { value: el.value }];
    saved = (k) => k.value;
  } else if (el.matches("[data-deal]")) call = ["PATCH", `/api/v1/deals/${el.dataset.deal}`, { stage: el.value }];
  else if (el.matches("[data-task]")) {
    call = ["PATCH", `/api/v1/tasks/${el.dataset.task}`, { done: el.checked }];
    sent = el.checked;
  } else if (el.matches("[data-company-field]")) {
    const cid = root.querySelector("[data-company-id]").dataset.companyId;
    call = ["PATCH", `/api/v1/companies/${cid}`, { [el.dataset.companyField]: el.value }];
    saved = (co) => (el.dataset.companyField === "country" ? shown("country", co.country) : co[el.dataset.companyField] ?? el.value);
  } else if (el.matches("[data-company-pick]")) {
    const name = el.value.trim();
    if (!name) return;
    const [, found] = await api("GET", `/api/v1/companies?limit=5&q=${encodeURIComponent(name)}`);
    const match = found?.items?.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!match) { offerCompany(el, name); return; }
    setCompany(el, match.id);
    return;
  }
  if (!call) return;
  setStatus(el, "Saving…");
  const [status, data] = await api(...call);
  if (!ok(status)) { setStatus(el, ""); showError(el, data?.error); return; }
  // The saved value becomes the field's own; what was typed since stays.
  if (el.type === "checkbox") {
    el.defaultChecked = sent;
    if (el.matches("[data-task]")) el.closest("li").classList.toggle("done", el.checked);
  } else if (el.tagName === "SELECT") {
    for (const o of el.options) o.defaultSelected = o.selected;
  } else {
    const value = saved ? saved(data) : sent;
    if (el.value === sent) el.value = value;
    el.defaultValue = value;
  }
  if (el.closest("[data-multi]")) el.closest("[data-multi]").querySelectorAll("input").forEach((c) => { c.defaultChecked = c.checked; });
  clearError(el);
  setStatus(el, "Saved", true);
  if (el.matches("[data-patch]") && data?.full_name) {
    const h = root.querySelector("#drawer-name");
    if (h) h.textContent = data.full_name;
  }
  if (el.matches("[data-company-field]")) return;
  refreshRow(id);
});

// setCompany makes the company the customer's, from the company picker.
async function setCompany(el, companyId) {
  const [status, data] = await api("PATCH", `/api/v1/customers/${customerId()}`, { company_id: companyId });
  if (!ok(status)) { showError(el, data?.error); return; }
  el.value = "";
  el.defaultValue = "";
  clearError(el);
  await refresh(); // the company's link and its Remove button change
}

// offerCompany offers, under the company picker, to create the company typed
// when none is named so.
function offerCompany(el, name) {
  const box = fieldBox(el);
  box.querySelector(".company-create")?.remove();
  const p = document.createElement("span");
  p.className = "company-create";
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn-sm";
  b.dataset.companyCreate = name;
  b.textContent = `Create company “${name}”`;
  const note = document.createElement("span");
  note.className = "muted";
  note.textContent = "No company has this name yet.";
  p.append(note, b);
  box.querySelector(".inline-edit-company").after(p);
}

// createCompany adds the company offered and makes it the customer's.
async function createCompany(button) {
  const el = root.querySelector("[data-company-pick]");
  button.setAttribute("aria-busy", "true");
  const [status, data] = await api("POST", "/api/v1/companies", { name: button.dataset.companyCreate });
  button.removeAttribute("aria-busy");
  if (!ok(status)) { showError(el, data?.error); return; }
  button.closest(".company-create").remove();
  toast(`Created ${data.name}.`);
  await setCompany(el, data.id);
}

// The company picker suggests companies as the user types (the page's list).
let companyLookup = 0;
root?.addEventListener("input", (e) => {
  const el = e.target;
  if (!el.matches?.("[data-company-pick]")) return;
  fieldBox(el)?.querySelector(".company-create")?.remove();
  const mine = ++companyLookup;
  const list = document.getElementById("company-list");
  const q = el.value.trim();
  if (!list || !q) return;
  setTimeout(async () => {
    if (mine !== companyLookup) return; // typed on
    const [status, data] = await api("GET", `/api/v1/companies?limit=20&q=${encodeURIComponent(q)}`);
    if (!ok(status) || mine !== companyLookup) return;
    list.replaceChildren(...data.items.map((c) => { const o = document.createElement("option"); o.value = c.name; return o; }));
  }, 150);
});

// shown is how a field shows a saved value: a language or country by its
// name (the lists of the page pair each name with its code).
function shown(key, value) {
  const list = { language: "language-list", country: "country-list" }[key];
  if (!list || !value) return value ?? "";
  const o = [...document.querySelectorAll(`#${list} option`)].find((x) => x.textContent === value);
  return o ? o.value : value;
}

// setStatus says beside a field what happened to its last edit.
function setStatus(el, text, done) {
  const box = (fieldBox(el) || el.closest("li"))?.querySelector(".field-status");
  if (!box) return;
  box.textContent = text;
  box.classList.toggle("is-saved", !!done);
}

// dirty reports whether a field holds an edit not saved yet.
function dirty(el) {
  if (!el.matches?.("input, textarea, select")) return false;
  if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
  if (el.tagName === "SELECT") return [...el.options].some((o) => o.selected !== o.defaultSelected);
  return el.value !== el.defaultValue;
}

// cancelEdit puts a field back to its saved value (the first Esc); it
// reports whether there was an edit to cancel.
function cancelEdit(el) {
  if (!dirty(el)) return false;
  if (el.tagName === "SELECT") { for (const o of el.options) o.selected = o.defaultSelected; } else if (el.type === "checkbox" || el.type === "radio") el.checked = el.defaultChecked;
  else el.value = el.defaultValue;
  clearError(el);
  setStatus(el, "Edit cancelled");
  return true;
}

// fieldKey names a field so the same field is found in a drawer fetched again.
function fieldKey(el) {
  if (el.id) return "#" + CSS.escape(el.id);
  for (const a of ["data-patch", "data-contact", "data-custom", "data-deal", "data-task", "data-company-pick", "data-company-field"]) {
    if (el.hasAttribute(a)) return `[${a}="${CSS.escape(el.getAttribute(a))}"]`;
  }
  const f = el.closest("[data-form]");
  if (f && el.name) return `[data-form="${CSS.escape(f.dataset.form)}"] [name="${CSS.escape(el.name)}"]`;
  return null;
}

// keepEdits notes the focused field (with its selection) and every unsaved
// value of the drawer, and returns the function that puts them back into
// the drawer fetched again.
function keepEdits() {
  const active = drawer.contains(document.activeElement) ? document.activeElement : null;
  const focus = active && fieldKey(active);
  let range = null;
  try { range = active && [active.selectionStart, active.selectionEnd, active.selectionDirection]; } catch { /* no selection here */ }
  const edits = [...drawer.querySelectorAll("input, textarea, select")].filter((el) => dirty(el) && !el.closest("dialog"))
    .map((el) => [fieldKey(el), el.type === "checkbox" || el.type === "radio" ? el.checked : el.value]).filter(([k]) => k);
  return () => {
    for (const [k, v] of edits) {
      const el = drawer.querySelector(k);
      if (!el) continue;
      if (typeof v === "boolean") el.checked = v; else el.value = v;
    }
    const el = focus && drawer.querySelector(focus);
    if (!el) return;
    el.focus({ preventScroll: true });
    try { if (range && range[0] !== null) el.setSelectionRange(...range); } catch { /* no selection here */ }
  };
}

// --- tags: type, Enter (or a comma) adds; focus stays for the next one ------------
let tagChain = Promise.resolve();
// tagQueue runs tag changes one after another, so each answer is the latest list.
function tagQueue(work) {
  const run = tagChain.then(work, work);
  tagChain = run.catch(() => {});
  return run;
}

root?.addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || !e.target.matches?.('[data-form="add-tag"] input')) return;
  e.preventDefault();
  addTypedTags(e.target);
});

// A comma typed (or pasted) ends a tag: what is before it is added, what
// follows stays in the box.
root?.addEventListener("input", (e) => {
  const input = e.target;
  if (!input.matches?.('[data-form="add-tag"] input') || !input.value.includes(",")) return;
  const parts = input.value.split(",");
  input.value = parts.pop().trimStart();
  addTags(input, parts);
});

// addTypedTags adds every tag in the box (several, separated by commas).
function addTypedTags(input) {
  const names = input.value.split(",");
  input.value = "";
  addTags(input, names);
}

// addTags adds tags to the customer, one change after another; the box is
// free for the next at once, and names refused come back into it.
async function addTags(input, typed) {
  const names = typed.map((x) => x.trim()).filter(Boolean);
  if (!names.length) return;
  input.defaultValue = "";
  setStatus(input, "Saving…");
  const [status, data] = await tagQueue(() => api("POST", `/api/v1/customers/${customerId()}/tags`, { names }));
  if (!ok(status)) {
    setStatus(input, "");
    input.value = [names.join(", "), input.value].filter(Boolean).join(", ");
    showError(input, data?.error);
    return;
  }
  clearError(input);
  renderTags(data.tags, names.length === 1 ? `Added “${names[0]}”.` : `Added ${names.length} tags.`);
  refreshRow(customerId());
}

// renderTags shows the customer's tags as the server keeps them.
function renderTags(tags, said) {
  const box = root.querySelector(".tag-chips");
  if (!box) return;
  box.replaceChildren(...(tags || []).map((name) => {
    const chip = document.createElement("span");
    chip.className = "chip";
    const x = document.createElement("button");
    x.className = "chip-x";
    x.type = "button";
    x.dataset.untag = name;
    x.setAttribute("aria-label", `Remove tag ${name}`);
    x.textContent = "×";
    chip.append(name, x);
    return chip;
  }));
  const status = root.querySelector(".tag-editor .field-status");
  if (status) { status.textContent = said; status.classList.add("is-saved"); }
}

// A new edit of a field replaces what was said of the last one.
root?.addEventListener("input", (e) => {
  if (e.target.matches?.("[data-patch], [data-contact], [data-custom], [data-company-field]")) setStatus(e.target, "");
});

// Small forms inside the drawer.
root?.addEventListener("submit", async (e) => {
  const f = e.target.closest("[data-form]");
  if (!f) return;
  e.preventDefault();
  const id = customerId();
  const v = Object.fromEntries(new FormData(f));
  let call;
  switch (f.dataset.form) {
    case "reassign": call = ["POST", `/api/v1/customers/${id}/reassign`, { owner_id: Number(v.user_id) }]; break;
    case "add-contact": call = ["POST", `/api/v1/customers/${id}/contacts`, { channel: v.channel, value: v.value }]; break;
    case "add-tag": addTypedTags(f.querySelector("input")); return;
    case "add-deal": call = ["POST", `/api/v1/customers/${id}/deals`, { title: v.title, amount: Math.round(Number(v.amount || 0) * 100), currency: v.currency }]; break;
    case "add-task": call = ["POST", `/api/v1/customers/${id}/tasks`, v.due ? { title: v.title, due: v.due } : { title: v.title }]; break;
    case "add-note": call = ["POST", `/api/v1/customers/${id}/notes`, { body: v.body }]; break;
    case "send": call = ["POST", `/api/v1/customers/${id}/send`, { channel: "email", contact_id: Number(v.contact_id), subject: v.subject, body: v.body }]; break;
    case "log-message": {
      const [channel, value] = v.contact.split("|");
      call = ["POST", "/api/v1/messages", { direction: "inbound", channel, from: value, subject: v.subject, body: v.body }];
      break;
    }
    default: return;
  }
  const button = f.querySelector("button[type=submit]");
  button?.setAttribute("aria-busy", "true");
  const [status, data] = await api(...call);
  button?.removeAttribute("aria-busy");
  if (!ok(status)) {
    if (f.dataset.form === "send") { fieldErrors(f, data?.error); return; }
    showError(f.querySelector("input, textarea, select"), data?.error);
    return;
  }
  if (f.dataset.form === "reassign") toast(`Reassigned to ${data.owner?.name}.`);
  if (f.dataset.form === "send") {
    f.closest("dialog").close();
    toast(data.status === "sent" ? "Sent." : data.status === "outbox" ? "Kept in the outbox: no mail server is configured, so it was not delivered." : "Not delivered: " + (data.error || "the mail server refused it."), data.status === "failed");
  }
  if (f.dataset.form === "log-message") toast("Logged.");
  f.reset(); // done: what was typed is saved, so the redraw does not carry it over
  refresh();
});

// fieldErrors puts each API field error beside its field in a dialog form.
function fieldErrors(form, error) {
  form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
  const list = error?.fields?.length ? error.fields : [{ field: error?.field, message: errText(error) }];
  for (const fe of list) {
    const box = form.querySelector(`[data-field="${fe.field}"]`);
    const p = box ? box.querySelector(".field-error") : form.querySelector(".form-error");
    p.textContent = fe.message;
    p.hidden = false;
  }
}

// --- dialogs: suppress, unsuppress, confirm ----------------------------------------------
function openSuppress(kind, contactId, value) {
  const dlg = document.getElementById(`${kind}-dialog`);
  const form = dlg.querySelector("form");
  form.reset();
  form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
  form.querySelectorAll(".has-error").forEach((p) => p.classList.remove("has-error"));
  dlg.querySelector('[data-slot="value"]').textContent = value;
  form.dataset.contact = contactId;
  dlg.showModal();
}

document.querySelectorAll("[data-dialog-form]").forEach((form) => form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const kind = form.dataset.dialogForm;
  const v = Object.fromEntries(new FormData(form));
  const [status, data] = await api("POST", `/api/v1/contacts/${form.dataset.contact}/${kind}`, v);
  if (!ok(status)) {
    const field = data?.error?.field;
    const box = form.querySelector(`[data-field="${field}"]`);
    const p = box ? box.querySelector(".field-error") : form.querySelector(".form-error");
    box?.classList.add("has-error");
    p.textContent = errText(data?.error);
    p.hidden = false;
    box?.querySelector("textarea, select")?.focus();
    return;
  }
  form.closest("dialog").close();
  toast(kind === "suppress" ? "Suppressed: no send will reach this contact." : "Suppression lifted.");
  refresh();
}));

function confirmDialog(title, text, okLabel) {
  const dlg = document.getElementById("confirm-dialog");
  dlg.querySelector('[data-slot="title"]').textContent = title;
  dlg.querySelector('[data-slot="text"]').textContent = text;
  dlg.querySelector('[data-slot="ok"]').textContent = okLabel;
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => {
    const onClose = () => {
      if (dlg.open) return; // a queued close of an earlier question: not this one's answer
      dlg.removeEventListener("close", onClose);
      resolve(dlg.returnValue === "ok");
    };
    dlg.addEventListener("close", onClose);
  });
}

document.addEventListener("click", (e) => {
  if (e.target.closest("dialog [data-close]")) e.target.closest("dialog").close();
});

// The words and the date style the pages use (crm/labels.go) for what the API answers in keys.
const reasonWords = { unsubscribe: "Unsubscribed", bounce: "Bounced", complaint: "Marked as spam", manual: "Suppressed by hand", do_not_contact: "Do not contact" };
const actionWords = { suppress: "Suppressed", unsuppress: "Suppression lifted" };
function when(at) {
  return new Date(at).toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

// --- live updates (issue 15, live.js) -------------------------------------------------
// A change of the open customer by someone else shows at once: the drawer is
// fetched again (owner, tags, fields, activity), keeping the tab and the
// scroll. While the user is editing in it (a field changed or focused, a form,
// a menu or a dialog open) nothing they typed is replaced: a notice says who
// changed the customer and offers to reload.
const liveWords = { owner_changed: "changed the owner", tag_added: "added a tag", tag_removed: "removed a tag", archived: "archived it",
  restored: "restored it", merged_into: "merged it", merged_from: "merged into it", updated: "edited it" };
const liveMe = Number(document.getElementById("customer-table")?.dataset.me || 0);

function editing() {
  const a = document.activeElement;
  if (a && drawer.contains(a) && a.matches("input:not([type=checkbox]):not([type=radio]), textarea, select")) return true;
  if (drawer.querySelector("details[open]")) return true; // a menu of the drawer is open
  if (document.querySelector("dialog[open]")) return true;
  return [...drawer.querySelectorAll("input, textarea, select")].some((el) => {
    if (el.tagName !== "SELECT") return dirty(el);
    const def = [...el.options].findIndex((o) => o.defaultSelected); // none marked: the first is the default
    return !el.multiple && el.selectedIndex !== Math.max(def, 0);
  });
}

function liveSaid(text, cls) {
  const inner = drawer.querySelector(".drawer-inner");
  if (!inner) return null;
  inner.querySelector(".live-notice, .live-said")?.remove();
  const p = document.createElement("div");
  p.className = cls;
  p.setAttribute("role", "status");
  const span = document.createElement("span");
  span.textContent = text;
  p.append(span);
  inner.querySelector(".drawer-head").after(p);
  return p;
}

if (drawer) {
  document.addEventListener("crm:live", async (e) => {
    const ev = e.detail;
    if (drawer.hidden || ev.customer_id !== customerId() || !ev.by || ev.by.id === liveMe) return;
    const what = `${ev.by.name} ${liveWords[ev.kind] || "changed this customer"} just now.`;
    if (editing()) {
      const p = liveSaid(`${what} Reload to see it; what you typed stays.`, "live-notice");
      if (!p) return;
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-sm";
      b.textContent = "Reload";
      b.addEventListener("click", () => refresh());
      p.append(b);
      return;
    }
    await refresh();
    const p = liveSaid(what, "live-said");
    if (p) setTimeout(() => p.remove(), 60000);
  });
}
