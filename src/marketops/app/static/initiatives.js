// The "new initiative from a story" form: shows how the story parses while it is typed, through
// POST /api/v1/stories/parse (the same parser the server uses when the form is sent).
(function () {
  "use strict";
  var form = document.getElementById("story-form");
  if (!form) { return; }
  var input = document.getElementById("story");
  var out = document.getElementById("story-check");
  var csrf = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var labels = {persona: "Persona", want: "Want", outcome: "Outcome"};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function show(data) {
    out.textContent = "";
    if (!data.ok) {
      var box = el("div", "alert alert-warn story-problem", data.message);
      box.setAttribute("data-ok", "false");
      out.appendChild(box);
      return;
    }
    var wrap = el("div", "story-parsed");
    wrap.setAttribute("data-ok", "true");
    wrap.setAttribute("data-language", data.language);
    var p = el("p", "story-text");
    data.segments.forEach(function (s) {
      if (s.part) {
        var m = el("mark", "story-part story-" + s.part, s.text);
        m.setAttribute("data-part", s.part);
        p.appendChild(m);
      } else {
        p.appendChild(document.createTextNode(s.text));
      }
    });
    wrap.appendChild(p);
    var dl = el("dl", "fields story-fields");
    ["persona", "want", "outcome"].forEach(function (part) {
      var row = el("div", "field");
      row.appendChild(el("dt", "", out.getAttribute("data-label-" + part) || labels[part]));
      var dd = el("dd", "", data[part]);
      dd.setAttribute("data-part", part);
      row.appendChild(dd);
      dl.appendChild(row);
    });
    wrap.appendChild(dl);
    out.appendChild(wrap);
  }

  function check() {
    var story = input.value;
    if (!story.trim()) { out.textContent = ""; return; }
    fetch("/api/v1/stories/parse", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : ""},
      body: JSON.stringify({story: story})
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && input.value === story) { show(data); } })
      .catch(function () { /* the "Check the story" button still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  });
})();
