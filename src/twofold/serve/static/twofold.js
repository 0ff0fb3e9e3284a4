// twofold serve: renders statements with the bundled KaTeX and checks the learner's lines through POST /api/check.
// Learner text is only ever inserted with textContent, never as HTML.
"use strict";

function tex(element, source, display) {
  try {
    katex.render(source, element, { throwOnError: false, displayMode: display, trust: false });
  } catch (error) {
    element.textContent = source;
  }
}

function cell(row, className, text) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function line(parent, className, text) {
  const div = document.createElement("div");
  div.className = className;
  div.textContent = text;
  parent.appendChild(div);
}

const MARKS = { equivalent: "⇔", implies: "⇒", implied_by: "⇐" };
const RELATIONS = {
  equivalent: "equivalent to the previous line",
  implies: "follows from the previous line",
  implied_by: "implies the previous line but does not follow from it",
  unrelated: "neither follows from nor implies the previous line",
};

// The relation to the previous line (⇔ ⇒ ⇐), then ✗ for an invalid line and ? for an undecided one; ✓ alone
// for a valid first line.
function mark(result) {
  const relation = MARKS[result.relation_to_previous] || "";
  if (result.verdict === "invalid") return relation + "✗";
  if (result.verdict === "undecided") return relation + "?";
  return relation || "✓";
}

function point(values) {
  return Object.entries(values).map(([name, value]) => name + " = " + value).join(", ");
}

function show(document_) {
  const body = document.querySelector("#results tbody");
  body.replaceChildren();
  for (const result of document_.lines) {
    const row = document.createElement("tr");
    row.className = "result " + result.verdict;
    row.dataset.line = result.line;
    row.dataset.verdict = result.verdict;
    row.dataset.relation = result.relation_to_previous || "";
    cell(row, "number", String(result.line));
    cell(row, "mark", mark(result));
    cell(row, "learner", result.text);
    const detail = cell(row, "detail", "");
    const relation = result.relation_to_previous ? " · " + RELATIONS[result.relation_to_previous] : "";
    line(detail, "verdict", result.verdict + relation + (result.relation_proved === false ? " (not proved)" : ""));
    line(detail, "reason", result.reason);
    if (result.counterexample) line(detail, "counterexample", "counterexample: " + point(result.counterexample));
    if (result.diagnosis) line(detail, "diagnosis", result.diagnosis.message);
    if (result.reference_step) line(detail, "reference", "step " + result.reference_step + " of the reference derivation");
    body.appendChild(row);
  }
}

async function check() {
  const claim = document.getElementById("claim-id").dataset.claim;
  const steps = document.getElementById("steps").value.split("\n").filter((s) => s.trim() && !s.trim().startsWith("#"));
  const status = document.getElementById("status");
  status.textContent = "checking…";
  const response = await fetch("/api/check", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ claim: claim, steps: steps, from_statement: document.getElementById("from-statement").checked }),
  });
  const answer = await response.json();
  if (!response.ok) {
    status.textContent = answer.error;
    status.className = "error";
    return;
  }
  status.className = "";
  status.textContent = answer.outcome + " (" + answer.seconds.toFixed(2) + " s)";
  show(answer);
}

let hints = null;
async function nextHint() {
  const claim = document.getElementById("claim-id").dataset.claim;
  if (hints === null) hints = (await (await fetch("/api/claim/" + encodeURIComponent(claim) + "/hints")).json()).hints;
  const list = document.getElementById("hints");
  const shown = list.children.length;
  if (shown >= hints.length) return;
  const item = document.createElement("li");
  const words = document.createElement("div");
  words.textContent = hints[shown].description;
  const math = document.createElement("div");
  tex(math, hints[shown].latex, true);
  item.append(words, math);
  list.appendChild(item);
  if (list.children.length === hints.length) document.getElementById("hint").disabled = true;
}

async function evidence() {
  const claim = document.getElementById("claim-id").dataset.claim;
  const out = document.getElementById("evidence-out");
  out.textContent = "verifying…";
  const answer = await (await fetch("/api/claim/" + encodeURIComponent(claim) + "/evidence")).json();
  if (answer.error) { out.textContent = answer.error; return; }
  const v = answer.verdict;
  const c = v.comparison;
  out.textContent = v.verdict + (c ? ": " + c.method + " — statistic " + c.statistic + " vs threshold " + c.threshold +
    " (exact " + c.exact + ", estimate " + c.estimate + ")" : ": " + v.failure);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll(".tex")) tex(element, element.dataset.tex, element.classList.contains("display"));
  const button = document.getElementById("check");
  if (button) {
    button.addEventListener("click", check);
    document.getElementById("hint").addEventListener("click", nextHint);
    document.getElementById("evidence").addEventListener("click", evidence);
  }
});
