// Selection and bulk actions on the customer table: row checkboxes (shift-click
// for a range, x on the focused row), select the page, "select all N
// matching", the bulk bar's actions, and the two-step merge.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const bar = document.getElementById("bulkbar");
const table = document.getElementById("customer-table");
const progress = document.getElementById("bulk-progress");
let allMatching = false;
let lastChecked = null;

const checks = () => [...table.querySelectorAll(".row-check")];
const selected = () => checks().filter((c) => c.checked).map((c) => Number(c.value));
let total = Number(bar.dataset.total);
const count = () => (allMatching ? total : selected().length);
const fmt = (n) => n.toLocaleString("en");

async function api(method, url, body) {
  const res = await fetch(url, { method, headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf }, body: body && JSON.stringify(body) });
  return [res.status, await res.json().catch(() => null)];
}

function toast(text, isError) {
  const t = document.createElement("div");
  t.className = "toast" + (isError ? " toast-error" : "");
  t.setAttribute("role", isError ? "alert" : "status");
  t.textContent = text;
  document.getElementById("main").append(t);
  if (!isError) setTimeout(() => t.remove(), 6000); else t.addEventListener("click", () => t.remove());
}

function render() {
  const n = count();
  bar.hidden = n === 0;
  document.getElementById("bulk-n").textContent = allMatching ? `All ${fmt(total)}${bar.dataset.exact === "true" ? "" : "+"}` : fmt(n);
  const sel = document.getElementById("select-all-matching");
  sel.hidden = allMatching || n < checks().length || total <= checks().length;
  checks().forEach((c) => c.closest("tr").classList.toggle("checked", c.checked));
  const page = document.getElementById("check-page");
  page.checked = checks().length > 0 && checks().every((c) => c.checked);
  page.indeterminate = !page.checked && checks().some((c) => c.checked);
  document.getElementById("bulk-merge").disabled = allMatching || n < 2 || n > 10;
  const q = new URLSearchParams(bar.dataset.query);
  if (!allMatching) { q.delete("id"); selected().forEach((id) => q.append("id", id)); }
  document.getElementById("bulk-export").href = "/api/v1/customers/export.csv?" + q;
}

table.addEventListener("click", (e) => {
  const box = e.target.closest(".row-check");
  if (!box) return;
  e.stopPropagation(); // checking a row does not open the drawer
  allMatching = false;
  if (e.shiftKey && lastChecked) { // a range, from the last box clicked
    const list = checks();
    const [a, b] = [list.indexOf(lastChecked), list.indexOf(box)].sort((x, y) => x - y);
    list.slice(a, b + 1).forEach((c) => { c.checked = box.checked; });
  }
  lastChecked = box;
  render();
}, true);
document.getElementById("check-page").addEventListener("change", (e) => {
  allMatching = false;
  checks().forEach((c) => { c.checked = e.target.checked; });
  render();
});
document.getElementById("select-all-matching").addEventListener("click", () => { checks().forEach((c) => { c.checked = true; }); allMatching = true; render(); });
document.getElementById("bulk-clear").addEventListener("click", clear);
function clear() { allMatching = false; checks().forEach((c) => { c.checked = false; }); render(); }
document.addEventListener("keydown", (e) => { // x checks the focused row
  if (e.key !== "x" || e.ctrlKey || e.metaKey || !e.target.matches?.("#customer-table tr[data-id]")) return;
  const box = e.target.querySelector(".row-check");
  box.checked = !box.checked;
  allMatching = false;
  lastChecked = box;
  render();
});

// target is what a bulk request acts on: the selection, or the filter.
function target() {
  if (!allMatching) return { ids: selected() };
  const filter = {};
  for (const [k, v] of new URLSearchParams(bar.dataset.query)) {
    if (k === "sort" || k === "limit") continue;
    (filter[k] ??= []).push(v);
  }
  return { filter };
}

const labels = { claim: "Claimed", release: "Released", tag: "Tagged", segment_add: "Added", segment_remove: "Removed", archive: "Archived", restore: "Restored", undo: "Undone" };

// --- issue 12, item 3: confirm an action on every matching customer, and undo ----------
const verbs = { claim: "Claim", release: "Release", tag: "Tag", segment_add: "Add", segment_remove: "Remove", archive: "Archive", restore: "Restore" };
const confirmAllDlg = document.getElementById("bulk-confirm");

