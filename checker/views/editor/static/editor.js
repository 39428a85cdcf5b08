// ligging edit: the page side of the live editor. Plain JavaScript, no build step, no network but
// the local server. The drawing is the server's `ligging render` SVG; this script only moves what the
// user drags, asks the server to re-check, and shows what it answers.
"use strict";

const TOKEN = document.querySelector('meta[name="ligging-token"]').content;
const WANT_LAYOUT = document.querySelector('meta[name="ligging-layout"]').content === "1";
const STEP = 0.005; // drag snaps to 5 mm
const NUDGE = 0.01; // arrow keys move 1 cm
const DRAGGABLE = new Set(["cable", "pipe", "rack", "container", "structure", "tree"]);
const $ = (id) => document.getElementById(id);

let state = null; // the last full state from the server
let selected = null; // selected object id
let drag = null; // the drag in progress
let previewBusy = false;
let pendingPreview = null; // latest preview asked for while one was in flight
let proposalDismissed = -1;
window.__ligging = { timings: [], previews: 0, ready: false };

// ------------------------------------------------------------------ server

async function api(method, path, data) {
  const response = await fetch(path, {
    method,
    headers: { "X-Ligging-Token": TOKEN, "Content-Type": "application/json" },
    body: data === undefined ? undefined : JSON.stringify(data),
  });
  let answer;
  try {
    answer = await response.json();
  } catch (e) {
    answer = { error: `the server answered ${response.status}` };
  }
  if (!response.ok) throw new Error(answer.error || `the server answered ${response.status}`);
  return answer;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function run(work) {
  try {
    showError("");
    const next = await work();
    if (next && next.svg !== undefined) adopt(next);
    return next;
  } catch (e) {
    showError(e.message);
    return null;
  }
}

async function edit(op) {
  const next = await run(() => api("POST", "/api/edit", op));
  if (next) loadSuggestions();
  return next;
}

async function loadSuggestions() {
  const version = state.version;
  try {
    const got = await api("POST", "/api/suggestions");
    if (state.version === version && got.version === version && got.ready) {
      state.findings = got.findings;
      state.suggestions_ready = true;
      drawFindings(state.findings, state.summary);
      window.__ligging.suggested = version;
    }
  } catch (e) {
    showError(e.message);
  }
}

// ------------------------------------------------------------------ drawing

function svgElement() {
  return $("drawing").querySelector("svg");
}

function adopt(next) {
  state = next;
  if (next.svg) setDrawing(next.svg);
  drawFindings(next.findings, next.summary);
  drawPanel();
  drawProposal();
  $("case-name").textContent = next.name;
  $("case-path").textContent = next.case + (next.dirty ? " — unsaved changes" : " — saved");
  $("undo").disabled = !next.can_undo;
  $("redo").disabled = !next.can_redo;
  $("save").disabled = !next.dirty;
  $("remove-expect").hidden = !next.has_expect;
  const t = next.timing || {};
  if (t.evaluate_ms !== undefined) {
    $("status").textContent = `re-check ${t.evaluate_ms.toFixed(1)} ms · drawing ${(t.render_ms || 0).toFixed(1)} ms`;
  }
}

let zoom = 1;

function setDrawing(svgText) {
  $("drawing").innerHTML = svgText;
  const svg = svgElement();
  if (!svg || !state) return;
  svg.style.width = `${zoom * 100}%`;
  const byId = Object.fromEntries(state.objects.map((o) => [o.id, o]));
  for (const g of svg.querySelectorAll("g.object")) {
    const obj = byId[g.dataset.id];
    if (obj && obj.locked) g.classList.add("locked");
    if (g.dataset.id === selected) g.classList.add("selected");
  }
  drawGhost();
}

function groups(id) {
  const svg = svgElement();
  return svg ? [...svg.querySelectorAll("g.object")].filter((g) => g.dataset.id === id) : [];
}

function movedWith(id) {
  const obj = state.objects.find((o) => o.id === id);
  return obj ? [id, ...obj.holds] : [id];
}

// ------------------------------------------------------------------ findings

function fmt(v) {
  return v === null || v === undefined ? "" : Number(v).toFixed(3);
}

function drawFindings(findings, summary) {
  $("summary").textContent = `${summary.error} errors · ${summary.warning} warnings · ${summary.info} info`;
  const list = $("findings");
  list.replaceChildren();
  for (const f of findings) {
    const li = document.createElement("li");
    li.dataset.rule = f.rule;
    li.dataset.subjects = f.subjects.join(" ");
    li.dataset.fingerprint = f.fingerprint;
    if (f.baseline) li.classList.add("baseline");
    if (!f.counts && !f.baseline) li.classList.add("granted");
    const head = document.createElement("div");
    const num = document.createElement("span");
    num.className = "num";
    num.textContent = f.number;
    const sev = document.createElement("span");
    sev.className = `sev ${f.severity}`;
    sev.textContent = f.baseline ? `${f.severity} (baseline)` : f.severity;
    const rule = document.createElement("button");
    rule.type = "button";
    rule.className = "link rule";
    rule.textContent = f.rule;
    rule.title = "explain this rule";
    rule.addEventListener("click", () => showExplain(f.rule));
    const subj = document.createElement("span");
    subj.textContent = ` [${f.kind}] ${f.subjects.join(", ")}`;
    head.append(num, sev, rule, subj);
    const msg = document.createElement("div");
    msg.className = "msg";
    msg.textContent = f.message;
    li.append(head, msg);
    if (f.accepted) {
      const st = document.createElement("div");
      st.className = `state ${f.accepted.state}`;
      st.textContent = f.accepted.state === "pending"
        ? "accepted pending approval (still counts): fill in reason, approved_by and until in the case file"
        : `${f.accepted.state}: ${f.accepted.reason} (${f.accepted.approved_by}, until ${f.accepted.until})`;
      li.append(st);
    }
    const actions = document.createElement("div");
    actions.className = "actions";
    for (const s of f.suggestions || []) {
      const b = document.createElement("button");
      b.type = "button";
      if (s.move !== undefined) {
        b.className = "apply-move";
        b.textContent = `move ${s.move} by dx ${s.dx >= 0 ? "+" : ""}${fmt(s.dx)}, dz ${s.dz >= 0 ? "+" : ""}${fmt(s.dz)} m`;
        b.addEventListener("click", () => edit({ op: "move", id: s.move, dx: s.dx, dz: s.dz }));
      } else {
        b.className = "apply-deviation";
        b.textContent = `accept deviation ${s.deviate} at ${fmt(s.to)} (pending approval)`;
        b.addEventListener("click", () => edit({ op: "accept", rule: f.rule, subjects: f.subjects }));
      }
      actions.append(b);
    }
    if (f.counts && state && !state.suggestions_ready) {
      const wait = document.createElement("span");
      wait.className = "dim";
      wait.textContent = "looking for a move…";
      actions.append(wait);
    }
    li.append(actions);
    li.addEventListener("mouseenter", () => highlight(f.subjects, true));
    li.addEventListener("mouseleave", () => highlight(f.subjects, false));
    list.append(li);
  }
}

function highlight(ids, on) {
  for (const id of ids) for (const g of groups(id)) g.classList.toggle("selected", on || id === selected);
}

async function showExplain(rule) {
  try {
    const got = await api("GET", `/api/explain/${encodeURIComponent(rule)}`);
    $("explain-text").textContent = got.text;
    $("explain").hidden = false;
    $("explain").scrollIntoView({ block: "nearest" });
  } catch (e) {
    showError(e.message);
  }
}

// ------------------------------------------------------------------ object panel

const LENGTH_KEYS = ["x", "cover", "diameter", "width", "height"];

function current() {
  return state && selected ? state.objects.find((o) => o.id === selected) : null;
}

function drawPanel() {
  const obj = current();
  $("object-none").hidden = !!obj;
  $("object-form").hidden = !obj;
  if (!obj) return;
  $("object-id").textContent = obj.id;
  $("object-what").textContent = `${obj.kind}${obj.network ? " · " + obj.network : ""}${obj.holds.length ? " · holds " + obj.holds.join(", ") : ""}`;
  $("object-unlock").checked = !obj.locked;
  $("object-unlock").disabled = obj.status === "planned";
  const fixedShape = obj.kind === "crossing" || (obj.kind === "reservation" && obj.from !== null);
  for (const key of LENGTH_KEYS) {
    const input = $(`f-${key}`);
    const value = obj[key];
    if (document.activeElement !== input) input.value = value === null || value === undefined ? "" : Number(value.toFixed(4));
    input.disabled = obj.locked || fixedShape || value === null || value === undefined || (obj.kind === "tree" && key === "cover");
  }
  for (const key of ["owner", "status"]) {
    const input = $(`f-${key}`);
    if (document.activeElement !== input) input.value = obj[key] || "";
    input.disabled = obj.locked;
  }
  $("object-delete").disabled = obj.locked;
}

function select(id) {
  selected = id;
  for (const g of svgElement()?.querySelectorAll("g.object") || []) g.classList.toggle("selected", g.dataset.id === id);
  drawPanel();
}

function panelValues(only) {
  const values = {};
  for (const key of only) {
    const v = $(`f-${key}`).valueAsNumber;
    if (!Number.isFinite(v)) throw new Error(`${key} must be a number of metres`);
    values[key] = v;
  }
  return values;
}

for (const key of LENGTH_KEYS) {
  const input = $(`f-${key}`);
  input.addEventListener("input", () => {
    const obj = current();
    if (!obj || !Number.isFinite(input.valueAsNumber)) return;
    askPreview({ id: obj.id, values: { [key]: input.valueAsNumber } });
  });
  input.addEventListener("change", () => {
    const obj = current();
    if (!obj) return;
    try {
      edit({ op: "set", id: obj.id, values: panelValues([key]) });
    } catch (e) {
      showError(e.message);
    }
  });
}
for (const key of ["owner", "status"]) {
  $(`f-${key}`).addEventListener("change", () => {
    const obj = current();
    if (obj) edit({ op: "set", id: obj.id, values: { [key]: $(`f-${key}`).value } });
  });
}
$("object-form").addEventListener("submit", (e) => e.preventDefault());
$("object-unlock").addEventListener("change", () => {
  const obj = current();
  if (obj) run(() => api("POST", "/api/edit", { op: "lock", id: obj.id, locked: !$("object-unlock").checked }));
});
$("object-delete").addEventListener("click", async () => {
  const obj = current();
  if (obj && (await edit({ op: "delete", id: obj.id }))) select(null);
});

// ------------------------------------------------------------------ preview (drag, typing)

function askPreview(request) {
  if (previewBusy) {
    pendingPreview = request;
    return;
  }
  sendPreview(request);
}

async function sendPreview(request) {
  previewBusy = true;
  const started = performance.now();
  try {
    const got = await api("POST", "/api/preview", request);
    if (state && got.version === state.version) {
      setDrawing(got.svg);
      if (drag && request.id === drag.id) {
        // the new drawing has the object where this request put it; it follows the pointer from there
        drag.shown = { x: request.values.x ?? drag.x0, cover: request.values.cover ?? drag.cover0 };
        followDrag();
      }
      drawFindings(got.findings, got.summary);
      await new Promise((resolve) => requestAnimationFrame(() => resolve()));
      window.__ligging.timings.push({ round_trip_ms: performance.now() - started, ...got.timing });
      window.__ligging.previews += 1;
      $("status").textContent =
        `re-check ${got.timing.evaluate_ms.toFixed(1)} ms · drawing ${got.timing.render_ms.toFixed(1)} ms · on screen after ${(performance.now() - started).toFixed(0)} ms`;
    }
    showError("");
  } catch (e) {
    showError(e.message);
  } finally {
    previewBusy = false;
    if (pendingPreview) {
      const next = pendingPreview;
      pendingPreview = null;
      sendPreview(next);
    }
  }
}

function svgPoint(event, matrix) {
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix);
  return { x: p.x, y: p.y };
}

