// Imports page: the list of imports, the four-step wizard (upload, map,
// preview, submit) over /api/v1/imports, and the live progress of a running
// import (rows, rate, time left), which survives leaving and coming back.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const app = document.getElementById("imports-app");
const $ = (sel, root = document) => root.querySelector(sel);
const num = (n) => Number(n).toLocaleString("en");
// the targets with human names, should the server not send them
const TARGETS = [["first_name", "First name"], ["last_name", "Last name"], ["full_name", "Full name"], ["email", "E-mail"],
  ["phone", "Phone"], ["linkedin_url", "LinkedIn profile"], ["website", "Website"], ["company_name", "Company"], ["tags", "Tags"],
  ["segment_id", "Segment (id)"], ["owner_email", "Owner (a user's e-mail)"], ["language", "Language"], ["country", "Country"],
  ["timezone", "Time zone"]];
// the targets several columns may share: each one more contact of the customer
const CONTACT_TARGETS = new Set(["email", "phone", "linkedin_url", "website"]);
let current = null; // {id, filename, columns, mapping, mode, targets, samples}

async function api(method, path, body) {
  const opts = { method, headers: { Accept: "application/json", "X-CSRF-Token": csrf } };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error?.message || `The server answered ${res.status}.`);
  return data;
}

function showError(el, err) { el.textContent = err ? err.message || String(err) : ""; el.hidden = !err; }

function step(name) {
  $("#imports-list").hidden = true;
  $("#import-progress").hidden = true;
  $("#wizard").hidden = false;
  let done = true;
  document.querySelectorAll(".steps li").forEach((li) => {
    if (li.dataset.step === name) { li.setAttribute("aria-current", "step"); done = false; } else li.removeAttribute("aria-current");
    li.classList.toggle("done", done && li.dataset.step !== name);
  });
  document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== name; });
}

// ---- the list
async function showList() {
  $("#wizard").hidden = true;
  const list = $("#imports-list");
  list.hidden = false;
  const [{ items }, users] = await Promise.all([api("GET", "/api/v1/imports"), api("GET", "/api/v1/users").catch(() => [])]);
  const names = new Map((users.items || users || []).map((u) => [u.id, u.name]));
  const tbody = $("tbody", list);
  tbody.replaceChildren();
  $(".empty-state", list).hidden = items.length > 0;
  $("table", list).hidden = items.length === 0;
  for (const j of items) {
    const tr = document.createElement("tr");
    const cells = [null, names.get(j.user_id) || `user #${j.user_id}`, new Date(j.created_at).toISOString().slice(0, 16).replace("T", " "),
      j.status, num(j.processed), num(j.created), num(j.updated), num(j.skipped), num(j.failed)];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      if (i === 0) { const a = document.createElement("a"); a.href = `/crm/imports/${j.id}`; a.textContent = j.filename; td.append(a); } else td.textContent = c;
      if (i >= 4) td.className = "num";
      tr.append(td);
    });
    tbody.append(tr);
  }
}

// ---- step 1: upload
const drop = $("#dropzone");
const fileInput = $("#import-file");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]); });
fileInput.addEventListener("change", () => { if (fileInput.files[0]) upload(fileInput.files[0]); });

function upload(file) {
  const bar = $("#upload-progress");
  const errEl = $("#upload-error");
  showError(errEl, null);
  if (file.size > 1024 ** 3) { showError(errEl, new Error("The file is larger than 1 GiB; split it into smaller files.")); return; }
  const fd = new FormData();
  fd.append("file", file);
  const xhr = new XMLHttpRequest(); // fetch has no upload progress
  xhr.open("POST", "/api/v1/imports");
  xhr.setRequestHeader("X-CSRF-Token", csrf);
  xhr.setRequestHeader("Accept", "application/json");
  bar.hidden = false;
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = () => {
    bar.hidden = true;
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 201) { showError(errEl, new Error(data?.error?.message || `Upload failed (${xhr.status}).`)); return; }
    current = { id: data.id, filename: data.filename, columns: data.columns, mapping: data.mapping, mode: data.mode, targets: data.targets, samples: data.samples };
    history.pushState(null, "", `/crm/imports/${data.id}`);
    showMap();
  };
  xhr.onerror = () => { bar.hidden = true; showError(errEl, new Error("The upload was interrupted; try again.")); };
  xhr.send(fd);
}

// ---- step 2: map
let extraTargets = [];
async function loadTargets() {
  const [products, fields] = await Promise.all([api("GET", "/api/v1/products").catch(() => []), api("GET", "/api/v1/custom-fields").catch(() => [])]);
  const list = (x) => (Array.isArray(x) ? x : x.items || []);
  extraTargets = [...list(products).map((p) => [`score:${p.key}`, `Score: ${p.name}`]), ...list(fields).filter((f) => !f.retired_at).map((f) => [`custom:${f.key}`, `Custom: ${f.label}`])];
}