// confirmAll asks before an action changes more than the rows ticked by
// hand ("select all N matching"), naming the count; true to go on.
function confirmAll(action) {
  return new Promise((resolve) => {
    const n = `${fmt(total)}${bar.dataset.exact === "true" ? "" : "+"}`;
    const title = action === "segment_add" ? `Add ${n} customers to the segment?`
      : action === "segment_remove" ? `Remove ${n} customers from the segment?`
      : `${verbs[action]} ${n} customers?`;
    confirmAllDlg.querySelector('[data-slot="title"]').textContent = title;
    confirmAllDlg.querySelector('[data-slot="ok"]').textContent = `${verbs[action]} ${n}`;
    confirmAllDlg.returnValue = "";
    confirmAllDlg.addEventListener("close", () => resolve(confirmAllDlg.returnValue === "ok"), { once: true });
    confirmAllDlg.showModal();
  });
}

// undo asks for the undo of a bulk action (its job id) and follows its job.
async function undo(id, button) {
  button.disabled = true;
  const [status, data] = await api("POST", `/api/v1/jobs/${id}/undo`);
  if (status !== 202) {
    button.disabled = false;
    toast(data?.error?.message || "The action could not be undone.", true);
    return;
  }
  button.hidden = true;
  follow(data.job.id, "undo");
}
document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-undo]");
  if (b) undo(Number(b.dataset.undo), b);
});

// refresh re-reads the page the table shows and puts in its rows, count,
// pager and recent bulk actions (issue 12, item 4): after a background job
// the table shows what it did. The selection is cleared; the scroll stays.
async function refresh() {
  const x = window.scrollX, y = window.scrollY;
  const res = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!res.ok) return;
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  for (const sel of ["#customer-table tbody", "#match-count", ".pager", "#bulk-recent"]) {
    const cur = document.querySelector(sel), next = doc.querySelector(sel);
    if (cur && next) cur.replaceWith(document.adoptNode(next));
  }
  document.querySelector(".empty-in-table")?.remove();
  const empty = doc.querySelector(".empty-in-table");
  if (empty) table.after(document.adoptNode(empty));
  const nb = doc.getElementById("bulkbar");
  if (nb) {
    bar.dataset.total = nb.dataset.total;
    bar.dataset.exact = nb.dataset.exact;
    document.getElementById("select-all-matching").textContent = nb.querySelector("#select-all-matching").textContent;
  }
  total = Number(bar.dataset.total);
  allMatching = false;
  lastChecked = null;
  render();
  window.scrollTo(x, y);
}

async function run(action, extra, form) {
  if (allMatching && !(await confirmAll(action))) return;
  const [status, data] = await api("POST", "/api/v1/customers/bulk", { action, ...target(), ...extra });
  if (status === 202) { form?.closest("dialog").close(); follow(data.job.id, action, total); return; }
  if (status !== 200) {
    if (form) return showErrors(form, data?.error);
    toast(data?.error?.message || "Something went wrong.", true);
    return;
  }
  form?.closest("dialog").close();
  const skipped = data.skipped ? ` ${fmt(data.skipped)} skipped: ${summarise(data.skips)}.` : "";
  sessionStorage.setItem("toast", `${labels[action]} ${fmt(data.done)} customer${data.done === 1 ? "" : "s"}.${skipped}`);
  location.reload();
}

function summarise(skips) {
  const by = {};
  for (const s of skips) by[s.reason] = (by[s.reason] || 0) + 1;
  return Object.entries(by).map(([r, n]) => `${fmt(n)} ${r}`).join("; ");
}

