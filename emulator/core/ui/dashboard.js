// The payemu dashboard: polls the admin API (/__admin/*) and renders it; no framework, no build step.
// Every value from the server is put in the page as text (textContent), never as HTML.
"use strict";

const ADMIN = "/__admin";
const TOKEN_KEY = "payemu-admin-token";
const POLL_MS = 1000;
const JOURNAL_LIMIT = 500;

const ui = {
  tab: "journal",
  providers: [],
  operations: {},
  tenants: {}, // provider -> [tenant id]
  entries: [],
  selected: null, // the journal entry shown in the detail panel
  scenarioRules: {}, // scenario name -> its rules (fetched once per entry shown)
  signatures: {}, // what each panel last rendered, to skip identical re-renders
  polling: false,
  generation: 0, // bumped by every refresh: an older answer arriving late is dropped, never rendered
};

const $ = (selector) => document.querySelector(selector);

/** Build an element: el("td", {class: "x", title: "y"}, "text", child, ...). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function fill(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null));
}

// -- the admin API ----------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(ADMIN + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (response.status === 401) throw new Unauthorized();
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${method} ${ADMIN}${path}: ${response.status} ${data.error || ""}`);
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== "" && value != null) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

function showError(error) {
  const box = $("#error");
  box.textContent = error ? String(error.message || error) : "";
  box.hidden = !error;
}

/** Run an admin action from a control, then refresh what it changed. */
async function act(promise) {
  try {
    await promise;
    showError(null);
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin("the token was refused");
    showError(error);
  }
  await refresh(true);
}

// -- time and values --------------------------------------------------------------------------------

function iso(seconds) {
  return seconds == null ? "" : new Date(seconds * 1000).toISOString().replace("T", " ").replace("Z", "");
}

function shortTime(seconds) {
  return iso(seconds).slice(11, 23);
}

function relative(seconds) {
  const abs = Math.abs(seconds);
  const text = abs < 120 ? `${abs.toFixed(abs < 10 ? 1 : 0)} s` : abs < 7200 ? `${Math.round(abs / 60)} min`
    : abs < 172800 ? `${(abs / 3600).toFixed(1)} h` : `${(abs / 86400).toFixed(1)} days`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const TIME_FIELD = /(^|_)(at|time|created|updated|expires?|expiry|issued|deadline|from|until|since)$/;
const LONG_TEXT = 48;

/** One value as text: times (Unix seconds in a time-named field) as ISO, long strings shortened. */
function scalar(value, name = "") {
  if (value === null || value === undefined) return el("span", { class: "muted" }, "—");
  if (typeof value === "boolean") return el("span", { class: value ? "yes" : "no" }, value ? "yes" : "no");
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "number" && TIME_FIELD.test(name) && value > 1e9 && value < 1e10) {
    return el("span", { title: String(value) }, iso(value));
  }
  const text = String(value);
  return text.length > LONG_TEXT ? el("span", { title: text }, `${text.slice(0, LONG_TEXT - 1)}…`) : text;
}