function snap(v) {
  return Math.round(v / STEP) * STEP;
}

$("drawing").addEventListener("pointerdown", (event) => {
  const g = event.target.closest("g.object");
  if (!g || !state || event.button !== 0) return;
  const obj = state.objects.find((o) => o.id === g.dataset.id);
  if (!obj) return;
  select(obj.id);
  if (obj.locked) {
    showError(`${obj.id} is ${obj.status} (bestaande ligging): tick "unlocked" in the panel to move it`);
    return;
  }
  if (!DRAGGABLE.has(obj.kind) || (obj.kind === "reservation")) return;
  const svg = svgElement();
  const matrix = svg.getScreenCTM().inverse();
  drag = {
    id: obj.id, kind: obj.kind, matrix, scale: Number(svg.dataset.scale),
    start: svgPoint(event, matrix), x0: obj.x, cover0: obj.cover,
    target: { x: obj.x, cover: obj.cover }, shown: null,
  };
  $("drawing").setPointerCapture(event.pointerId);
  event.preventDefault();
});

$("drawing").addEventListener("pointermove", (event) => {
  if (!drag) return;
  const p = svgPoint(event, drag.matrix);
  const x = snap(drag.x0 + (p.x - drag.start.x) / drag.scale);
  const cover = drag.kind === "tree" ? drag.cover0 : Math.max(0, snap(drag.cover0 + (p.y - drag.start.y) / drag.scale));
  if (Math.abs(x - drag.target.x) < 1e-9 && Math.abs(cover - drag.target.cover) < 1e-9) return;
  drag.target = { x, cover };
  followDrag();
  const values = drag.kind === "tree" ? { x } : { x, cover };
  askPreview({ id: drag.id, values });
});

