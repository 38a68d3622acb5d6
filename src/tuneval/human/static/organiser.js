// Organiser page: progress per annotator and live agreement, refreshed every 5 seconds.
"use strict";

(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const $ = (id) => document.getElementById(id);
  // A different link (another token) opened in the same tab starts over.
  window.addEventListener("hashchange", () => location.reload());

  function fmt(x) { return x === null || x === undefined ? "–" : Number(x).toFixed(3); }

  function cells(tr, values) {
    for (const v of values) tr.insertCell().textContent = v;
  }

  async function refresh() {
    const response = await fetch("/api/organiser", {
      headers: { "Authorization": "Bearer " + token }, cache: "no-store",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      $("error").textContent = data && data.detail ? data.detail : response.statusText;
      $("error").hidden = false;
      $("main").hidden = true;
      return;
    }
    $("error").hidden = true;
    $("study").textContent = data.study + " — " + data.items + " items, " + data.per_item +
      " annotators each";
    const body = $("progress-table").tBodies[0];
    body.replaceChildren();
    for (const p of data.progress) {
      const tr = body.insertRow();
      cells(tr, [p.annotator, String(p.done), String(p.total)]);
      const bar = document.createElement("progress");
      bar.max = Math.max(1, p.total);
      bar.value = p.done;
      tr.insertCell().appendChild(bar);
    }
    const a = data.agreement;
    const agreement = $("agreement-table").tBodies[0];
    agreement.replaceChildren();
    cells(agreement.insertRow(), ["Fleiss' kappa (preference)", fmt(a.fleiss_kappa) +
      " on " + a.fleiss_items + " items × " + a.fleiss_raters + " votes"]);
    cells(agreement.insertRow(), ["Krippendorff's alpha (preference, nominal)",
      fmt(a.preference_alpha)]);
    for (const [criterion, value] of Object.entries(a.criteria_alpha)) {
      cells(agreement.insertRow(), ["Krippendorff's alpha (" + criterion + ", ordinal)",
        fmt(value)]);
    }
    const pairs = $("pairwise-table").tBodies[0];
    pairs.replaceChildren();
    for (const p of a.pairwise) {
      cells(pairs.insertRow(), [p.annotator_1 + " – " + p.annotator_2, String(p.n),
        fmt(p.agreement), fmt(p.kappa)]);
    }
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("main").hidden = false;
  }

  if (!token) {
    $("error").textContent = "This page needs the organiser link (it contains the token).";
    $("error").hidden = false;
  } else {
    refresh().catch((err) => { $("error").textContent = err.message; $("error").hidden = false; });
    setInterval(() => refresh().catch(() => {}), 5000);
  }
})();
