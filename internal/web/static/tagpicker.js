// Tag suggestions as you type. The page never carries the list of tags (there
// may be tens of thousands): every input with data-tag-suggest becomes an ARIA
// combobox (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/) whose listbox
// shows the tags starting with what is typed, asked from
// GET /api/v1/tags?q=...&limit=20.
//
//   data-tag-suggest="pick"  the tag filter: a chosen tag becomes a chip with a
//                            hidden "tag" field beside it, and the input empties
//                            for the next one (Backspace in it drops the last chip)
//   data-tag-suggest="list"  names separated by commas (bulk tag, Add customer,
//                            the drawer): the chosen tag replaces the name being
//                            typed; names nobody has used yet are still allowed
//   data-tag-suggest="company"  the customer table's company filter: as "pick",
//                            over GET /api/v1/companies?q=... (name or domain
//                            containing it); a chip holds a hidden "company" id
//
// Keyboard: Down opens the suggestions and moves through them, Up moves back,
// Enter chooses the highlighted one (with none highlighted, Enter submits as
// before), Esc closes them (and only them), Tab moves on. A click chooses too.

const LIMIT = 20;
const fmt = (n) => n.toLocaleString("en");
let seq = 0;
const states = new WeakMap();

function enhance(input) {
  if (states.has(input)) return states.get(input);
  const id = `tag-combo-${++seq}`;
  const pop = document.createElement("div");
  pop.className = "combo-pop";
  pop.hidden = true;
  const list = document.createElement("ul");
  list.id = `${id}-list`;
  list.className = "combo-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.dataset.tagSuggest === "company" ? "Companies" : "Tags");
  const note = document.createElement("p");
  note.className = "combo-note";
  note.hidden = true;
  pop.append(list, note);
  const status = document.createElement("span"); // what a screen reader hears as the suggestions change
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  input.after(pop, status);
  input.removeAttribute("list");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.autocomplete = "off";
  const st = { id, pop, list, note, status, items: [], active: -1, req: 0, abort: null };
  states.set(input, st);
  return st;
}

const mode = (input) => input.dataset.tagSuggest;
const picked = (input) => input.closest(".tag-picker")?.querySelector(".picked");

// The name being typed, and the names already chosen (left out of the suggestions).
function typed(input) {
  if (mode(input) === "company") {
    const chosen = [...(picked(input)?.querySelectorAll('input[name="company"]') || [])].map((h) => h.dataset.name);
    return { q: input.value.trim(), chosen };
  }
  if (mode(input) === "pick") {
    const chosen = [...(picked(input)?.querySelectorAll('input[name="tag"]') || [])].map((h) => h.value);
    return { q: input.value.trim(), chosen };
  }
  const parts = input.value.split(",");
  const q = parts.pop().trim();
  return { q, chosen: parts.map((p) => p.trim()).filter(Boolean) };
}

async function suggest(input, evenEmpty) {
  const st = enhance(input);
  const { q, chosen } = typed(input);
  if (!q && !evenEmpty) { close(input); return; }
  const mine = ++st.req;
  st.abort?.abort();
  st.abort = new AbortController();
  let items;
  try {
    const source = mode(input) === "company" ? "/api/v1/companies" : "/api/v1/tags";
    const res = await fetch(`${source}?limit=${LIMIT + chosen.length}&q=${encodeURIComponent(q)}`,
      { headers: { Accept: "application/json" }, signal: st.abort.signal });
    if (!res.ok) throw new Error(String(res.status));
    ({ items } = await res.json());
  } catch (err) {
    if (mine === st.req && err.name !== "AbortError") {
      show(input, [], mode(input) === "company" ? "The companies could not be loaded. Try again." : "The tags could not be loaded. Type the name in full.");
    }
    return;
  }
  if (mine !== st.req || document.activeElement !== input) return; // typed on, or left
  const taken = new Set(chosen.map((c) => c.toLowerCase()));
  items = items.filter((t) => !taken.has(t.name.toLowerCase())).slice(0, LIMIT);
  let msg = "";
  if (!items.length) {
    msg = q ? `No tag starts with “${q}”.` : "There are no tags yet.";
    if (mode(input) === "company") msg = q ? `No company name or domain holds “${q}”.` : "There are no companies yet.";
    if (q && mode(input) === "list") msg += " It will be created.";
  }
  show(input, items, msg, q);
}

