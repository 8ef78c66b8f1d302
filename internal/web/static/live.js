// Live updates (issue 15): one EventSource per tab hears every change of a
// customer as it commits, whoever made it and on whichever server. A row on
// screen that changed is fetched again and replaced, flashes, and says who
// changed it ("Claimed by Ana · just now"); the open drawer is told too
// (drawer.js, "crm:live"). After a dropped connection the browser reconnects
// by itself with Last-Event-ID and the server replays what was missed.
// The Claim button of an unclaimed row claims it in place.

const table = document.getElementById("customer-table");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
const me = Number(table?.dataset.me || 0);

// What a change was, in the words of a row's note; owner changes are told
// apart by the row fetched again (its new owner).
const verbs = {
  created: "Added", updated: "Edited", tag_added: "Tagged", tag_removed: "Untagged",
  segment_added: "Added to a segment", segment_removed: "Removed from a segment",
  contact_added: "Contact added", contact_updated: "Contact edited", contact_removed: "Contact removed",
  suppressed: "Contact suppressed", unsuppressed: "Suppression lifted", message: "Message",
  note_added: "Note added", deal_added: "Deal added", task_added: "Task added",
  merged_into: "Merged", merged_from: "Merged", archived: "Archived", restored: "Restored", imported: "Imported",
};

function ownerVerb(row, ev) {
  const owner = Number(row.dataset.owner || 0);
  if (!owner) return "Released";
  return ev.by && owner === ev.by.id ? "Claimed" : "Reassigned";
}

function tableQuery() {
  const q = new URLSearchParams(location.search);
  q.delete("tab");
  return q;
}

// refetchRow replaces a row by the server's current one and, for a change
// by someone else, flashes it with a note of who changed what.
async function refetchRow(id, ev) {
  const q = tableQuery();
  q.set("fragment", "row");
  const res = await fetch(`/crm/customers/${id}?${q}`, { headers: { Accept: "text/html" } });
  const row = table.querySelector(`tr[data-id="${id}"]`);
  if (!res.ok || !row) return;
  const tpl = document.createElement("template");
  tpl.innerHTML = (await res.text()).trim();
  const fresh = tpl.content.firstElementChild;
  if (!fresh) return;
  const checked = row.querySelector(".row-check")?.checked; // the selection stays
  const focused = row.contains(document.activeElement) ? document.activeElement : null;
  if (row.getAttribute("aria-selected")) fresh.setAttribute("aria-selected", "true");
  if (checked) fresh.querySelector(".row-check").checked = true;
  row.replaceWith(fresh);
  if (focused === row) fresh.focus();
  else if (focused) (fresh.querySelector(focused.matches(".row-check") ? ".row-check" : "a.name") || fresh).focus();
  if (ev && ev.by && ev.by.id !== me) note(fresh, ev);
}

// note flashes a row and says who changed it, for a minute.
function note(row, ev) {
  const verb = ev.kind === "owner_changed" ? ownerVerb(row, ev) : verbs[ev.kind] || "Changed";
  const span = document.createElement("span");
  span.className = "live-note";
  span.setAttribute("role", "status");
  span.textContent = `${verb} by ${ev.by.name} · just now`;
  const cell = row.querySelector("td.col-name") || row.lastElementChild;
  cell.append(span);
  row.classList.add("live-flash");
  setTimeout(() => row.classList.remove("live-flash"), 2000);
  setTimeout(() => span.remove(), 60000);
}

// Changes come in bursts (a bulk action): each row on screen is fetched
// once per burst, with its latest event.
const pending = new Map();
let timer = 0;
function queue(ev) {
  pending.set(ev.customer_id, ev);
  if (!timer) timer = setTimeout(flush, 80);
}
async function flush() {
  timer = 0;
  const batch = [...pending.values()];
  pending.clear();
  const onScreen = batch.filter((ev) => table.querySelector(`tr[data-id="${ev.customer_id}"]`));
  for (let i = 0; i < onScreen.length; i += 6) { // a few at a time
    await Promise.all(onScreen.slice(i, i + 6).map((ev) => refetchRow(ev.customer_id, ev).catch(() => {})));
  }
}

function connect() {
  const es = new EventSource(table.dataset.live);
  es.addEventListener("message", (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    queue(ev);
    document.dispatchEvent(new CustomEvent("crm:live", { detail: ev }));
  });
  // Leaving the page ends the stream; the browser reconnects by itself after an error.
  window.addEventListener("pagehide", () => es.close());
}
// The stream opens once the page has loaded, so it never holds the page's
// loading state; it starts at the page's own position, so nothing is missed.
if (table && table.dataset.live && "EventSource" in window) {
  if (document.readyState === "complete") connect(); else window.addEventListener("load", connect, { once: true });
}

// --- Claim in the row -----------------------------------------------------------
function toast(text, isError) {
  const t = document.createElement("div");
  t.className = "toast" + (isError ? " toast-error" : "");
  t.setAttribute("role", isError ? "alert" : "status");
  t.textContent = text;
  document.getElementById("main").append(t);
  if (!isError) setTimeout(() => t.remove(), 5000);
  else t.addEventListener("click", () => t.remove());
}

table?.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-row-claim]");
  if (!b) return;
  e.preventDefault();
  const id = Number(b.closest("tr").dataset.id);
  b.setAttribute("aria-busy", "true");
  b.disabled = true;
  const res = await fetch(`/api/v1/customers/${id}/claim`, { method: "POST", headers: { Accept: "application/json", "X-CSRF-Token": csrf } });
  let data = null;
  try { data = await res.json(); } catch { /* empty */ }
  if (res.ok) toast(`Claimed ${data?.full_name || "the customer"}.`);
  else toast(data?.error?.message || "The customer could not be claimed. Please try again.", true);
  await refetchRow(id); // the row shows the owner now, whoever won
  table.querySelector(`tr[data-id="${id}"] a.name, tr[data-id="${id}"]`)?.focus();
});