async function showMap() {
  step("map");
  const targets = current.targets?.length ? current.targets.map((t) => [t.key, t.label]) : TARGETS;
  if (!current.targets?.length && !extraTargets.length) await loadTargets();
  document.querySelectorAll('[data-slot="filename"]').forEach((s) => { s.textContent = current.filename; });
  const tbody = $(".map-table tbody");
  tbody.replaceChildren();
  current.columns.forEach((col, i) => {
    const tr = document.createElement("tr");
    const th = document.createElement("td");
    th.textContent = col;
    const ex = document.createElement("td");
    ex.className = "map-samples";
    const samples = (current.samples || {})[col] || [];
    if (samples.length) for (const v of samples) { const d = document.createElement("div"); d.textContent = v; d.title = v; ex.append(d); }
    else { ex.textContent = "(empty)"; ex.classList.add("muted"); }
    const td = document.createElement("td");
    const sel = document.createElement("select");
    sel.dataset.column = col;
    sel.id = `map-${i}`;
    sel.setAttribute("aria-label", `Import ${col} into`);
    const opts = [["", "Ignore"], ...targets, ...(current.targets?.length ? [] : extraTargets)];
    for (const [v, label] of opts) { const o = new Option(CONTACT_TARGETS.has(v) ? `${label} (another one if several columns)` : label, v); sel.append(o); }
    sel.value = current.mapping[col] || "";
    td.append(sel);
    tr.append(th, ex, td);
    tbody.append(tr);
  });
  document.querySelectorAll('input[name="mode"]').forEach((r) => { r.checked = r.value === current.mode; });
}

$("#to-preview").addEventListener("click", async (e) => {
  const b = e.currentTarget;
  const mapping = {};
  document.querySelectorAll(".map-table select").forEach((s) => { mapping[s.dataset.column] = s.value || null; });
  const mode = $('input[name="mode"]:checked').value;
  b.setAttribute("aria-busy", "true");
  try {
    const data = await api("PUT", `/api/v1/imports/${current.id}/mapping`, { mapping, mode });
    current.mapping = data.mapping; current.mode = data.mode;
    showError($("#map-error"), null);
    showPreview();
  } catch (err) { showError($("#map-error"), err); } finally { b.removeAttribute("aria-busy"); }
});