// follow shows a background bulk job's progress until its result.
async function follow(id, action, expected) {
  progress.hidden = false;
  delete progress.dataset.done;
  const undoBtn = progress.querySelector('[data-slot="undo"]');
  undoBtn.hidden = true;
  progress.querySelector('[data-slot="skipped"]').hidden = true;
  progress.querySelector('[data-slot="title"]').textContent = `${labels[action]}…`;
  const barEl = progress.querySelector("progress");
  const text = progress.querySelector('[data-slot="text"]');
  const stop = progress.querySelector('[data-slot="cancel"]');
  stop.hidden = false;
  stop.onclick = () => cancelJob(id, stop);
  for (;;) {
    const res = await fetch(`/api/v1/jobs/${id}`, { headers: { Accept: "application/json" } });
    const j = await res.json();
    const p = j.result || j.progress;
    if (p) {
      barEl.max = Math.max(expected || p.processed, 1);
      barEl.value = p.processed;
      text.textContent = expected ? `${fmt(p.processed)} of ${fmt(expected)}: done ${fmt(p.done)}, skipped ${fmt(p.skipped)}`
        : `${fmt(p.processed)} customers: undone ${fmt(p.done)}, skipped ${fmt(p.skipped)}`;
    }
    if (j.status === "done" || j.status === "failed" || j.status === "canceled") {
      progress.querySelector('[data-slot="title"]').textContent = j.status === "done" ? `${labels[action]}: finished.` : `Stopped (${j.status}).`;
      stop.hidden = true;
      if (p && p.skipped) {
        const a = progress.querySelector('[data-slot="skipped"]');
        a.href = `/api/v1/jobs/${id}/skipped.csv`;
        a.hidden = false;
      }
      if (j.undo?.available) { undoBtn.hidden = false; undoBtn.disabled = false; undoBtn.dataset.undo = id; }
      await refresh();
      progress.dataset.done = j.status;
      return;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

bar.addEventListener("click", (e) => {
  const b = e.target.closest("[data-bulk]");
  if (b) { run(b.dataset.bulk); return; }
  const d = e.target.closest("[data-bulk-dialog]");
  if (d) {
    const dlg = document.getElementById(`bulk-${d.dataset.bulkDialog}`);
    dlg.querySelectorAll('[data-slot="n"]').forEach((s) => { s.textContent = allMatching ? `all ${fmt(total)}` : fmt(count()); });
    dlg.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
    dlg.showModal();
  }
});

function showErrors(form, error) {
  form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
  const list = error?.fields?.length ? error.fields : [{ field: error?.field, message: error?.message || "Something went wrong." }];
  for (const fe of list) {
    const box = form.querySelector(`[data-field="${fe.field}"]`);
    const p = box ? box.querySelector(".field-error") : form.querySelector(".form-error");
    p.textContent = fe.message;
    p.hidden = false;
  }
}

document.querySelector("#bulk-tag form").addEventListener("submit", (e) => {
  e.preventDefault();
  const tags = e.target.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (!tags.length) return showErrors(e.target, { field: "tags", message: "Name at least one tag." });
  run("tag", { tags }, e.target);
});

const segForm = document.querySelector("#bulk-segment form");
const segName = segForm.querySelector('[data-field="name"]');
const syncSeg = () => { segName.hidden = segForm.elements.segment_id.value !== "new"; };
segForm.elements.segment_id.addEventListener("change", syncSeg);
syncSeg();
segForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = segForm.elements;
  let id = f.segment_id.value;
  if (id === "new") { // a new segment, created from the bar
    const [status, data] = await api("POST", "/api/v1/segments", { name: f.name.value });
    if (status !== 201) return showErrors(segForm, { ...data?.error, field: "name" });
    id = data.id;
  }
  run(f.mode.value, { segment_id: Number(id) }, segForm);
});

// --- merge: pick the primary, preview, then a second explicit confirmation ----------
const pick = document.getElementById("merge-pick");
const confirmDlg = document.getElementById("merge-confirm");
let mergeSet = []; // the customers of the merge dialog
document.getElementById("bulk-merge").addEventListener("click", () => openMerge(selected()));

// openMerge shows the merge picker for ids: each customer with what tells two
// people of the same name apart (e-mail, company, owner, when added), the
// oldest first and picked as the one to keep.
async function openMerge(ids) {
  mergeSet = ids.slice();
  const q = new URLSearchParams({ archived: "all", limit: String(ids.length) });
  ids.forEach((id) => q.append("id", id));
  const [status, data] = await api("GET", `/api/v1/customers?${q}`);
  if (status !== 200) { toast(data?.error?.message || "Could not load these customers.", true); return false; }
  const cs = data.items.slice().sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  pick.querySelector('[data-slot="n"]').textContent = cs.length;
  pick.querySelector('[data-slot="list"]').replaceChildren(...cs.map((c, i) => {
    const l = document.createElement("label");
    l.innerHTML = `<input type="radio" name="primary" value="${c.id}" ${i === 0 ? "checked" : ""}> <span class="merge-who"><strong class="merge-name"></strong><span class="muted small" data-slot="details"></span></span>`;
    l.querySelector(".merge-name").textContent = c.full_name;
    const details = [c.primary_email || "no e-mail", c.company ? c.company.name : "no company", c.owner ? `owner ${c.owner.name}` : "unclaimed",
      `added ${c.created_at.slice(0, 10)}${i === 0 ? " (the oldest)" : ""}`];
    l.querySelector('[data-slot="details"]').textContent = details.join(" · ");
    l.title = `${c.full_name} · ${details.join(" · ")}`;
    return l;
  }));
  const plan = pick.querySelector('[data-slot="plan"]');
  plan.hidden = true;
  pick.querySelector("[data-merge-next]").disabled = true;
  pick.querySelector(".form-error").hidden = true;
  pick.showModal();
  return true;
}
pick.addEventListener("change", () => { pick.querySelector("[data-merge-next]").disabled = true; pick.querySelector('[data-slot="plan"]').hidden = true; });

function mergeIDs() {
  const primary = Number(pick.querySelector('input[name="primary"]:checked').value);
  return { primary_id: primary, secondary_ids: mergeSet.filter((id) => id !== primary) };
}

pick.querySelector("[data-merge-preview]").addEventListener("click", preview);
async function preview() {
  const [status, p] = await api("POST", "/api/v1/customers/merge/preview", mergeIDs());
  const err = pick.querySelector(".form-error");
  if (status !== 200) { err.textContent = p?.error?.message || "Cannot merge these."; err.hidden = false; return; }
  err.hidden = true;
  const plan = pick.querySelector('[data-slot="plan"]');
  const li = (t) => { const e = document.createElement("li"); e.textContent = t; return e; };
  const ul = document.createElement("ul");
  const collapsing = p.contacts.filter((k) => k.collapses).length;
  ul.append(li(`${p.contacts.length} contact${p.contacts.length === 1 ? "" : "s"} move${collapsing ? ` (${collapsing} already on ${p.primary.name}: they become one, keeping any suppression)` : ""}`));
  ul.append(li(`${p.deals} deals, ${p.notes} notes, ${p.tasks} tasks and ${p.messages} messages move`));
  if (p.tags_added.length) ul.append(li(`tags added: ${p.tags_added.join(", ")}`));
  if (p.segments_added.length) ul.append(li(`joins ${p.segments_added.length} more segment(s)`));
  const fills = Object.keys(p.fill);
  if (fills.length) ul.append(li(`fills ${fills.map((f) => f.replace(/^(score|custom):/, "")).join(", ")} from the others`));
  ul.append(li(`owner afterwards: ${p.owner ? p.owner.name : "nobody"}`));
  plan.replaceChildren(Object.assign(document.createElement("strong"), { textContent: `Into ${p.primary.name}:` }), ul);
  plan.hidden = false;
  pick.querySelector("[data-merge-next]").disabled = false;
}

pick.querySelector("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const ids = mergeIDs();
  const primary = pick.querySelector('input[name="primary"]:checked').closest("label").querySelector(".merge-name").textContent;
  confirmDlg.querySelector('[data-slot="primary"]').textContent = primary;
  confirmDlg.querySelector('[data-slot="others"]').textContent = `${ids.secondary_ids.length} customer${ids.secondary_ids.length === 1 ? "" : "s"}`;
  const q = new URLSearchParams({ archived: "all" });
  [ids.primary_id, ...ids.secondary_ids].forEach((id) => q.append("id", id));
  confirmDlg.querySelector('[data-slot="backup"]').href = "/api/v1/customers/export.csv?" + q;
  confirmDlg.returnValue = "";
  confirmDlg.showModal();
});

