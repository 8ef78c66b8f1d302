// The Companies table: a row opens the company drawer beside the table (its
// own URL, ?open=ID, keeping the table's filters), the Add company dialog
// with errors beside the fields. Edits inside the drawer are drawer.js's.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const side = document.getElementById("company-drawer");
const table = document.getElementById("company-table");

function markRow(id) {
  table?.querySelectorAll("tr[aria-selected]").forEach((r) => r.removeAttribute("aria-selected"));
  if (id) table?.querySelector(`tr[data-id="${id}"]`)?.setAttribute("aria-selected", "true");
}

async function openCompany(row, { push = true } = {}) {
  const id = row.dataset.id;
  const res = await fetch(`/crm/companies/${id}?fragment=drawer`);
  if (!res.ok) { location.href = row.dataset.href; return; }
  side.innerHTML = await res.text();
  side.hidden = false;
  markRow(id);
  if (push) history.pushState({ company: id }, "", row.dataset.href);
  side.querySelector("#company-name")?.focus();
}

function closeCompany({ push = true } = {}) {
  if (side.hidden) return;
  const id = side.querySelector("[data-company-id]")?.dataset.companyId;
  side.hidden = true;
  side.innerHTML = "";
  markRow(0);
  if (push) history.pushState({}, "", side.dataset.closeUrl);
  table?.querySelector(`tr[data-id="${id}"]`)?.focus();
}

// A click on a row, or on its name, opens the drawer; with a modifier key the
// link opens as the browser would.
table?.addEventListener("click", (e) => {
  const row = e.target.closest("tr[data-id]");
  if (!row || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  openCompany(row);
});
table?.addEventListener("keydown", (e) => {
  const row = e.target.closest?.("tr[data-id]");
  if (e.key === "Enter" && row && e.target === row) { e.preventDefault(); openCompany(row); }
});
// the drawer's close button: back to the table as it was (drawer.js would
// leave for the bare table)
side?.addEventListener("click", (e) => {
  if (!e.target.closest("[data-close-drawer]")) return;
  e.stopPropagation();
  closeCompany();
}, true);
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || side.hidden || document.querySelector("dialog[open], details.popover[open]")) return;
  if (e.target.closest?.("input, textarea, select")) return; // Esc in a field is the field's
  closeCompany();
});
window.addEventListener("popstate", () => location.reload());

// --- Add company ------------------------------------------------------------
const dialog = document.getElementById("add-company-dialog");
const form = document.getElementById("add-company-form");

function clearErrors() {
  form.querySelectorAll(".field").forEach((f) => {
    f.classList.remove("has-error");
    f.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
    const p = f.querySelector(".field-error");
    if (p) { p.hidden = true; p.textContent = ""; }
  });
  const general = form.querySelector(".form-error");
  general.hidden = true;
  general.textContent = "";
}

// showErrors puts each API field error beside its field; the rest on top.
// What the user typed stays in the fields.
function showErrors(error) {
  const list = error?.fields?.length ? error.fields : [{ field: error?.field || "", message: error?.message || "Something went wrong. Please try again." }];
  let first = null;
  const rest = [];
  for (const fe of list) {
    const box = form.querySelector(`[data-field="${CSS.escape((fe.field || "").replace(/^body\./, "").split(".")[0])}"]`);
    if (!box) { rest.push(fe.message); continue; }
    box.classList.add("has-error");
    const p = box.querySelector(".field-error");
    p.textContent = fe.message;
    p.hidden = false;
    const input = box.querySelector("input");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id || (p.id = `${input.id}-error`));
    first ??= input;
  }
  if (rest.length) {
    const general = form.querySelector(".form-error");
    general.textContent = rest.join(" ");
    general.hidden = false;
  }
  first?.focus();
}

document.getElementById("add-company")?.addEventListener("click", () => {
  clearErrors();
  dialog.showModal();
  form.elements.name.focus();
});
dialog?.addEventListener("click", (e) => { if (e.target.closest("[data-close]")) dialog.close(); });
dialog?.addEventListener("close", () => document.getElementById("add-company")?.focus());
form?.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors();
  if (!form.elements.name.value.trim()) { showErrors({ fields: [{ field: "name", message: "Enter the company's name." }] }); return; }
  const button = document.getElementById("add-company-submit");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  let status = 0;
  let body = null;
  try {
    const res = await fetch("/api/v1/companies", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: JSON.stringify({ name: form.elements.name.value, domain: form.elements.domain.value, country: form.elements.country.value }),
    });
    status = res.status;
    try { body = await res.json(); } catch { /* not JSON */ }
  } catch {
    body = { error: { message: "The server could not be reached. Nothing was added; try again." } };
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
  if (status !== 201) { showErrors(body?.error); return; }
  // the new company, open beside the table
  const q = new URLSearchParams(side.dataset.closeUrl.split("?")[1] || "");
  q.set("open", body.id);
  location.href = `/crm/companies?${q}`;
});
