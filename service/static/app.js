// The search page. The query lives in the URL (?q=&k=&document=&kind=&rerank=), so a search can be shared,
// reloaded and gone back to. Document text is untrusted: it is only ever inserted as text nodes
// (textContent / createTextNode), never as HTML.
"use strict";

(function () {
  const PARAMS = ["q", "k", "document", "kind", "rerank"];
  const READY_POLL_MS = 2000;
  const el = (id) => document.getElementById(id);
  const form = el("search");
  const box = el("q");
  const results = el("results");
  let inFlight = null;
  let waitingForReady = false;
  let rerankOffered = false; // /readyz says the service has a reranker loaded (PQA_RERANK=ask or on)

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function show(id, text) {
    const node = el(id);
    node.textContent = text;
    node.hidden = !text;
  }

  // -- the URL <-> the form ---------------------------------------------------------------

  function stateFromUrl() {
    const url = new URLSearchParams(window.location.search);
    const state = {};
    for (const name of PARAMS) state[name] = (url.get(name) || "").trim();
    if (state.rerank !== "true" && state.rerank !== "false") state.rerank = ""; // the service's default
    return state;
  }

  function stateFromForm() {
    return {
      q: box.value.trim(),
      k: el("k").value,
      document: el("document").value,
      kind: el("kind").value,
      rerank: el("rerank").value,
    };
  }

  function fillForm(state) {
    box.value = state.q;
    setSelect(el("k"), state.k || "5");
    setSelect(el("document"), state.document);
    setSelect(el("kind"), state.kind);
    setSelect(el("rerank"), state.rerank);
  }

  function setSelect(select, value) {
    if (value && !Array.from(select.options).some((o) => o.value === value)) {
      select.append(new Option(value, value)); // a filter from a shared URL that the list does not have (yet)
    }
    select.value = value || "";
  }

  function query(state) {
    const params = new URLSearchParams();
    for (const name of PARAMS) {
      if (state[name] && !(name === "k" && state[name] === "5")) params.set(name, state[name]);
    }
    return params.toString();
  }

  // -- talking to the API -------------------------------------------------------------------

  async function readBody(response) {
    try {
      return await response.json();
    } catch (_) {
      return null;
    }
  }

  function errorMessage(body, response) {
    if (body && body.error && typeof body.error.message === "string") return body.error.message;
    if (body && typeof body.message === "string" && body.message) return body.message;
    return "the service answered HTTP " + response.status;
  }

  async function search(state) {
    if (inFlight) inFlight.abort();
    show("error", "");
    el("notice").hidden = true;
    if (!state.q) {
      results.replaceChildren();
      show("status", "");
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    results.setAttribute("aria-busy", "true");
    results.classList.add("loading");
    show("status", "Searching…");
    try {
      // a link made where the reranker was loaded still answers here, in this service's order
      const asked = { ...state, k: state.k || "5", rerank: rerankOffered ? state.rerank : "" };
      const response = await fetch("/api/search?" + query(asked), {
        signal: controller.signal,
        headers: { Accept: "application/json" },
      });
      const body = await readBody(response);
      if (controller.signal.aborted) return;
      if (response.status === 503) {
        notReady(errorMessage(body, response));
        results.replaceChildren();
        show("status", "");
      } else if (!response.ok) {
        results.replaceChildren();
        show("status", "");
        show("error", "The search failed: " + errorMessage(body, response));
      } else {
        showResults(state, body);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      results.replaceChildren();
      show("status", "");
      show("error", "The service could not be reached (" + error.message + "). Check that it is running.");
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        results.removeAttribute("aria-busy");
        results.classList.remove("loading");
      }
    }
  }

  function showResults(state, body) {
    const passages = Array.isArray(body.passages) ? body.passages : [];
    results.replaceChildren(...passages.map(resultItem));
    el("notice").hidden = body.not_in_corpus !== true;
    const doubts = Array.isArray(body.doubts) ? body.doubts.filter((d) => typeof d === "string") : [];
    el("notice-why").textContent = doubts.length ? "Against it: " + doubts.join("; ") + "." : "";
    const took = typeof body.took_ms === "number" ? " in " + Math.round(body.took_ms) + " ms" : "";
    if (passages.length === 0) {
      const filtered = state.document || state.kind ? " Try other words, or remove the filters." : " Try other words.";
      show("status", "No passages found" + took + "." + filtered);
    } else {
      const order = body.reranked === true ? ", re-read by the reranker" : "";
      show("status", passages.length + (passages.length === 1 ? " passage" : " passages") + took + order + ".");
    }
  }

  // -- one result ---------------------------------------------------------------------------

  function codePoints(text) {
    return Array.from(text); // the API's offsets count code points (Python), not UTF-16 units
  }

  function passageText(passage) {
    const quote = make("blockquote", "passage");
    const p = make("p");
    const chars = codePoints(String(passage.text || ""));
    const h = passage.highlight;
    if (h && Number.isInteger(h.start) && Number.isInteger(h.end) && 0 <= h.start && h.start < h.end) {
      const end = Math.min(h.end, chars.length);
      p.append(document.createTextNode(chars.slice(0, h.start).join("")));
      p.append(make("mark", null, chars.slice(h.start, end).join("")));
      p.append(document.createTextNode(chars.slice(end).join("")));
    } else {
      p.textContent = chars.join("");
    }
    quote.append(p);
    return quote;
  }

  function safeHref(url) {
    // Only links into this site: never javascript:, data: or another host, whatever the index holds.
    try {
      const parsed = new URL(String(url), window.location.origin);
      return parsed.origin === window.location.origin ? parsed.pathname + parsed.search + parsed.hash : null;
    } catch (_) {
      return null;
    }
  }

  function resultItem(passage) {
    const citation = passage.citation || {};
    const item = make("li", "result");
    item.append(make("h3", "cite", passage.citation_text || citation.label || ""));
    const leadIn = passage.lead_in;
    if (leadIn && typeof leadIn.text === "string") {
      // the words this item continues ("States Parties shall ensure that:"), verbatim, as text
      const lead = make("p", "lead-in");
      lead.append(make("span", "lead-in-label", String(leadIn.label || "") + ": "), document.createTextNode(leadIn.text));
      item.append(lead);
    }
    item.append(passageText(passage));
    if (citation.section) {
      const section = make("p", "section");
      section.append(make("span", "section-label", "Section: "), document.createTextNode(citation.section));
      item.append(section);
    }
    const actions = make("p", "actions");
    const href = safeHref(citation.url);
    if (href) {
      const link = make("a", "open", "Open " + (citation.label || "the passage") + " in the document");
      link.href = href;
      actions.append(link);
    }
    const copy = make("button", "copy", "Copy citation");
    copy.type = "button";
    copy.addEventListener("click", () => copyCitation(copy, passage.citation_text || ""));
    actions.append(copy);
    item.append(actions);
    return item;
  }

  // -- copying a citation --------------------------------------------------------------------

  function copyWithSelection(text) {
    const area = make("textarea", "offscreen");
    area.value = text;
    area.setAttribute("readonly", "");
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  async function copyCitation(button, text) {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (_) {
        copied = false; // permission refused: fall back to a selection
      }
    }
    if (!copied) copied = copyWithSelection(text);
    button.textContent = copied ? "Copied" : "Copy failed";
    show("status", copied ? "Copied: " + text : "Could not copy; select the citation and copy it by hand.");
    window.setTimeout(() => {
      button.textContent = "Copy citation";
    }, 2000);
  }

  // -- readiness, documents, events ----------------------------------------------------------

  function sentence(text) {
    // the API's messages are clauses ("...; try again in a few seconds"): end them before the next sentence
    const trimmed = String(text).trim();
    return /[.!?]$/.test(trimmed) ? trimmed : trimmed + ".";
  }

  function notReady(message) {
    show("ready", "The service is not ready yet: " + sentence(message) + " This page retries by itself.");
    if (!waitingForReady) {
      waitingForReady = true;
      window.setTimeout(checkReady, READY_POLL_MS);
    }
  }

  async function checkReady() {
    waitingForReady = false;
    let response;
    try {
      response = await fetch("/readyz", { headers: { Accept: "application/json" } });
    } catch (error) {
      notReady("the service could not be reached (" + error.message + ").");
      return false;
    }
    if (response.ok) {
      const ready = await readBody(response);
      // the Order choice is offered where the service has a reranker loaded (PQA_RERANK=ask or on)
      rerankOffered = Boolean(ready && (ready.rerank === "ask" || ready.rerank === "on"));
      el("rerank-filter").hidden = !rerankOffered;
      const wasShown = !el("ready").hidden;
      show("ready", "");
      if (wasShown) {
        loadDocuments();
        search(stateFromUrl());
      }
      return true;
    }
    notReady(errorMessage(await readBody(response), response));
    return false;
  }

  async function loadDocuments() {
    const select = el("document");
    try {
      const response = await fetch("/api/documents", { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = await response.json();
      const wanted = stateFromUrl().document;
      select.replaceChildren(new Option("All documents", ""));
      for (const doc of body.documents || []) select.append(new Option(String(doc.title), String(doc.id)));
      setSelect(select, wanted);
    } catch (_) {
      // the list is a convenience; searching works without it, and a readiness retry loads it again
    }
  }

  function go(state) {
    const target = window.location.pathname + (query(state) ? "?" + query(state) : "");
    if (target !== window.location.pathname + window.location.search) {
      window.history.pushState(state, "", target);
    }
    search(state);
  }

  function isTyping(target) {
    return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(stateFromForm());
  });
  for (const id of ["document", "kind", "k", "rerank"]) {
    el(id).addEventListener("change", () => {
      if (box.value.trim()) go(stateFromForm());
    });
  }
  window.addEventListener("popstate", () => {
    const state = stateFromUrl();
    fillForm(state);
    search(state);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  async function start() {
    const state = stateFromUrl();
    fillForm(state);
    box.focus();
    if (await checkReady()) {
      loadDocuments();
      search(state);
    }
  }

  start();
})();
