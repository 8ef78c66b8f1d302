// The views pinned to the sidebar under Customers, with their live counts:
// the names first, then the counts (each view counted as the table counts
// it), so that no page waits for them.

const list = document.getElementById("nav-views");

const viewURL = (v) => "/crm/customers?" + new URLSearchParams([...new URLSearchParams(v.query), ["view", String(v.id)]]);
const fmt = new Intl.NumberFormat("en-US");

function render(items) {
  const open = new URLSearchParams(location.search).get("view");
  list.replaceChildren(...items.map((v) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = viewURL(v);
    a.dataset.viewId = v.id;
    if (location.pathname === "/crm/customers" && open === String(v.id)) a.setAttribute("aria-current", "page");
    const name = document.createElement("span");
    name.className = "nav-view-name";
    name.textContent = v.name;
    name.title = v.name;
    const count = document.createElement("span");
    count.className = "nav-count num";
    if (v.count !== undefined) {
      count.textContent = fmt.format(v.count) + (v.count_exact ? "" : "+");
      count.title = `${count.textContent} customers`;
    }
    a.append(name, count);
    li.append(a);
    return li;
  }));
  list.hidden = items.length === 0;
}

async function load(counts) {
  const res = await fetch("/api/v1/views?pinned=true" + (counts ? "&counts=true" : ""), { headers: { Accept: "application/json" } });
  if (!res.ok) return false;
  const data = await res.json();
  render(data.items || []);
  return (data.items || []).length > 0;
}

if (list) {
  load(false).then((any) => { if (any) load(true); }).catch(() => {});
}
