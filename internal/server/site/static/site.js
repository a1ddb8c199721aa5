// The status site's only script: refreshes the content of a page that asks
// for it (data-refresh="SECONDS" on <body>) in place, unless the reader
// turned it off or is typing in a form. Without it, "Refresh now" and
// every form work as plain links and forms.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  var box = document.getElementById("auto-refresh");
  if (!seconds || !box || !window.fetch || !window.DOMParser) {
    return;
  }
  box.parentNode.hidden = false;
  function busy() {
    var a = document.activeElement;
    return a && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(a.tagName);
  }
  setInterval(function () {
    if (!box.checked || busy() || document.hidden) {
      return;
    }
    fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) {
        return;
      }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.querySelector("main");
      var old = document.querySelector("main");
      var when = doc.querySelector("footer time");
      if (fresh && old) {
        old.replaceWith(fresh);
      }
      if (when && document.querySelector("footer time")) {
        document.querySelector("footer time").replaceWith(when);
      }
    }).catch(function () { /* the next tick tries again */ });
  }, seconds * 1000);
}());
