// Settings page: confirmations in a <dialog>, row edit popovers, the options
// box of the custom field form. The forms work without this file too.

// --- forms with data-ask are confirmed in the dialog first --------------------
const dialog = document.getElementById("ask-dialog");
const okBtn = document.getElementById("ask-ok");
let pending = null; // { form, submitter, opener }

// Capture phase: runs before the shared submit handler (busy buttons).
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!dialog || !form.hasAttribute("data-ask") || form.dataset.confirmed) return;
  e.preventDefault();
  e.stopPropagation();
  pending = { form, submitter: e.submitter, opener: document.activeElement };
  document.getElementById("ask-title").textContent = form.dataset.askTitle || "Are you sure?";
  document.getElementById("ask-text").textContent = form.dataset.ask;
  okBtn.textContent = form.dataset.askOk || "OK";
  okBtn.className = "btn " + (form.hasAttribute("data-ask-danger") ? "btn-danger" : "btn-primary");
  dialog.showModal();
  document.getElementById("ask-cancel").focus(); // the safe choice is the default
}, true);

okBtn?.addEventListener("click", () => {
  if (!pending) return;
  const { form, submitter } = pending;
  pending = null;
  form.dataset.confirmed = "1";
  dialog.close();
  form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
});
document.getElementById("ask-cancel")?.addEventListener("click", () => dialog.close());
dialog?.addEventListener("close", () => {
  // The close event is queued: when the dialog was opened again meanwhile, it
  // belongs to the earlier question and must not drop the new one.
  if (dialog.open) return;
  if (pending) { pending.opener?.focus?.(); pending = null; }
});

// --- row edit popovers: one open at a time; Esc or a click elsewhere closes ---
const popovers = [...document.querySelectorAll("details.row-edit")];
popovers.forEach((d) => d.addEventListener("toggle", () => {
  if (!d.open) return;
  popovers.forEach((o) => { if (o !== d) o.open = false; });
  d.querySelector("input:not([type=hidden]), textarea")?.focus();
}));
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || dialog?.open) return;
  popovers.forEach((d) => { if (d.open) { d.open = false; d.querySelector("summary").focus(); } });
});
document.addEventListener("click", (e) => {
  popovers.forEach((d) => { if (d.open && !d.contains(e.target)) d.open = false; });
});

// --- options are sent only for select and multiselect fields -------------------
const type = document.getElementById("f-type");
const options = document.getElementById("f-options");
if (type && options) {
  const sync = () => { options.disabled = type.value !== "select" && type.value !== "multiselect"; };
  type.addEventListener("change", sync);
  sync();
}

// --- issue 17 item 6: a custom field's key follows its label as it is typed
// (the rules of customers.FieldKeyFromLabel: accents dropped, lower case,
// other characters one "_", "f_" before a digit, at most 40), until the key
// is edited by hand; emptied again, it follows the label again.
export function keyFromLabel(label) {
  let key = label.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (/^[0-9]/.test(key)) key = "f_" + key;
  return key.slice(0, 40).replace(/_+$/, "");
}
const fieldLabel = document.getElementById("f-label");
const fieldKey = document.getElementById("f-key");
if (fieldLabel && fieldKey) {
  let auto = fieldKey.value === "" || fieldKey.value === keyFromLabel(fieldLabel.value);
  fieldLabel.addEventListener("input", () => { if (auto) fieldKey.value = keyFromLabel(fieldLabel.value); });
  fieldKey.addEventListener("input", () => { auto = fieldKey.value === ""; });
}
