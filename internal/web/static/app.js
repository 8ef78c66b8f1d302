// Small behaviours shared by every page; no framework, no build step.

// "/" focuses the search box, unless the user is typing somewhere.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable) return;
  const q = document.getElementById("global-q");
  if (q) { e.preventDefault(); q.focus(); }
});

// Esc closes an open user menu; a click elsewhere too.
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") document.querySelectorAll("details.user-menu[open]").forEach((d) => d.removeAttribute("open"));
});
document.addEventListener("click", (e) => {
  document.querySelectorAll("details.user-menu[open]").forEach((d) => { if (!d.contains(e.target)) d.removeAttribute("open"); });
});

// Forms with data-confirm ask first; submit buttons show they are working.
document.addEventListener("submit", (e) => {
  const f = e.target;
  if (f.dataset.confirm && !window.confirm(f.dataset.confirm)) { e.preventDefault(); return; }
  const b = e.submitter;
  if (b) { b.setAttribute("aria-busy", "true"); setTimeout(() => b.removeAttribute("aria-busy"), 4000); }
});

// Copy buttons: data-copy="#selector".
document.addEventListener("click", async (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  const input = document.querySelector(b.dataset.copy);
  input.select();
  try { await navigator.clipboard.writeText(input.value); b.textContent = "Copied"; } catch { document.execCommand("copy"); b.textContent = "Copied"; }
});

// Toasts leave after a while.
const toast = document.querySelector(".toast");
if (toast) setTimeout(() => toast.remove(), 6000);

// Below 900 px the main navigation hides behind the menu button: a
// disclosure (aria-expanded) that Esc, a link or a click elsewhere closes.
const navToggle = document.getElementById("nav-toggle");
if (navToggle) {
  const navOpen = () => navToggle.getAttribute("aria-expanded") === "true";
  const setNav = (open) => {
    navToggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("nav-open", open);
  };
  navToggle.addEventListener("click", () => {
    setNav(!navOpen());
    if (navOpen()) document.querySelector("#sidenav a")?.focus();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !navOpen()) return;
    e.stopImmediatePropagation(); // this Esc closes the menu, nothing else
    setNav(false);
    navToggle.focus();
  }, true);
  document.addEventListener("click", (e) => {
    if (navOpen() && !e.target.closest("#nav-toggle") && (!e.target.closest("#sidenav") || e.target.closest("#sidenav a"))) setNav(false);
  });
}
// --- issue 17: keyboard and words -------------------------------------------------
const typing = (t) => t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t?.isContentEditable;

// "?" (or the ? button of the top bar) lists the keyboard shortcuts.
const shortcuts = document.getElementById("shortcuts");
document.addEventListener("keydown", (e) => {
  if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector("dialog[open]")) return;
  e.preventDefault();
  shortcuts?.showModal();
});
document.addEventListener("click", (e) => {
  if (e.target.closest("[data-shortcuts]")) shortcuts?.showModal();
  else if (e.target.closest("#shortcuts [data-close]")) shortcuts.close();
});

// A contact field's example follows the channel chosen beside it.
document.addEventListener("change", (e) => {
  const s = e.target;
  if (!(s instanceof HTMLSelectElement) || s.name !== "channel") return;
  const input = s.form?.querySelector('input[name="contact"], input[name="value"]');
  const example = s.selectedOptions[0]?.dataset.placeholder;
  if (input && example) input.placeholder = example;
});

// Times are shown in the browser's time zone unless the user chose one in
// Settings: the server reads it from this cookie.
try {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (tz && !document.cookie.split("; ").includes(`tz=${encodeURIComponent(tz)}`)) {
    document.cookie = `tz=${encodeURIComponent(tz)}; path=/; max-age=31536000; SameSite=Lax`;
  }
  const tzInput = document.getElementById("timezone");
  if (tzInput) {
    tzInput.placeholder = `Your browser's: ${tz}`;
    document.getElementById("timezone-list").replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => new Option(z)));
  }
} catch { /* no Intl time zones: times stay in UTC */ }
