// Segments page: send an e-mail to a segment in the background and show the
// job's live progress until it reports its result.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const dlg = document.getElementById("segment-send");
const form = dlg.querySelector("form");
const panel = document.getElementById("send-progress");
let segment = null;

document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-send-segment]");
  if (b) {
    segment = { id: b.dataset.sendSegment, name: b.dataset.name };
    dlg.querySelectorAll('[data-slot="name"]').forEach((s) => { s.textContent = b.dataset.name; });
    dlg.querySelector('[data-slot="members"]').textContent = Number(b.dataset.members).toLocaleString("en");
    form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.hidden = true; });
    dlg.showModal();
    form.elements.subject.focus();
  }
  if (e.target.closest("dialog [data-close]")) e.target.closest("dialog").close();
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.setAttribute("aria-busy", "true");
  const res = await fetch(`/api/v1/segments/${segment.id}/send`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
    body: JSON.stringify({ subject: form.elements.subject.value, body: form.elements.body.value }),
  });
  button.removeAttribute("aria-busy");
  const data = await res.json().catch(() => null);
  if (res.status !== 202) {
    const list = data?.error?.fields?.length ? data.error.fields : [{ field: data?.error?.field, message: data?.error?.message || "Something went wrong." }];
    for (const fe of list) {
      const box = form.querySelector(`[data-field="${fe.field}"]`);
      const p = box ? box.querySelector(".field-error") : form.querySelector(".form-error");
      p.textContent = fe.message;
      p.hidden = false;
    }
    return;
  }
  dlg.close();
  follow(data.job.id, segment.name);
});

// follow polls the job and shows its progress (sent, skipped, failed, and what is left).
async function follow(id, name) {
  panel.hidden = false;
  panel.querySelector('[data-slot="name"]').textContent = name;
  panel.scrollIntoView({ block: "nearest" });
  const bar = panel.querySelector("progress");
  const text = panel.querySelector('[data-slot="text"]');
  const stop = panel.querySelector('[data-slot="cancel"]');
  stop.hidden = false;
  stop.disabled = false;
  stop.onclick = async () => {
    stop.disabled = true;
    const res = await fetch(`/api/v1/jobs/${id}/cancel`, { method: "POST", headers: { Accept: "application/json", "X-CSRF-Token": csrf } });
    if (!res.ok && res.status !== 409) { stop.disabled = false; alert("Could not cancel the send."); }
  };
  for (;;) {
    const res = await fetch(`/api/v1/jobs/${id}`, { headers: { Accept: "application/json" } });
    if (!res.ok) { text.textContent = "Could not read the job's progress."; return; }
    const j = await res.json();
    const p = j.result || j.progress;
    if (p) {
      bar.max = Math.max(p.total, 1);
      bar.value = p.processed;
      text.textContent = `${p.processed.toLocaleString("en")} of ${p.total.toLocaleString("en")} customers: ${outcome(p)}`;
    }
    if (j.status === "done" || j.status === "failed" || j.status === "canceled") stop.hidden = true;
    if (j.status === "done") { text.textContent = "Done. " + text.textContent; panel.dataset.done = "true"; return; }
    if (j.status === "failed" || j.status === "canceled") { text.textContent = `Stopped (${j.status}): ${j.error || ""} ` + text.textContent; return; }
    await new Promise((r) => setTimeout(r, 500));
  }
}

// outcome says what happened to each recipient handled so far: sent, kept in
// the outbox (no mail server), skipped as suppressed, failed, without an
// e-mail address, or unknown after a crash.
function outcome(p) {
  const n = (x) => (x || 0).toLocaleString("en");
  const parts = [];
  if (p.sent) parts.push(`${n(p.sent)} sent`);
  if (p.outbox) parts.push(`${n(p.outbox)} kept in the outbox (no mail server is configured, so nothing was sent)`);
  if (p.skipped_suppressed) parts.push(`${n(p.skipped_suppressed)} skipped (suppressed)`);
  const failed = (p.failed || 0) - (p.no_email || 0);
  if (failed > 0) parts.push(`${n(failed)} failed`);
  if (p.no_email) parts.push(`${n(p.no_email)} not sent (no e-mail address)`);
  if (p.unknown) parts.push(`${n(p.unknown)} possibly sent (interrupted by a crash; not sent again)`);
  return parts.length ? parts.join(", ") : "nothing yet";
}