function followDrag() {
  // the drawing shows the last checked position; the dragged object (and a rack's contents) follows the pointer
  const svg = svgElement();
  const scale = Number(svg.dataset.scale);
  const shown = state.objects.find((o) => o.id === drag.id);
  const base = drag.shown || { x: shown.x, cover: shown.cover };
  const dx = (drag.target.x - base.x) * scale;
  const dy = (drag.target.cover - base.cover) * scale;
  for (const id of movedWith(drag.id)) {
    for (const g of groups(id)) {
      g.setAttribute("transform", `translate(${dx} ${dy})`);
      g.classList.add("dragging");
    }
  }
}

async function endDrag(event) {
  if (!drag) return;
  const done = drag;
  drag = null;
  $("drawing").releasePointerCapture(event.pointerId);
  const moved = Math.abs(done.target.x - done.x0) > 1e-9 || Math.abs(done.target.cover - done.cover0) > 1e-9;
  if (!moved) return;
  pendingPreview = null;
  const values = done.kind === "tree" ? { x: done.target.x } : { x: done.target.x, cover: done.target.cover };
  await edit({ op: "set", id: done.id, values });
}

$("drawing").addEventListener("pointerup", endDrag);
$("drawing").addEventListener("pointercancel", endDrag);

// ------------------------------------------------------------------ layout proposal (ghost)