// ---- step 3: preview
const ACTION = { create: "New customer", update: "Updates a customer", skip: "Skipped", fail: "Fails" };
async function showPreview() {
  step("preview");
  const tbody = $(".preview-table tbody");
  tbody.replaceChildren();
  $("#preview-counts").textContent = "Checking every row…";
  try {
    const { rows, counts } = await api("GET", `/api/v1/imports/${current.id}/preview`);
    current.counts = counts;
    $("#preview-counts").textContent = `${num(counts.rows)} rows: ${num(counts.valid)} valid, ${num(counts.failing)} failing, ` +
      `${num(counts.duplicates)} duplicates in the file, ${num(counts.existing)} matching existing customers.`;
    for (const r of rows) {
      const tr = document.createElement("tr");
      const more = (ch) => (r.more_contacts || []).filter((k) => k.channel === ch).map((k) => k.value);
      const other = [r.linkedin_url, r.website, ...more("linkedin"), ...more("website"), r.language, r.country, r.timezone, r.owner_email,
        r.segment_id && `segment ${r.segment_id}`,
        ...Object.entries(r.scores || {}).map(([k, v]) => `${k} ${v}`), ...Object.entries(r.custom || {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(" · ");
      const list = (first, ch) => [first, ...more(ch)].filter(Boolean).join(", ");
      // the errors come third: visible without scrolling sideways
      const notes = document.createElement("td");
      notes.className = "notes";
      for (const m of r.errors) { const p = document.createElement("div"); p.className = "err"; p.textContent = m; notes.append(p); }
      for (const m of r.warnings) { const p = document.createElement("div"); p.className = "warn"; p.textContent = m; notes.append(p); }
      const vals = [r.row, ACTION[r.action], notes, r.full_name, list(r.email, "email"), list(r.phone, "phone"), r.company_name, (r.tags || []).join(", "), other];
      vals.forEach((v, i) => {
        if (v instanceof Node) { tr.append(v); return; }
        const td = document.createElement("td");
        td.textContent = v ?? "";
        td.title = v ?? "";
        if (i === 0) td.className = "num";
        if (i === 1) td.className = `action-${r.action}`;
        tr.append(td);
      });
      tbody.append(tr);
    }
    showError($("#preview-error"), null);
  } catch (err) { showError($("#preview-error"), err); $("#preview-counts").textContent = ""; }
}
$("#back-to-map").addEventListener("click", () => showMap());

// ---- step 4: submit
$("#to-submit").addEventListener("click", () => {
  step("submit");
  const c = current.counts || {};
  const modes = { create: "create only", upsert: "create or update", update: "update only" };
  $("#submit-summary").textContent = `Import ${num(c.rows || 0)} rows of ${current.filename} (${modes[current.mode]}): ` +
    `${num(c.valid || 0)} valid, ${num(c.failing || 0)} will fail and go to the error report.`;
});
$("#back-to-preview").addEventListener("click", () => showPreview());
$("#start-import").addEventListener("click", async (e) => {
  const b = e.currentTarget;
  b.setAttribute("aria-busy", "true");
  try {
    const j = await api("POST", `/api/v1/imports/${current.id}/submit`);
    follow(j);
  } catch (err) { showError($("#submit-error"), err); } finally { b.removeAttribute("aria-busy"); }
});

// ---- progress
function fmtDuration(s) {
  if (!isFinite(s) || s < 0) return "";
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.ceil((s % 3600) / 60)} min`;
}

let timer = null;
function follow(j) {
  $("#wizard").hidden = true;
  $("#imports-list").hidden = true;
  const panel = $("#import-progress");
  panel.hidden = false;
  const samples = [];
  const render = (j) => {
    $('[data-slot="filename"]', panel).textContent = j.filename;
    const st = $('[data-slot="status"]', panel);
    st.textContent = j.status;
    st.className = `badge ${j.status === "done" ? "badge-success" : j.status === "failed" ? "badge-danger" : j.status === "canceled" ? "badge-warn" : ""}`;
    const bar = $("progress", panel);
    bar.value = j.total ? j.processed / j.total : 0;
    samples.push([Date.now(), j.processed]);
    while (samples.length > 10) samples.shift();
    let rate = 0;
    if (samples.length > 1) {
      const [t0, p0] = samples[0];
      const [t1, p1] = samples[samples.length - 1];
      if (t1 > t0) rate = ((p1 - p0) * 1000) / (t1 - t0);
    }
    if (!rate && j.ended_at && j.processed) rate = (j.processed * 1000) / Math.max(1, new Date(j.ended_at) - new Date(j.created_at));
    const running = j.status === "running" || j.status === "queued";
    let rows = `${num(j.processed)} of ${num(j.total)} rows`;
    if (running && rate > 0) rows += ` · ${num(Math.round(rate))} rows/s · ${fmtDuration((j.total - j.processed) / rate)} left`;
    $('[data-slot="rows"]', panel).textContent = rows;
    $('[data-slot="counts"]', panel).textContent = `Created ${num(j.created)} · updated ${num(j.updated)} · skipped ${num(j.skipped)} · failed ${num(j.failed)}`;
    const err = $('[data-slot="error"]', panel);
    err.textContent = j.error || ""; err.hidden = !j.error;
    const report = $('[data-slot="report"]', panel);
    report.hidden = !j.failed;
    report.href = `/api/v1/imports/${j.id}/errors.csv`;
    $("#cancel-import").hidden = !running;
    $("#cancel-import").dataset.id = j.id;
    return running;
  };
  clearTimeout(timer);
  const poll = async () => {
    try { j = await api("GET", `/api/v1/imports/${j.id}`); } catch { /* keep polling */ }
    if (render(j)) timer = setTimeout(poll, 1000);
  };
  if (render(j)) timer = setTimeout(poll, 500);
}
$("#cancel-import").addEventListener("click", async (e) => {
  const b = e.currentTarget;
  b.setAttribute("aria-busy", "true");
  try { follow(await api("POST", `/api/v1/imports/${b.dataset.id}/cancel`)); } catch (err) { alert(err.message); } finally { b.removeAttribute("aria-busy"); }
});

// an upload not yet submitted can be discarded: the import is canceled and its file deleted
document.querySelectorAll(".discard-import").forEach((btn) => btn.addEventListener("click", async (e) => {
  const b = e.currentTarget;
  if (!current || !confirm(`Discard ${current.filename}? Its file is deleted; nothing was imported.`)) return;
  b.setAttribute("aria-busy", "true");
  try { await api("POST", `/api/v1/imports/${current.id}/cancel`); location.href = "/crm/imports"; } catch (err) { alert(err.message); } finally { b.removeAttribute("aria-busy"); }
}));

// ---- start: the URL is the state
async function start() {
  const id = Number(app.dataset.import);
  const params = new URLSearchParams(location.search);
  if (!id && params.get("new")) { step("upload"); return; }
  if (!id) { await showList(); return; }
  const j = await api("GET", `/api/v1/imports/${id}`);
  if (j.status !== "uploaded") { follow(j); return; }
  // an import not yet submitted: back to its mapping
  current = { id, filename: j.filename, columns: j.columns, mapping: j.mapping, mode: j.mode, targets: j.targets, samples: j.samples };
  showMap();
}
window.addEventListener("popstate", () => location.reload());
start();