function show(input, items, msg, q = "") {
  const st = enhance(input);
  // the option highlighted with the arrow keys stays so when the answer to
  // a later keystroke lists it again (it may come after the key was pressed)
  const was = st.active >= 0 ? st.items[st.active]?.name : undefined;
  st.items = items;
  st.active = -1;
  input.removeAttribute("aria-activedescendant");
  st.list.replaceChildren(...items.map((t, i) => {
    const li = document.createElement("li");
    li.id = `${st.id}-opt-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.dataset.index = i;
    const name = document.createElement("span");
    name.className = "combo-name";
    name.title = t.name;
    const head = t.name.slice(0, q.length);
    if (q && head.toLowerCase() === q.toLowerCase()) { // the typed start, in bold
      const b = document.createElement("b");
      b.textContent = head;
      name.append(b, t.name.slice(q.length));
    } else name.textContent = t.name;
    const n = document.createElement("span");
    n.className = "combo-count muted num";
    n.textContent = fmt(t.customers);
    n.title = `${fmt(t.customers)} ${mode(input) === "company" ? "active " : ""}customer${t.customers === 1 ? "" : "s"}`;
    if (mode(input) === "company" && t.domain) {
      const d = document.createElement("span");
      d.className = "combo-domain muted";
      d.textContent = t.domain;
      name.append(" ", d);
    }
    li.append(name, n);
    return li;
  }));
  st.list.hidden = !items.length;
  st.note.textContent = msg;
  st.note.hidden = !msg;
  st.pop.hidden = !items.length && !msg;
  input.setAttribute("aria-expanded", String(items.length > 0));
  const what = mode(input) === "company" ? ["company", "companies"] : ["tag", "tags"];
  st.status.textContent = items.length ? `${items.length} ${items.length === 1 ? what[0] : what[1]} suggested; use the arrow keys to choose.` : msg;
  if (!st.pop.hidden) place(input);
  const keep = was === undefined ? -1 : items.findIndex((t) => t.name === was);
  if (keep >= 0) {
    st.active = keep - 1;
    move(input, 1);
  }
}

function close(input) {
  const st = states.get(input);
  if (!st) return;
  st.req++; // an answer still on its way is dropped
  st.abort?.abort();
  st.pop.hidden = true;
  st.items = [];
  st.active = -1;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

const isOpen = (input) => { const st = states.get(input); return !!st && !st.pop.hidden && st.items.length > 0; };

// The suggestions float over what is below (fixed: neither the filter
// popover, the drawer nor a dialog clips them), under the input or above it
// when there is no room below.
function place(input) {
  const st = states.get(input);
  const r = input.getBoundingClientRect();
  const s = st.pop.style;
  s.left = `${Math.max(4, Math.min(r.left, innerWidth - Math.max(r.width, 220) - 4))}px`;
  s.minWidth = `${r.width}px`;
  if (innerHeight - r.bottom < 180 && r.top > innerHeight - r.bottom) {
    s.top = "auto";
    s.bottom = `${innerHeight - r.top + 2}px`;
  } else {
    s.bottom = "auto";
    s.top = `${r.bottom + 2}px`;
  }
}

function move(input, by) {
  const st = states.get(input);
  const n = st.items.length;
  st.active = st.active < 0 ? (by > 0 ? 0 : n - 1) : (st.active + by + n) % n;
  st.list.querySelectorAll('[role="option"]').forEach((li, i) => {
    li.setAttribute("aria-selected", String(i === st.active));
    if (i === st.active) li.scrollIntoView({ block: "nearest" });
  });
  input.setAttribute("aria-activedescendant", `${st.id}-opt-${st.active}`);
}

function choose(input, i) {
  const st = states.get(input);
  const name = st.items[i]?.name;
  if (!name) return;
  if (mode(input) === "company") {
    addCompanyChip(input, st.items[i]);
    input.value = "";
  } else if (mode(input) === "pick") {
    addChip(input, name);
    input.value = "";
  } else {
    const parts = input.value.split(",");
    parts.pop();
    const before = parts.map((p) => p.trim()).filter(Boolean);
    input.value = [...before, name].join(", ") + ", ";
  }
  close(input);
  input.focus();
}

function addChip(input, name) {
  const ul = picked(input);
  if ([...ul.querySelectorAll('input[name="tag"]')].some((h) => h.value.toLowerCase() === name.toLowerCase())) return;
  const li = document.createElement("li");
  li.className = "chip";
  const hidden = Object.assign(document.createElement("input"), { type: "hidden", name: "tag", value: name });
  const x = Object.assign(document.createElement("button"), { type: "button", className: "chip-x", textContent: "×" });
  x.dataset.unpick = "";
  x.setAttribute("aria-label", `Remove tag ${name}`);
  li.append(name, hidden, x);
  ul.append(li);
}

function addCompanyChip(input, co) {
  const ul = picked(input);
  if ([...ul.querySelectorAll('input[name="company"]')].some((h) => h.value === String(co.id))) return;
  const li = document.createElement("li");
  li.className = "chip";
  const hidden = Object.assign(document.createElement("input"), { type: "hidden", name: "company", value: String(co.id) });
  hidden.dataset.name = co.name;
  const x = Object.assign(document.createElement("button"), { type: "button", className: "chip-x", textContent: "×" });
  x.dataset.unpick = "";
  x.setAttribute("aria-label", `Remove company ${co.name}`);
  li.append(co.name, hidden, x);
  ul.append(li);
}

// --- wiring: delegated, so inputs that arrive later (the drawer) work too ------
const target = (e) => (e.target instanceof HTMLInputElement && e.target.dataset.tagSuggest ? e.target : null);

document.querySelectorAll("input[data-tag-suggest]").forEach(enhance);
new MutationObserver(() => document.querySelectorAll("input[data-tag-suggest]").forEach(enhance))
  .observe(document.body, { childList: true, subtree: true });

document.addEventListener("input", (e) => { const input = target(e); if (input) suggest(input, false); });

// capture: the combobox answers its keys before the page's own Esc and j/k handlers
document.addEventListener("keydown", (e) => {
  const input = target(e);
  if (!input || e.altKey || e.ctrlKey || e.metaKey) return;
  const open = isOpen(input);
  switch (e.key) {
    case "ArrowDown":
      e.preventDefault();
      if (open) move(input, 1); else suggest(input, true);
      break;
    case "ArrowUp":
      if (open) { e.preventDefault(); move(input, -1); }
      break;
    case "Enter": {
      const st = states.get(input);
      if (open && st.active >= 0) {
        e.preventDefault();
        st.chose = true; // and the keypress that may follow submits nothing either
        choose(input, st.active);
      } else close(input);
      break;
    }
    case "Escape":
      if (!states.get(input)?.pop.hidden) { e.preventDefault(); e.stopPropagation(); close(input); }
      break;
    case "Tab":
      close(input);
      break;
    case "Backspace":
      if ((mode(input) === "pick" || mode(input) === "company") && input.value === "" && input.selectionStart === 0) picked(input)?.lastElementChild?.remove();
      break;
  }
}, true);

document.addEventListener("keypress", (e) => {
  const st = states.get(target(e));
  if (st?.chose && e.key === "Enter") e.preventDefault();
}, true);
document.addEventListener("keyup", (e) => { const st = states.get(target(e)); if (st) st.chose = false; }, true);

document.addEventListener("focusout", (e) => {
  const input = target(e);
  if (input && !states.get(input)?.pop.contains(e.relatedTarget)) close(input);
});
document.addEventListener("mousedown", (e) => { if (e.target.closest(".combo-pop")) e.preventDefault(); }); // keep the focus in the input
document.addEventListener("click", (e) => {
  const opt = e.target.closest('.combo-list [role="option"]');
  if (opt) {
    const input = opt.closest(".combo-pop").previousElementSibling;
    choose(input, Number(opt.dataset.index));
    return;
  }
  const x = e.target.closest("[data-unpick]");
  if (x) {
    const input = x.closest(".tag-picker").querySelector("input[data-tag-suggest]");
    x.closest("li").remove();
    input.focus();
  }
});
const replace = () => document.querySelectorAll("input[data-tag-suggest][aria-expanded]").forEach((input) => {
  if (!states.get(input)?.pop.hidden) place(input);
});
document.addEventListener("scroll", replace, true);
addEventListener("resize", replace);
