// The supervisors' call list (/calls/): the organization's ended calls over REST, newest
// first, a page at a time (the API's cursor), each recorded call with its player.

import { h } from "./dom.js";
import { callItem, endedCallsQuery, getJson, showFailure } from "./call-history.js";

const PAGE_SIZE = 50;
const $ = (selector) => document.querySelector(selector);
const list = $("[data-testid=calls-list]");
const older = $("[data-testid=calls-older]");
const status = $("[data-testid=calls-status]");
const form = $("[data-testid=calls-filters]");
let agents = new Map(); // agent id -> name
let next = null; // the API's link to the next (older) page

/** The organization's agents and queues, for the names and the filters' choices. */
async function loadChoices() {
  const [agentPage, queuePage] = await Promise.all([
    getJson("/api/v1/agents/?page_size=500").catch(() => ({ results: [] })),
    getJson("/api/v1/queues/?page_size=500").catch(() => ({ results: [] })),
  ]); // without them the calls still show, without their agents' names
  agents = new Map(agentPage.results.map((a) => [a.id, a.name]));
  const options = (rows) => rows.map((row) => h("option", { value: row.id }, row.name));
  form.elements.agent.append(...options(agentPage.results));
  form.elements.queue.append(...options(queuePage.results));
}

/** A day picked in a date field, as the instant it starts here (ISO, with the offset
 * the API takes); `next`: the day after it. */
function dayStart(value, next = false) {
  const day = new Date(`${value}T00:00`);
  if (next) day.setDate(day.getDate() + 1);
  return day.toISOString();
}

function firstPage() {
  const params = { page_size: PAGE_SIZE };
  const search = form.elements.search.value.trim();
  if (search) params.search = search;
  if (form.elements.recorded.checked) params.has_recording = "true";
  for (const name of ["agent", "queue"]) {
    if (form.elements[name].value) params[name] = form.elements[name].value;
  }
  if (form.elements.from.value) params.started_after = dayStart(form.elements.from.value);
  if (form.elements.to.value) params.started_before = dayStart(form.elements.to.value, true);
  return `/api/v1/calls/?${endedCallsQuery(params)}`;
}

async function load(url, { append }) {
  status.textContent = "Loading…";
  older.disabled = true;
  try {
    const page = await getJson(url);
    const items = page.results.map((call) =>
      callItem(call, { testid: "calls-item", who: call.agent != null ? agents.get(call.agent) || `agent ${call.agent}` : "" }),
    );
    if (append) list.append(...items);
    else list.replaceChildren(...items);
    if (!list.children.length) list.replaceChildren(h("li", { class: "empty" }, "No calls."));
    next = page.next;
    older.hidden = !next;
    status.textContent = "";
  } catch (error) {
    status.textContent = "";
    if (append) list.append(h("li", { class: "field-error", role: "alert" }, `Calls: ${error.message}`));
    else showFailure(list, error);
  } finally {
    older.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(firstPage(), { append: false });
});
older.addEventListener("click", () => {
  if (next) load(next, { append: true });
});

await loadChoices();
await load(firstPage(), { append: false });