function drawGhost() {
  const svg = svgElement();
  const p = state && state.proposal;
  if (!svg || !p || p.version === proposalDismissed) return;
  const scale = Number(svg.dataset.scale);
  for (const m of p.moves) {
    for (const g of groups(m.id)) {
      if (g.classList.contains("ghost")) continue;
      const ghost = g.cloneNode(true);
      ghost.classList.add("ghost");
      ghost.classList.remove("selected", "locked");
      ghost.dataset.ghostOf = m.id;
      ghost.removeAttribute("data-id");
      ghost.setAttribute("transform", `translate(${m.dx * scale} ${m.dz * scale})`);
      svg.append(ghost);
      const body = g.querySelector(".body");
      if (body && !state.objects.find((o) => o.holds.includes(m.id))) {
        // an arrow from where the object is to where the solver would put it
        const box = body.getBBox();
        const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
        const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
        line.setAttribute("class", "ghost-arrow");
        line.setAttribute("x1", cx);
        line.setAttribute("y1", cy);
        line.setAttribute("x2", cx + m.dx * scale);
        line.setAttribute("y2", cy + m.dz * scale);
        svg.append(line);
      }
    }
  }
}

function drawProposal() {
  const p = state.proposal;
  const box = $("proposal");
  box.hidden = !p || p.version === proposalDismissed;
  if (box.hidden) return;
  const body = $("proposal-body");
  body.replaceChildren();
  const lead = document.createElement("p");
  lead.textContent = !p.feasible ? p.note
    : p.moves.length === 0 ? "The solver keeps every object where it is."
    : `${p.moves.length} objects move (drawn as ghosts); ${p.remaining} findings would remain.`;
  body.append(lead);
  const list = document.createElement("ul");
  for (const m of p.moves) {
    const li = document.createElement("li");
    li.textContent = `${m.id}: x ${fmt(m.x)} (${m.dx >= 0 ? "+" : ""}${fmt(m.dx)}), cover ${fmt(m.cover)} (${m.dz >= 0 ? "+" : ""}${fmt(m.dz)})`;
    list.append(li);
  }
  for (const d of p.deviations) {
    const li = document.createElement("li");
    li.textContent = `deviation: ${d}`;
    list.append(li);
  }
  body.append(list);
  if (p.note && p.feasible) {
    const note = document.createElement("p");
    note.className = "dim";
    note.textContent = p.note;
    body.append(note);
  }
  $("proposal-accept").disabled = !p.feasible || p.moves.length === 0;
}