function prettyBody(text) {
  if (!text) return "(empty)";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function statusClass(status) {
  return `status s${String(status)[0]}`;
}

// -- generic tables (state, rules) ------------------------------------------------------------------

/** A value as a person reads it: records as tables, maps as key/value rows, lists as rows. */
function render(value, depth = 0, name = "") {
  if (value instanceof Node) return value;
  if (Array.isArray(value)) {
    if (!value.length) return el("span", { class: "muted" }, "(none)");
    if (value.every(isPlainObject)) return recordTable(value.map((v, i) => [String(i + 1), v]), "#", depth);
    if (value.every((v) => !isPlainObject(v) && !Array.isArray(v))) return value.map((v) => String(v)).join(", ");
    return el("ol", {}, value.map((v) => el("li", {}, render(v, depth + 1))));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (!entries.length) return el("span", { class: "muted" }, "(none)");
    if (depth < 3 && entries.every(([, v]) => isPlainObject(v))) {
      return recordTable(entries, "key", depth);
    }
    if (depth >= 3) return JSON.stringify(value);
    return keyValueTable(entries, depth);
  }
  return scalar(value, name);
}

function keyValueTable(entries, depth = 0) {
  return el("table", { class: "kv" }, el("tbody", {}, entries.map(([k, v]) =>
    el("tr", {}, el("th", {}, k), el("td", {}, render(v, depth + 1, k))))));
}

function recordTable(rows, keyName, depth) {
  const columns = [];
  for (const [, record] of rows) for (const name of Object.keys(record)) if (!columns.includes(name)) columns.push(name);
  return el("div", { class: "scroll" }, el("table", { class: "records" },
    el("thead", {}, el("tr", {}, el("th", {}, keyName), columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, rows.map(([key, record]) => el("tr", {}, el("th", {}, scalar(key)),
      columns.map((c) => el("td", {}, c in record ? render(record[c], depth + 1, c) : "")))))
  ));
}

// -- journal ----------------------------------------------------------------------------------------

function journalFilters() {
  return {
    provider: $("#filter-provider").value,
    tenant: $("#filter-tenant").value.trim(),
    operation: $("#filter-operation").value.trim(),
    status: $("#filter-status").value,
  };
}

function statusMatches(status, wanted) {
  if (!wanted) return true;
  if (wanted === "err") return status >= 400;
  return String(status)[0] === wanted;
}

async function loadJournal(force, stale) {
  const filters = journalFilters();
  const data = await api(`/requests${query({ ...filters, status: "", limit: JOURNAL_LIMIT })}`);
  if (stale()) return;
  const entries = data.requests.filter((e) => statusMatches(e.status, filters.status));
  ui.entries = entries;
  const signature = JSON.stringify([filters, entries.map((e) => e.id), ui.selected && ui.selected.id]);
  if (!force && signature === ui.signatures.journal) return;
  ui.signatures.journal = signature;
  $("#journal-count").textContent = `${entries.length} shown, ${data.total} journalled since start`;
  fill($("#journal tbody"), entries.length ? entries.map(journalRow)
    : el("tr", {}, el("td", { colspan: 9, class: "muted" }, "no requests match")));
  const seen = new Set([...document.querySelectorAll("#tenant-names option")].map((o) => o.value));
  for (const e of entries) {
    if (e.tenant && !seen.has(e.tenant)) {
      seen.add(e.tenant);
      $("#tenant-names").append(el("option", { value: e.tenant }));
    }
  }
}

function ruleOf(entry) {
  const effect = (entry.effects || []).find((e) => e.startsWith("rule "));
  return effect ? Number(effect.slice(5)) : null;
}

function target(entry) {
  return `${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ""}`;
}

function journalRow(entry) {
  const rule = ruleOf(entry);
  return el("tr", {
    dataset: { id: entry.id },
    class: ui.selected && ui.selected.id === entry.id ? "selected" : null,
    onclick: () => selectEntry(entry),
  },
    el("td", {}, entry.id),
    el("td", { title: iso(entry.time) }, shortTime(entry.time)),
    el("td", {}, entry.provider || ""),
    el("td", { class: "tenant", title: entry.tenant || "" }, entry.tenant || el("span", { class: "muted" }, "—")),
    el("td", {}, entry.operation || ""),
    el("td", { class: "mono", title: target(entry) }, target(entry)),
    el("td", {}, el("span", { class: statusClass(entry.status) }, entry.status)),
    el("td", { class: "num" }, entry.duration_ms.toFixed(1)),
    el("td", {}, rule ? `${entry.scenario} · rule ${rule}`
      : el("span", { class: "muted" }, entry.scenario || ""),
    entry.violations && entry.violations.length ? el("span", { class: "badge" }, "contract") : null),
  );
}

async function selectEntry(entry) {
  ui.selected = entry;
  for (const row of document.querySelectorAll("#journal tbody tr")) {
    row.classList.toggle("selected", row.dataset.id === String(entry.id));
  }
  const rule = ruleOf(entry);
  let rules = null;
  if (rule && entry.scenario) {
    try {
      rules = ui.scenarioRules[entry.scenario] || (await api(`/scenarios/${entry.scenario}`)).rules;
      ui.scenarioRules[entry.scenario] = rules;
    } catch (error) {
      rules = null;
    }
  }
  if (ui.selected === entry) renderEntry(entry, rule, rules);
}

function renderEntry(entry, rule, rules) {
  const panel = $("#entry");
  const matched = rule && rules ? rules[rule - 1] : null;
  const violations = entry.violations || [];
  fill(panel,
    el("button", { type: "button", class: "close", title: "close", onclick: closeEntry }, "×"),
    el("h2", {}, `#${entry.id} ${entry.method} ${entry.path}`),
    keyValueTable([
      ["status", el("span", { class: statusClass(entry.status) }, entry.status)],
      ["provider", entry.provider], ["tenant", entry.tenant], ["operation", entry.operation],
      ["time", iso(entry.time)], ["latency", `${entry.duration_ms} ms`],
      ["query", entry.query || null], ["scenario", entry.scenario],
      ["effects", entry.effects.length ? entry.effects.join(", ") : null],
    ]),
    el("h3", {}, "Scenario rule"),
    el("div", { id: "entry-rule" }, rule
      ? [el("p", {}, `${entry.scenario}, rule ${rule}`), matched
        ? keyValueTable([["when", matched.when], ["then", matched.then], ["calls so far", matched.calls]])
        : el("p", { class: "muted" }, "(the scenario's rules are not available)")]
      : el("p", { class: "muted" }, "no rule matched: the call behaved as the provider does")),
    el("h3", {}, "Contract violations"),
    el("div", { id: "entry-violations" }, violations.length
      ? el("table", { class: "records" },
        el("thead", {}, el("tr", {}, el("th", {}, "where"), el("th", {}, "JSON path"), el("th", {}, "rule"),
          el("th", {}, "message"))),
        el("tbody", {}, violations.map((v) => el("tr", {}, el("td", {}, v.location),
          el("td", { class: "mono" }, jsonPath(v)), el("td", {}, v.keyword), el("td", {}, v.message)))))
      : el("p", { class: "muted" }, "none")),
    el("h3", {}, "Request"),
    headersTable(entry.request_headers),
    el("pre", { class: "body", id: "entry-request-body" }, prettyBody(entry.request_body)),
    el("h3", {}, "Response"),
    headersTable(entry.response_headers || {}),
    el("pre", { class: "body", id: "entry-response-body" }, prettyBody(entry.response_body)),
  );
  panel.hidden = false;
}

function jsonPath(violation) {
  const location = violation.location === "response" ? "$" : `$.${violation.location}`;
  if (!violation.field) return location;
  return violation.field.startsWith("/") ? `${location}${violation.field.replaceAll("/", ".")}`
    : `${location}.${violation.field}`;
}

function headersTable(headers) {
  const entries = Object.entries(headers);
  if (!entries.length) return el("p", { class: "muted" }, "no headers recorded");
  return el("table", { class: "kv headers" }, el("tbody", {}, entries.map(([k, v]) =>
    el("tr", {}, el("th", {}, k), el("td", { class: "mono" }, v)))));
}

function closeEntry() {
  ui.selected = null;
  $("#entry").hidden = true;
  for (const row of document.querySelectorAll("#journal tbody tr.selected")) row.classList.remove("selected");
}

// -- state ------------------------------------------------------------------------------------------

async function loadState(force, stale) {
  const chosen = $("#state-provider").value;
  const tenant = chosen ? $("#state-tenant").value : "";
  const dumps = await Promise.all((chosen ? [chosen] : ui.providers).map((p) => api(`/state/${p}${query({ tenant })}`)));
  if (stale()) return;
  const signature = JSON.stringify(dumps);
  if (!force && signature === ui.signatures.state) return;
  ui.signatures.state = signature;
  const tenants = dumps.flatMap((dump) => Object.entries(dump.tenants).map(([id, state]) => [dump.provider, id, state]));
  fill($("#state"), tenants.length ? tenants.map(([provider, id, state]) => {
    const { now, ...fields } = state;
    const scalars = Object.entries(fields).filter(([, v]) => !isPlainObject(v) && !Array.isArray(v));
    const collections = Object.entries(fields).filter(([, v]) => isPlainObject(v) || Array.isArray(v));
    return el("div", { class: "card tenant-state", dataset: { provider, tenant: id } },
      el("h2", {}, `${provider} / ${id}`, el("span", { class: "muted" }, ` · tenant clock ${now}`)),
      scalars.length ? keyValueTable(scalars) : null,
      collections.map(([name, value]) => el("section", { class: "collection", dataset: { name } },
        el("h3", {}, name, el("span", { class: "muted" }, ` (${Array.isArray(value) ? value.length
          : Object.keys(value).length})`)),
        render(value, isPlainObject(value) && Object.values(value).every(isPlainObject) ? 0 : 1))));
  }) : el("p", { class: "muted" }, "no tenant has state yet: it is made on a tenant's first call"));
}

// -- callbacks --------------------------------------------------------------------------------------

async function loadCallbacks(force, stale) {
  const data = await api("/callbacks");
  if (stale()) return;
  const signature = JSON.stringify(data.callbacks);
  $("#callbacks-count").textContent = `${data.count} in the outbox`;
  if (!force && signature === ui.signatures.callbacks) return;
  ui.signatures.callbacks = signature;
  const items = [...data.callbacks].reverse();
  fill($("#callbacks tbody"), items.length ? items.map((d) => callbackRow(d, data.now))
    : el("tr", {}, el("td", { colspan: 8, class: "muted" }, "no callbacks yet")));
}

function callbackRow(delivery, now) {
  const next = delivery.next_attempt_at;
  return el("tr", { dataset: { id: delivery.id, status: delivery.status } },
    el("td", { class: "mono" }, delivery.id, delivery.duplicate_of ? el("div", { class: "muted" },
      `duplicate of ${delivery.duplicate_of}`) : null),
    el("td", {}, `${delivery.provider} / ${delivery.tenant}`),
    el("td", {}, delivery.event, el("details", {}, el("summary", { class: "muted" }, "body"),
      el("pre", { class: "body" }, prettyBody(delivery.body)))),
    el("td", { class: "mono" }, delivery.url),
    el("td", {}, el("span", { class: `delivery ${delivery.status}` }, delivery.status)),
    el("td", {}, delivery.attempts.length ? el("ol", { class: "attempts" }, delivery.attempts.map((a) =>
      el("li", { title: iso(a.at) }, el("span", { class: a.status ? statusClass(a.status) : "status s5" },
        a.status || "no answer"), ` ${shortTime(a.at)}`, a.error ? el("div", { class: "error" }, a.error) : null,
      el("span", { class: "muted" }, ` ${a.duration_ms} ms`))))
      : el("span", { class: "muted" }, "none yet")),
    el("td", { class: "next", title: next == null ? "" : iso(next) }, next == null
      ? el("span", { class: "muted" }, "—") : next <= now ? "due now" : `${shortTime(next)} (${relative(next - now)})`),
    el("td", {}, el("button", {
      type: "button", class: "redeliver",
      onclick: () => act(api(`/callbacks/${delivery.id}/redeliver`, { method: "POST", body: { wait: 5 } })),
    }, "redeliver")),
  );
}

// -- clock ------------------------------------------------------------------------------------------

async function loadClock(stale) {
  const data = await api("/clock");
  if (stale()) return;
  $("#server-clock").textContent = `clock ${iso(data.now).slice(0, 19)}${data.offset_seconds
    ? ` (${data.offset_seconds > 0 ? "+" : ""}${data.offset_seconds} s)` : ""}`;
  if (ui.tab !== "clock") return;
  $("#clock-now").textContent = iso(data.now);
  $("#clock-offset").textContent = data.offset_seconds ? `${data.offset_seconds} s from real time` : "real time";
  const tenants = Object.entries(data.tenants);
  fill($("#clock-tenants tbody"), tenants.length ? tenants.map(([key, t]) => el("tr", { dataset: { key } },
    el("td", {}, key.replace("/", " / ")), el("td", {}, t.iso), el("td", { class: "num" }, `${t.offset_seconds} s`)))
    : el("tr", {}, el("td", { colspan: 3, class: "muted" }, "every tenant follows the server's clock")));
}

function advance(seconds) {
  const target = $("#advance-target").value;
  const [provider, tenant] = target ? target.split("/") : [];
  const body = { seconds: Number(seconds), ...(target ? { provider, tenant } : {}) };
  return act(api("/clock/advance", { method: "POST", body }));
}

// -- scenarios --------------------------------------------------------------------------------------

async function loadScenarios(force, stale) {
  const data = await api("/scenarios");
  if (stale()) return;
  const signature = JSON.stringify([data, ui.tenants, $("#scenarios-provider").value]);
  if (!force && signature === ui.signatures.scenarios) return;
  ui.signatures.scenarios = signature;
  const { servers, tenants } = data.active;
  const active = [
    ...Object.entries(servers).map(([provider, name]) => el("tr", { dataset: { provider, name } },
      el("td", {}, `${provider}: the whole server`), el("td", {}, name),
      el("td", {}, el("button", {
        type: "button", class: "deactivate", title: "also unbinds this provider's tenant scenarios",
        onclick: () => act(api(`/scenarios/active${query({ provider })}`, { method: "DELETE" })),
      }, "deactivate")))),
    ...tenants.map((b) => el("tr", { dataset: { provider: b.provider, tenant: b.tenant, name: b.name } },
      el("td", {}, `${b.provider}: tenant ${b.tenant}`), el("td", {}, b.name),
      el("td", {}, el("button", {
        type: "button", class: "deactivate",
        onclick: () => act(api(`/scenarios/active${query({ provider: b.provider, tenant: b.tenant })}`,
          { method: "DELETE" })),
      }, "deactivate")))),
  ];
  fill($("#scenarios-active tbody"), active.length ? active
    : el("tr", {}, el("td", { colspan: 3, class: "muted" }, "none: every provider answers as it does")));
  const provider = $("#scenarios-provider").value;
  fill($("#scenarios tbody"), data.scenarios.filter((s) => !provider || s.provider === provider).map((s) => {
    const bound = tenants.filter((b) => b.name === s.name).map((b) => b.tenant);
    const choice = el("select", { class: "bind-tenant" }, el("option", { value: "" }, "the whole server"),
      (ui.tenants[s.provider] || []).map((t) => el("option", { value: t }, `tenant ${t}`)));
    return el("tr", { dataset: { name: s.name } },
      el("td", { class: "mono" }, s.name),
      el("td", {}, s.description || ""),
      el("td", {}, [s.active ? "server" : null, ...bound.map((t) => `tenant ${t}`)].filter(Boolean).join(", ")),
      el("td", { class: "controls" }, choice, el("button", {
        type: "button", class: "activate",
        onclick: () => act(api("/scenarios/active", {
          method: "PUT", body: { name: s.name, ...(choice.value ? { tenant: choice.value } : {}) },
        })),
      }, "activate")));
  }));
}

// -- start-up, tabs, polling ------------------------------------------------------------------------

const LOADERS = { journal: loadJournal, state: loadState, callbacks: loadCallbacks, scenarios: loadScenarios };

async function refresh(force = false) {
  if (ui.polling && !force) return;
  ui.polling = true;
  const generation = ++ui.generation;
  const stale = () => generation !== ui.generation;
  try {
    await loadClock(stale);
    const loader = LOADERS[ui.tab];
    if (loader && !stale()) await loader(force, stale);
    document.body.dataset.refreshed = String(Date.now());
    showError(null);
  } catch (error) {
    if (error instanceof Unauthorized) showLogin("the token was refused");
    else showError(error);
  } finally {
    ui.polling = false;
  }
}

function showTab(name) {
  ui.tab = LOADERS[name] || name === "clock" ? name : "journal";
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== ui.tab;
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.tab === ui.tab);
  ui.signatures = {};
  refresh(true);
}

function showLogin(message) {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#logout").hidden = true;
  const error = $("#login-error");
  error.textContent = message || "";
  error.hidden = !message || !sessionStorage.getItem(TOKEN_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
  $("#token").focus();
}

async function start() {
  let health;
  try {
    health = await api("/health");
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin("the token was refused");
    return showError(error);
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  $("#version").textContent = `${health.version}${health.strict ? " · strict" : ""}`;
  ui.providers = health.providers;
  ui.operations = health.operations || {};
  const options = (select, extra) => fill(select, extra, ui.providers.map((p) => el("option", { value: p }, p)));
  options($("#filter-provider"), el("option", { value: "" }, "any"));
  options($("#state-provider"), el("option", { value: "" }, "every provider"));
  options($("#scenarios-provider"), el("option", { value: "" }, "any"));
  fillOperations();
  await loadTenants();
  showTab(location.hash.slice(1));
}

function fillOperations() {
  const provider = $("#filter-provider").value;
  const names = new Set(Object.entries(ui.operations).filter(([p]) => !provider || p === provider).flatMap(([, o]) => o));
  fill($("#operation-names"), [...names].sort().map((o) => el("option", { value: o })));
}

async function loadTenants() {
  const lists = await Promise.all(ui.providers.map((p) => api(`/tenants/${p}`)));
  for (const list of lists) ui.tenants[list.provider] = list.tenants.map((t) => t.id);
  fill($("#advance-target"), el("option", { value: "" }, "the server (every tenant)"),
    lists.map((list) => el("optgroup", { label: list.provider },
      list.tenants.map((t) => el("option", { value: `${list.provider}/${t.id}` }, `${list.provider} / ${t.id}`)))));
  fillStateTenants();
}

function fillStateTenants() {
  const provider = $("#state-provider").value;
  fill($("#state-tenant"), el("option", { value: "" }, "every tenant"),
    (ui.tenants[provider] || []).map((t) => el("option", { value: t }, t)));
}

function wire() {
  $("#login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    $("#token").value = "";
    start();
  });
  $("#logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("");
  });
  window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));
  for (const id of ["#filter-provider", "#filter-tenant", "#filter-operation", "#filter-status"]) {
    $(id).addEventListener("input", () => {
      if (id === "#filter-provider") fillOperations();
      closeEntry();
      refresh(true);
    });
  }
  $("#journal-filters").addEventListener("submit", (event) => event.preventDefault());
  $("#filter-clear").addEventListener("click", () => {
    $("#journal-filters").reset();
    fillOperations();
    closeEntry();
    refresh(true);
  });
  $("#state-provider").addEventListener("change", () => {
    fillStateTenants();
    refresh(true);
  });
  $("#state-tenant").addEventListener("change", () => refresh(true));
  $("#scenarios-provider").addEventListener("change", () => refresh(true));
  $("#flush").addEventListener("click", () => act(api("/callbacks/flush", { method: "POST", body: { wait: 5 } })));
  $("#advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    advance($("#advance-seconds").value);
  });
  for (const button of document.querySelectorAll("#advance-form [data-seconds]")) {
    button.addEventListener("click", () => advance(button.dataset.seconds));
  }
  $("#clock-reset").addEventListener("click", () => act(api("/clock/reset", { method: "POST" })));
  setInterval(() => {
    if ($("#live").checked && !$("#app").hidden && !document.hidden) refresh();
  }, POLL_MS);
}

wire();
start();
