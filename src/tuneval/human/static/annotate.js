// Annotator page. Model output is only ever assigned with textContent (never innerHTML), so
// anything in it, HTML or script, shows as plain text. The token lives in the URL fragment and
// is sent only in the Authorization header.
"use strict";

(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const $ = (id) => document.getElementById(id);
  // A different link (another token) opened in the same tab starts over.
  window.addEventListener("hashchange", () => location.reload());
  const state = { items: [], votes: {}, drafts: {}, rubric: [], scale: [1, 5], index: 0, row: 0 };

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method: method,
      headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const detail = data && typeof data.detail === "string" ? data.detail : response.statusText;
      throw new Error(detail);
    }
    return data;
  }

  function rows() {
    const out = [];
    for (const side of ["a", "b"]) {
      for (const c of state.rubric) out.push({ side: side, key: c.key });
    }
    return out;
  }

  function buildRubric(side) {
    const table = $("rubric-" + side);
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    head.appendChild(document.createElement("th")).textContent = "Criterion";
    for (let s = state.scale[0]; s <= state.scale[1]; s++) {
      head.appendChild(document.createElement("th")).textContent = String(s);
    }
    const body = table.createTBody();
    for (const c of state.rubric) {
      const tr = body.insertRow();
      tr.id = "row-" + side + "-" + c.key;
      const th = tr.appendChild(document.createElement("th"));
      th.textContent = c.label;
      th.title = c.help;
      for (let s = state.scale[0]; s <= state.scale[1]; s++) {
        const td = tr.insertCell();
        const input = document.createElement("input");
        input.type = "radio";
        input.name = side + "-" + c.key;
        input.value = String(s);
        input.id = side + "-" + c.key + "-" + s;
        input.setAttribute("aria-label", c.label + " " + s + " for response " + side.toUpperCase());
        input.addEventListener("change", () => {
          state.row = rows().findIndex((r) => r.side === side && r.key === c.key);
          captureDraft();
          highlight();
        });
        td.appendChild(input);
      }
    }
  }

  function current() { return state.items[state.index]; }

  function emptyDraft() {
    const draft = { a: {}, b: {}, preference: null, comment: "" };
    return draft;
  }

  function draftFor(item) {
    if (state.drafts[item.item_id]) return state.drafts[item.item_id];
    const vote = state.votes[item.item_id];
    if (!vote) return emptyDraft();
    return { a: Object.assign({}, vote.a), b: Object.assign({}, vote.b),
             preference: vote.preference, comment: vote.comment || "" };
  }

  function captureDraft() {
    const item = current();
    const draft = emptyDraft();
    for (const r of rows()) {
      const checked = document.querySelector('input[name="' + r.side + "-" + r.key + '"]:checked');
      if (checked) draft[r.side][r.key] = Number(checked.value);
    }
    const pref = document.querySelector('input[name="preference"]:checked');
    draft.preference = pref ? pref.value : null;
    draft.comment = $("comment").value;
    state.drafts[item.item_id] = draft;
    return draft;
  }

  function render() {
    const item = current();
    $("prompt").textContent = item.prompt;
    $("response-a").textContent = item.response_a;
    $("response-b").textContent = item.response_b;
    $("position").textContent = "Item " + (state.index + 1) + " of " + state.items.length;
    $("rated").hidden = !state.votes[item.item_id];
    const draft = draftFor(item);
    for (const r of rows()) {
      for (const input of document.getElementsByName(r.side + "-" + r.key)) {
        input.checked = Number(input.value) === draft[r.side][r.key];
      }
    }
    for (const input of document.getElementsByName("preference")) {
      input.checked = input.value === draft.preference;
    }
    $("comment").value = draft.comment;
    $("prev").disabled = state.index === 0;
    $("next").disabled = state.index === state.items.length - 1;
    $("status").textContent = "";
    state.row = 0;
    highlight();
    renderProgress();
  }

  function renderProgress() {
    const done = state.items.filter((i) => state.votes[i.item_id]).length;
    $("progress").textContent = done + " / " + state.items.length + " rated";
    $("progress-bar").max = Math.max(1, state.items.length);
    $("progress-bar").value = done;
  }

  function highlight() {
    const all = rows();
    all.forEach((r, i) => {
      $("row-" + r.side + "-" + r.key).classList.toggle("cursor", i === state.row);
    });
  }

  function go(index) {
    if (index < 0 || index >= state.items.length) return;
    captureDraft();
    state.index = index;
    render();
  }

  function nextUnrated(from) {
    for (let k = 1; k <= state.items.length; k++) {
      const i = (from + k) % state.items.length;
      if (!state.votes[state.items[i].item_id]) return i;
    }
    return Math.min(from + 1, state.items.length - 1);
  }

  async function save() {
    const item = current();
    const draft = captureDraft();
    const missing = rows().filter((r) => !draft[r.side][r.key])
      .map((r) => r.key + " (" + r.side.toUpperCase() + ")");
    if (!draft.preference) missing.push("overall preference");
    if (missing.length) {
      $("status").textContent = "Still to rate: " + missing.join(", ");
      return;
    }
    $("status").textContent = "Saving…";
    try {
      const result = await api("PUT", "/api/votes/" + encodeURIComponent(item.item_id), draft);
      state.votes[item.item_id] = result.vote;
      delete state.drafts[item.item_id];
      renderProgress();
      const target = nextUnrated(state.index);
      if (target !== state.index) {
        state.index = target;
        render();
      }
      $("status").textContent = "Saved.";
    } catch (err) {
      $("status").textContent = "Not saved: " + err.message;
    }
  }

  function setScore(value) {
    const r = rows()[state.row];
    const input = $(r.side + "-" + r.key + "-" + value);
    if (!input) return;
    input.checked = true;
    captureDraft();
    state.row = Math.min(state.row + 1, rows().length - 1);
    highlight();
  }

  function setPreference(value) {
    $("pref-" + value).checked = true;
    captureDraft();
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target && event.target.id === "comment";
    if (typing) {
      if (event.key === "Escape") $("comment").blur();
      return;
    }
    const key = event.key;
    let handled = true;
    if (/^[1-9]$/.test(key) && Number(key) >= state.scale[0] && Number(key) <= state.scale[1]) {
      setScore(Number(key));
    } else if (key === "ArrowDown") {
      state.row = Math.min(state.row + 1, rows().length - 1); highlight();
    } else if (key === "ArrowUp") {
      state.row = Math.max(state.row - 1, 0); highlight();
    } else if (key === "a" || key === "A") { setPreference("A"); }
    else if (key === "b" || key === "B") { setPreference("B"); }
    else if (key === "t" || key === "T") { setPreference("tie"); }
    else if (key === "Enter") { save(); }
    else if (key === "n" || key === "ArrowRight") { go(state.index + 1); }
    else if (key === "p" || key === "ArrowLeft") { go(state.index - 1); }
    else if (key === "c") { $("comment").focus(); }
    else { handled = false; }
    if (handled) event.preventDefault();
  }

  async function start() {
    if (!token) {
      showError("This page needs the private link you were given (it contains your token).");
      return;
    }
    let session;
    try {
      session = await api("GET", "/api/session");
    } catch (err) {
      showError(err.message);
      return;
    }
    state.items = session.items;
    state.votes = session.votes;
    state.rubric = session.rubric;
    state.scale = session.scale;
    $("study").textContent = session.study + " — " + session.annotator;
    if (!state.items.length) {
      showError("No items are assigned to you.");
      return;
    }
    buildRubric("a");
    buildRubric("b");
    for (const input of document.getElementsByName("preference")) {
      input.addEventListener("change", captureDraft);
    }
    $("prev").addEventListener("click", () => go(state.index - 1));
    $("next").addEventListener("click", () => go(state.index + 1));
    $("save").addEventListener("click", save);
    document.addEventListener("keydown", onKey);
    const first = state.items.findIndex((i) => !state.votes[i.item_id]);
    state.index = first === -1 ? 0 : first;  // resume where the annotator left off
    $("main").hidden = false;
    render();
  }

  start();
})();
