// Saved views of the customer table: save, update, rename, duplicate,
// delete, pin and default, through /api/v1/views. Errors stay beside the
// name field, with what was typed.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const bar = document.getElementById("views-bar");
const dialog = document.getElementById("view-dialog");
const form = document.getElementById("view-form");

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch { /* 204 */ }
  return [res.status, data];
}

function toast(text) {
  const t = document.createElement("div");
  t.className = "toast toast-error";
  t.setAttribute("role", "alert");
  t.textContent = text;
  t.addEventListener("click", () => t.remove());
  document.getElementById("main").append(t);
}

const errText = (error) => (error?.fields?.length ? error.fields.map((f) => f.message).join(" ") : error?.message)
  || "Something went wrong. Please try again.";

const viewURL = (v) => "/crm/customers?" + new URLSearchParams([...new URLSearchParams(v.query), ["view", String(v.id)]]);

// The table's state as shown, and the open view's state as saved.
const current = () => ({
  query: bar.dataset.stateQuery,
  columns: JSON.parse(bar.dataset.stateColumns || "[]"),
  score_product: bar.dataset.stateScore || "",
});
const saved = () => ({
  query: bar.dataset.viewQuery,
  columns: JSON.parse(bar.dataset.viewColumns || "[]"),
  score_product: bar.dataset.viewScore || "",
});
const viewID = () => bar.dataset.viewId;

let mode = "create";

function openDialog(m) {
  mode = m;
  const title = { create: "Save view", rename: "Rename view", duplicate: "Duplicate view" }[m];
  dialog.querySelector("#view-dialog-title").textContent = title;
  dialog.querySelector("#view-dialog-submit").textContent = { create: "Save view", rename: "Rename", duplicate: "Duplicate" }[m];
  dialog.querySelector('[data-slot="intro"]').hidden = m !== "create";
  const name = form.elements.name;
  name.value = m === "rename" ? bar.dataset.viewName : m === "duplicate" ? "Copy of " + bar.dataset.viewName : "";
  const sharedRow = dialog.querySelector('[data-slot="shared-row"]');
  sharedRow.hidden = m === "rename" && bar.dataset.viewMine !== "true";
  form.elements.shared.checked = m === "rename" && bar.dataset.viewShared === "true";
  clearErrors();
  dialog.showModal();
  name.focus();
}

function clearErrors() {
  const f = form.querySelector('[data-field="name"]');
  f.classList.remove("has-error");
  form.elements.name.removeAttribute("aria-invalid");
  const p = f.querySelector(".field-error");
  p.hidden = true;
  p.textContent = "";
  const e = form.querySelector('[data-slot="error"]');
  e.hidden = true;
  e.textContent = "";
}

function showError(error) {
  const byName = (error?.fields || []).filter((f) => f.field === "name");
  if (byName.length) {
    const f = form.querySelector('[data-field="name"]');
    f.classList.add("has-error");
    form.elements.name.setAttribute("aria-invalid", "true");
    const p = f.querySelector(".field-error");
    p.textContent = byName.map((x) => x.message).join(" ");
    p.hidden = false;
    form.elements.name.focus();
    return;
  }
  const e = form.querySelector('[data-slot="error"]');
  e.textContent = errText(error);
  e.hidden = false;
}

form?.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors();
  const submit = dialog.querySelector("#view-dialog-submit");
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  const name = form.elements.name.value;
  const shared = form.elements.shared.checked;
  let status, data;
  try {
    if (mode === "create") {
      [status, data] = await call("POST", "/api/v1/views", { name, shared, ...current() });
    } else if (mode === "duplicate") {
      [status, data] = await call("POST", "/api/v1/views", { name, shared, ...saved() });
    } else {
      const body = { name };
      if (bar.dataset.viewMine === "true") body.shared = shared;
      [status, data] = await call("PATCH", "/api/v1/views/" + viewID(), body);
    }
  } catch {
    status = 0;
    data = null;
  } finally {
    submit.disabled = false;
    submit.removeAttribute("aria-busy");
  }
  if (status >= 200 && status < 300) {
    dialog.close();
    location.assign(mode === "rename" ? location.href : viewURL(data));
    return;
  }
  showError(data?.error);
});

document.getElementById("view-save")?.addEventListener("click", () => openDialog("create"));

document.getElementById("view-update")?.addEventListener("click", async (e) => {
  const b = e.currentTarget;
  b.disabled = true;
  b.setAttribute("aria-busy", "true");
  const [status, data] = await call("PATCH", "/api/v1/views/" + viewID(), current());
  if (status === 200) { location.assign(viewURL(data)); return; }
  b.disabled = false;
  b.removeAttribute("aria-busy");
  toast(errText(data?.error));
});

document.getElementById("view-actions")?.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-view-act]");
  if (!b) return;
  b.closest("details").removeAttribute("open");
  const act = b.dataset.viewAct;
  if (act === "rename" || act === "duplicate") { openDialog(act); return; }
  let status, data;
  if (act === "delete") {
    if (!window.confirm(`Delete the view “${bar.dataset.viewName}”? ${bar.dataset.viewShared === "true" ? "Your teammates lose it too. " : ""}The customers stay as they are.`)) return;
    [status, data] = await call("DELETE", "/api/v1/views/" + viewID());
    if (status === 204) { location.assign("/crm/customers?" + new URLSearchParams(bar.dataset.stateQuery)); return; }
  } else if (act === "pin") {
    [status, data] = await call("PATCH", "/api/v1/views/" + viewID(), { pinned: b.dataset.pinned !== "true" });
  } else if (act === "default") {
    [status, data] = await call("PATCH", "/api/v1/views/" + viewID(), { default: b.dataset.default !== "true" });
  }
  if (status === 200) { location.reload(); return; }
  toast(errText(data?.error));
});