async function propose() {
  $("propose").disabled = true;
  $("status").textContent = "the layout solver is working…";
  proposalDismissed = -1;
  const got = await run(() => api("POST", "/api/layout"));
  $("propose").disabled = false;
  $("status").textContent = got ? "layout proposal ready" : "";
}

$("propose").addEventListener("click", propose);
for (const [id, factor] of [["zoom-in", 1.25], ["zoom-out", 0.8]]) {
  $(id).addEventListener("click", () => {
    zoom = Math.min(6, Math.max(1, zoom * factor));
    const svg = svgElement();
    if (svg) svg.style.width = `${zoom * 100}%`;
    $("zoom-level").textContent = `${Math.round(zoom * 100)} %`;
  });
}
$("proposal-accept").addEventListener("click", () => edit({ op: "layout", version: state.proposal.version }));
$("proposal-dismiss").addEventListener("click", () => {
  proposalDismissed = state.proposal.version;
  adopt(state);
});

// ------------------------------------------------------------------ add, history, save

function fillThemas(themas) {
  const select = $("add-network");
  if (select.options.length) return;
  for (const t of themas) {
    const o = document.createElement("option");
    o.textContent = t;
    select.append(o);
  }
}

$("add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const op = { op: "add", network: $("add-network").value };
  if ($("add-id").value.trim()) op.id = $("add-id").value.trim();
  if ($("add-owner").value.trim()) op.owner = $("add-owner").value.trim();
  for (const key of ["x", "cover", "diameter"]) {
    const v = $(`add-${key}`).valueAsNumber;
    if (Number.isFinite(v)) op[key] = v;
  }
  const before = new Set(state.objects.map((o) => o.id));
  if (await edit(op)) {
    const added = state.objects.find((o) => !before.has(o.id));
    if (added) select(added.id);
    $("add-id").value = "";
  }
});

$("undo").addEventListener("click", () => run(() => api("POST", "/api/undo")).then((s) => s && loadSuggestions()));
$("redo").addEventListener("click", () => run(() => api("POST", "/api/redo")).then((s) => s && loadSuggestions()));
$("remove-expect").addEventListener("click", () => edit({ op: "remove_expect" }));
$("explain-close").addEventListener("click", () => { $("explain").hidden = true; });

async function save() {
  const saved = await run(() => api("POST", "/api/save"));
  if (saved) {
    state.dirty = false;
    $("save").disabled = true;
    $("case-path").textContent = `${state.case} — saved`;
    $("status").textContent = "saved";
  }
}
$("save").addEventListener("click", save);

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, select, textarea");
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key.toLowerCase() === "s") {
    event.preventDefault();
    save();
  } else if (mod && !typing && (event.key.toLowerCase() === "y" || (event.key.toLowerCase() === "z" && event.shiftKey))) {
    event.preventDefault();
    $("redo").click();
  } else if (mod && !typing && event.key.toLowerCase() === "z") {
    event.preventDefault();
    $("undo").click();
  } else if (!typing && selected && event.key.startsWith("Arrow")) {
    const obj = current();
    if (!obj || obj.locked) return;
    event.preventDefault();
    const dx = event.key === "ArrowLeft" ? -NUDGE : event.key === "ArrowRight" ? NUDGE : 0;
    const dz = event.key === "ArrowUp" ? -NUDGE : event.key === "ArrowDown" ? NUDGE : 0;
    if (obj.kind === "tree" && dz) return;
    edit({ op: "move", id: obj.id, dx, dz });
  } else if (!typing && selected && event.key === "Delete") {
    $("object-delete").click();
  }
});

window.addEventListener("beforeunload", (event) => {
  if (state && state.dirty) event.preventDefault();
});

(async function start() {
  const first = await run(() => api("GET", "/api/state"));
  if (first) {
    fillThemas(first.themas);
    window.__ligging.ready = true;
    await loadSuggestions();
    if (WANT_LAYOUT) await propose();
  }
})();
