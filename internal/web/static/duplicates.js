// Possible duplicates: "Not a duplicate" remembers the pair (it stops
// showing, for everyone) and takes its row off the page.

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const err = document.getElementById("dup-error");

document.getElementById("duplicates")?.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-not-duplicate]");
  if (!b) return;
  const ids = b.dataset.notDuplicate.split("-").map(Number);
  b.disabled = true;
  b.setAttribute("aria-busy", "true");
  const res = await fetch("/api/v1/duplicates/not-duplicate", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ customer_ids: ids }),
  });
  b.removeAttribute("aria-busy");
  if (!res.ok) {
    b.disabled = false;
    const j = await res.json().catch(() => null);
    err.textContent = j?.error?.message || "Could not save that; please try again.";
    err.hidden = false;
    return;
  }
  err.hidden = true;
  const row = b.closest("tr");
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  (next?.querySelector("[data-not-duplicate]") || document.querySelector("h1 a"))?.focus();
});
