// The document view: mark the passage named in the URL fragment and bring it into view.
// CSS :target marks it too; the class keeps the mark when focus or scrolling moves elsewhere,
// and lets assistive technology hear it as the current location.
"use strict";

(function () {
  function mark() {
    for (const old of document.querySelectorAll(".is-target")) {
      old.classList.remove("is-target");
      old.removeAttribute("aria-current");
    }
    let id = "";
    try {
      id = decodeURIComponent(window.location.hash.slice(1));
    } catch (_) {
      return; // a malformed fragment names nothing
    }
    const target = id ? document.getElementById(id) : null;
    if (!target || !target.closest("main")) return;
    target.classList.add("is-target");
    target.setAttribute("aria-current", "location");
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  window.addEventListener("hashchange", mark);
  mark();
})();
