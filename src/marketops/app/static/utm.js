// The UTM link builder's live preview: asks the server what the link would be (the same rules as
// building it), so the preview never disagrees with the result. No inline script: the page's CSP.
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("utm-form");
    if (!form) { return; }
    var preview = document.getElementById("utm-preview");
    var list = document.getElementById("utm-problems");
    var names = ["url", "source", "medium", "campaign", "term", "content"];
    var timer = null;
    var asked = 0;

    function show(data) {
      list.textContent = "";
      (data.problems || []).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.message;
        li.setAttribute("data-param", p.param);
        list.appendChild(li);
      });
      (data.fixed || []).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.message + " (fixed)";
        li.setAttribute("data-param", p.param);
        list.appendChild(li);
      });
      preview.textContent = data.ok ? data.final_url : (data.problems && data.problems.length ? "—" : (data.error || "—"));
      preview.setAttribute("data-ok", data.ok ? "true" : "false");
    }

    function update() {
      var url = form.elements.url.value.trim();
      if (!url) { preview.textContent = "—"; list.textContent = ""; return; }
      var q = new URLSearchParams();
      names.forEach(function (n) { q.set(n, form.elements[n].value); });
      if (form.elements.fix.checked) { q.set("fix", "true"); }
      var mine = ++asked;
      fetch(form.getAttribute("data-preview") + "?" + q.toString(), {credentials: "same-origin",
                                                                         headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) { if (mine === asked) { show(data); } })
        .catch(function () { /* the server answers when the link is built */ });
    }

    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, 250);
    });
    update();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
