// The document view: mark the passage named in the URL fragment and bring it into view.
// CSS :target marks it too; the class keeps the mark when focus or scrolling moves elsewhere,
// and lets assistive technology hear it as the current location.
"use strict";

(function () {
  function target() {
    let id = "";
    try {
      id = decodeURIComponent(window.location.hash.slice(1));
    } catch (_) {
      return null; // a malformed fragment names nothing
    }
    const found = id ? document.getElementById(id) : null;
    return found && found.closest("main") ? found : null;
  }

  function centre(passage) {
    passage.scrollIntoView({ block: "center" });
  }

  function mark() {
    for (const old of document.querySelectorAll(".is-target")) {
      old.classList.remove("is-target");
      old.removeAttribute("aria-current");
    }
    const passage = target();
    if (!passage) return;
    passage.classList.add("is-target");
    passage.setAttribute("aria-current", "location");
    if (!passage.hasAttribute("tabindex")) passage.setAttribute("tabindex", "-1");
    centre(passage);
    passage.focus({ preventScroll: true });
  }

  // On the first load the browser's own jump to the fragment comes after this script (it keeps the fragment at the
  // top until the page has loaded), so the passage is centred again once it has, in the frame after the load event.
  function centreAfterLoad() {
    window.requestAnimationFrame(() => {
      const passage = target();
      if (passage) centre(passage);
    });
  }

  window.addEventListener("hashchange", mark);
  mark();
  if (document.readyState === "complete") centreAfterLoad();
  else window.addEventListener("load", centreAfterLoad, { once: true });
})();