confirmDlg.addEventListener("close", async () => {
  if (confirmDlg.returnValue !== "merge") return; // cancel leaves everything as it was
  const ids = mergeIDs();
  const [status, data] = await api("POST", "/api/v1/customers/merge", { ...ids, confirm: true });
  if (status !== 200) {
    const err = pick.querySelector(".form-error");
    err.textContent = data?.error?.message || "The merge failed; nothing was changed.";
    err.hidden = false;
    return;
  }
  pick.close();
  sessionStorage.setItem("toast", `Merged ${ids.secondary_ids.length + 1} customers into ${data.customer.full_name}.`);
  location.href = `/crm/customers/${ids.primary_id}?${bar.dataset.query}`;
});

render();

// "Review and merge" on Possible duplicates opens the table with the pair
// (?id=A&id=B#merge): check them and open their merge preview at once.
if (location.hash === "#merge") {
  const ids = new URLSearchParams(location.search).getAll("id").map(Number).filter((n) => n > 0);
  history.replaceState(history.state, "", location.pathname + location.search); // a reload does not open it again
  if (ids.length >= 2 && ids.length <= 10) {
    ids.forEach((id) => { const box = table.querySelector(`tr[data-id="${id}"] .row-check`); if (box) box.checked = true; });
    render();
    openMerge(ids).then((shown) => { if (shown) preview(); });
  }
}

// cancelJob asks the server to stop a job: it stops after its current
// chunk, and what it did stays (the progress shows it end "canceled").
async function cancelJob(id, button) {
  button.disabled = true;
  const res = await fetch(`/api/v1/jobs/${id}/cancel`, { method: "POST", headers: { Accept: "application/json", "X-CSRF-Token": csrf } });
  if (!res.ok && res.status !== 409) {
    button.disabled = false;
    const j = await res.json().catch(() => ({}));
    alert((j.error && j.error.message) || "Could not cancel the job.");
  }
}
