(function () {
  "use strict";
  var svg = document.getElementById("graph"), vp = document.getElementById("vp");
  var W = +svg.getAttribute("data-w"), H = +svg.getAttribute("data-h");
  var q = document.getElementById("q"), count = document.getElementById("count");
  var panel = document.getElementById("details");
  var kinds = {nd: "node", dp: "persisted dataset", dm: "in-memory dataset", dq: "parameter"};
  var recs = [], byId = {};
  Array.prototype.forEach.call(vp.querySelectorAll(".it"), function (el) {
    var r = {el: el, ins: [], outs: [], name: (el.getAttribute("data-name") || "").toLowerCase()};
    recs.push(r);
    byId[el.id] = r;
  });
  Array.prototype.forEach.call(vp.querySelectorAll(".edge"), function (e) {
    var s = byId[e.getAttribute("data-s")], t = byId[e.getAttribute("data-t")];
    if (s && t) { s.outs.push(e); t.ins.push(e); }
  });

  var view = {x: 0, y: 0, k: 1};
  function apply() { vp.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")"); }
  function fit() {
    var b = svg.getBoundingClientRect();
    var k = Math.min(b.width / W, b.height / H, 1.5);
    if (!(k > 0)) k = 1;
    view.k = k; view.x = (b.width - W * k) / 2; view.y = (b.height - H * k) / 2; apply();
  }
  function zoomAt(mx, my, factor) {
    var k = Math.max(0.02, Math.min(8, view.k * factor));
    view.x = mx - (mx - view.x) * k / view.k; view.y = my - (my - view.y) * k / view.k; view.k = k; apply();
  }
  function center(el) {
    var m = el.transform.baseVal.consolidate().matrix, bb = el.getBBox(), b = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 0.9);
    view.x = b.width / 2 - (m.e + bb.x + bb.width / 2) * view.k;
    view.y = b.height / 2 - (m.f + bb.y + bb.height / 2) * view.k;
    apply();
  }

  var lit = [], litId = null, pinned = null;
  function mark(el, c) { el.classList.add(c); lit.push(el); }
  function clearLight() {
    lit.forEach(function (el) { el.classList.remove("hl", "hs"); });
    lit = []; litId = null; svg.classList.remove("focus");
  }
  function light(id) {
    if (litId === id) return;
    clearLight();
    litId = id;
    var r = byId[id];
    if (!r) return;
    svg.classList.add("focus");
    mark(r.el, "hs");
    r.ins.forEach(function (e) { mark(e, "hl"); mark(byId[e.getAttribute("data-s")].el, "hl"); });
    r.outs.forEach(function (e) { mark(e, "hl"); mark(byId[e.getAttribute("data-t")].el, "hl"); });
  }
  function add(dl, term, value) {
    if (!value) return;
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term;
    if (typeof value === "string") dd.textContent = value; else dd.appendChild(value);
    dl.appendChild(dt); dl.appendChild(dd);
  }
  function links(edges, end) {
    if (!edges.length) return null;
    var span = document.createElement("span");
    edges.forEach(function (e, i) {
      var id = e.getAttribute(end), a = document.createElement("a");
      a.textContent = byId[id].el.getAttribute("data-name");
      a.addEventListener("click", function () { pin(id); center(byId[id].el); });
      if (i) span.appendChild(document.createElement("br"));
      span.appendChild(a);
    });
    return span;
  }
  function details(id) {
    var r = byId[id], el = r.el, dl = document.createElement("dl"), h = document.createElement("h2");
    h.textContent = el.getAttribute("data-name");
    add(dl, "kind", kinds[el.classList[1]] || "");
    add(dl, "function", el.getAttribute("data-func"));
    add(dl, "signature", el.getAttribute("data-sig"));
    add(dl, "type", el.getAttribute("data-type"));
    add(dl, "namespace", el.getAttribute("data-ns"));
    add(dl, "tags", el.getAttribute("data-tags"));
    add(dl, el.classList.contains("nd") ? "inputs" : "produced by", links(r.ins, "data-s"));
    add(dl, el.classList.contains("nd") ? "outputs" : "read by", links(r.outs, "data-t"));
    panel.textContent = "";
    panel.appendChild(h); panel.appendChild(dl);
    panel.style.display = "block";
  }
  function pin(id) { pinned = id; light(id); details(id); }
  function unpin() { pinned = null; clearLight(); panel.style.display = "none"; }

  var matches = [], current = -1;
  function search() {
    var s = q.value.trim().toLowerCase();
    matches.forEach(function (r) { r.el.classList.remove("match"); });
    matches = []; current = -1;
    if (!s) { svg.classList.remove("searching"); count.textContent = ""; return; }
    recs.forEach(function (r) { if (r.name.indexOf(s) >= 0) { r.el.classList.add("match"); matches.push(r); } });
    svg.classList.add("searching");
    count.textContent = matches.length + (matches.length === 1 ? " match" : " matches");
  }
  q.addEventListener("input", search);
  q.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && matches.length) {
      current = (current + 1) % matches.length;
      pin(matches[current].el.id); center(matches[current].el);
      count.textContent = (current + 1) + " of " + matches.length;
    } else if (e.key === "Escape") { q.value = ""; search(); q.blur(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.target === q) return;
    if (e.key === "/") { e.preventDefault(); q.focus(); }
    else if (e.key === "Escape") unpin();
  });

  svg.addEventListener("pointerover", function (e) {
    var it = e.target.closest(".it");
    if (it && pinned === null) light(it.id);
  });
  svg.addEventListener("pointerout", function (e) {
    var it = e.target.closest(".it");
    if (it && pinned === null && !(e.relatedTarget && it.contains(e.relatedTarget))) clearLight();
  });
  var drag = null, moved = false;
  svg.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, vx: view.x, vy: view.y}; moved = false;
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) > 4) { moved = true; svg.classList.add("dragging"); }
    if (moved) { view.x = drag.vx + dx; view.y = drag.vy + dy; apply(); }
  });
  window.addEventListener("pointerup", function () { drag = null; svg.classList.remove("dragging"); });
  svg.addEventListener("click", function (e) {
    if (moved) return;
    var it = e.target.closest(".it"), band = e.target.closest(".band");
    if (it) pin(it.id);
    else if (band) { q.value = band.getAttribute("data-ns") + "."; search(); }
    else unpin();
  });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var b = svg.getBoundingClientRect();
    zoomAt(e.clientX - b.left, e.clientY - b.top, Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)));
  }, {passive: false});
  function zoomCenter(f) { var b = svg.getBoundingClientRect(); zoomAt(b.width / 2, b.height / 2, f); }
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("zin").addEventListener("click", function () { zoomCenter(1.25); });
  document.getElementById("zout").addEventListener("click", function () { zoomCenter(0.8); });
  window.addEventListener("resize", fit);
  fit();
})();
