// Possible duplicate companies: "Merge…" opens the group's merge dialog.
// Choosing the company to keep (and which others to merge) asks the API for
// the preview (confirm false) at once; Merge sends the same request with
// confirm true, then the list is read again so that it shows what is left.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const dlg = document.getElementById("co-merge");
const list = dlg.querySelector('[data-slot="list"]');
const plan = dlg.querySelector('[data-slot="plan"]');
const err = dlg.querySelector(".form-error");
const go = dlg.querySelector("[data-merge-go]");
const fmt = (n) => n.toLocaleString("en");
const plural = (n, w) => `${fmt(n)} ${w}${n === 1 ? "" : "s"}`;
let opener = null;
let companies = [];
let asked = 0; // the latest preview asked for; older answers are dropped

async function api(body) {
  const res = await fetch("/api/v1/companies/merge", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  return [res.status, await res.json().catch(() => null)];
}

function request() {
  const keep = Number(list.querySelector('input[name="keep"]:checked')?.value || 0);
  const others = [...list.querySelectorAll('input[name="merge"]:checked')].map((c) => Number(c.value)).filter((id) => id !== keep);
  return { primary_id: keep, secondary_ids: others };
}

function showError(text) {
  err.textContent = text;
  err.hidden = !text;
}

document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-merge-group]");
  if (b) open(b);
  if (e.target.closest("#co-merge [data-close]")) dlg.close();
});

function open(button) {
  opener = button;
  companies = [...button.closest("tr").querySelectorAll("li[data-company]")].map((li) => ({
    id: Number(li.dataset.company), name: li.dataset.name, domain: li.dataset.domain, customers: Number(li.dataset.customers),
  }));
  // keep the one with the most active customers (the oldest on a tie)
  const keep = companies.reduce((best, c) => (c.customers > best.customers ? c : best), companies[0]);
  list.replaceChildren(...companies.map((c) => {
    const row = document.createElement("div");
    row.className = "co-merge-row";
    row.innerHTML = `<label class="co-merge-keep"><input type="radio" name="keep"> <span class="merge-who"><strong class="merge-name"></strong><span class="muted small" data-slot="details"></span></span></label>
      <label class="co-merge-include small"><input type="checkbox" name="merge" checked> Merge</label>`;
    row.querySelector('input[name="keep"]').value = c.id;
    row.querySelector('input[name="keep"]').checked = c === keep;
    row.querySelector('input[name="merge"]').value = c.id;
    row.querySelector('input[name="merge"]').setAttribute("aria-label", `Merge ${c.name} into the company kept`);
    row.querySelector(".merge-name").textContent = c.name;
    row.querySelector('[data-slot="details"]').textContent = [c.domain || "no domain", plural(c.customers, "active customer")].join(" · ");
    return row;
  }));
  sync();
  showError("");
  dlg.showModal();
  list.querySelector('input[name="keep"]:checked').focus();
  preview();
}

// The kept company is not merged: its own box is hidden.
function sync() {
  list.querySelectorAll(".co-merge-row").forEach((row) => {
    const kept = row.querySelector('input[name="keep"]').checked;
    row.classList.toggle("is-kept", kept);
    row.querySelector(".co-merge-include").hidden = kept;
  });
}

dlg.addEventListener("change", () => { sync(); preview(); });

async function preview() {
  const body = request();
  const mine = ++asked;
  go.disabled = true;
  if (body.secondary_ids.length === 0) {
    plan.textContent = "Tick at least one company to merge into the one kept.";
    return;
  }
  plan.textContent = "Working out what will change…";
  const [status, data] = await api({ ...body, confirm: false });
  if (mine !== asked) return;
  if (status !== 200) {
    plan.textContent = "";
    showError(data?.error?.message || "These companies cannot be merged.");
    return;
  }
  showError("");
  const p = data.plan;
  const li = (t) => Object.assign(document.createElement("li"), { textContent: t });
  const ul = document.createElement("ul");
  ul.append(li(`${plural(p.customers, "customer")} move to ${p.primary.name}${p.customers !== p.customers_active ? ` (${fmt(p.customers_active)} active)` : ""}`));
  if (p.fill.domain) ul.append(li(`${p.primary.name} gains the domain ${p.fill.domain}`));
  const names = p.secondaries.map((s) => s.name).join(", ");
  ul.append(li(`${names} ${p.secondaries.length === 1 ? "is" : "are"} archived and ${p.secondaries.length === 1 ? "points" : "point"} to ${p.primary.name}`));
  ul.append(li("both sides keep a log entry; a merge cannot be undone"));
  plan.replaceChildren(Object.assign(document.createElement("strong"), { textContent: `Keep ${p.primary.name}:` }), ul);
  go.textContent = `Merge ${p.secondaries.length + 1} companies`;
  go.disabled = false;
}

dlg.querySelector("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = request();
  go.disabled = true;
  go.setAttribute("aria-busy", "true");
  const [status, data] = await api({ ...body, confirm: true });
  go.removeAttribute("aria-busy");
  if (status !== 200) {
    showError(data?.error?.message || "The merge failed; nothing was changed.");
    go.disabled = false;
    return;
  }
  const p = data.plan;
  const msg = `Merged ${p.secondaries.map((s) => s.name).join(", ")} into ${p.primary.name}: ${plural(p.customers, "customer")} moved.`;
  dlg.close();
  await reload(msg, p.primary);
});

// reload reads the page again and puts its list in place of this one.
async function reload(msg, kept) {
  const panel = document.querySelector(".dup-panel");
  try {
    const res = await fetch(location.href, { headers: { Accept: "text/html" } });
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.querySelector(".dup-panel");
    if (res.ok && fresh) panel.replaceWith(fresh);
  } catch {
    opener?.closest("tr")?.remove();
  }
  const done = document.getElementById("co-merge-done");
  const link = Object.assign(document.createElement("a"), { href: `/crm/companies/${kept.id}`, textContent: `Open ${kept.name}` });
  done.replaceChildren(document.createTextNode(msg + " "), link);
  done.hidden = false;
  link.focus();
}

dlg.addEventListener("close", () => {
  if (opener?.isConnected) opener.focus();
});
