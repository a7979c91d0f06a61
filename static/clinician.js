// Clinician triage queue: live over /ws/staff (docs/protocol.md, "Staff channel").
// Frames carry no message text. Everything is rendered with textContent.
(function () {
  "use strict";
  var list = document.getElementById("triage");
  if (!list) return;
  var statusEl = document.getElementById("triage-status");
  var empty = document.getElementById("triage-empty");
  var order = { imminent: 0, high: 1, unassessed: 2, moderate: 3 };
  var items = new Map();
  var attempt = 0;

  function waited(iso) {
    var mins = Math.max(0, Math.floor((Date.now() - new Date(iso)) / 60000));
    if (mins < 1) return "waiting < 1 min";
    if (mins < 60) return "waiting " + mins + " min";
    return "waiting " + Math.floor(mins / 60) + " h " + (mins % 60) + " min";
  }

  function render() {
    var sorted = Array.from(items.values()).sort(function (a, b) {
      var s = (order[a.severity] ?? 9) - (order[b.severity] ?? 9);
      return s || a.opened_at.localeCompare(b.opened_at) || a.id - b.id;
    });
    list.textContent = "";
    sorted.forEach(function (it) {
      var li = document.createElement("li");
      li.className = "card severity-" + it.severity;
      li.dataset.id = it.id;
      var a = document.createElement("a");
      a.href = it.url;
      a.textContent = it.severity + (it.emergency ? " — EMERGENCY" : "") + ": " + it.member.name;
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = it.state;
      var t = document.createElement("time");
      t.className = "waiting";
      t.dateTime = it.opened_at;
      t.textContent = waited(it.opened_at);
      li.append(a, " ", state, " ", t);
      list.appendChild(li);
    });
    if (empty) empty.hidden = sorted.length > 0;
  }

  function refetch() {
    fetch("/api/escalations", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        items.clear();
        body.items.forEach(function (it) { items.set(it.id, it); });
        render();
      });
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/staff");
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "queue") {
        attempt = 0;
        statusEl.textContent = "Live";
        items.clear();
        f.items.forEach(function (it) { items.set(it.id, it); });
        render();
      } else if (f.type === "escalation") {
        if (f.state === "resolved") items.delete(f.id); else items.set(f.id, f);
        render();
      } else if (f.type === "ladder") {
        refetch();
      }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4001 || ev.code === 1008) { location.href = "/login?next=/clinician"; return; }
      attempt += 1;
      statusEl.textContent = "Connection lost; reconnecting…";
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, attempt)));
    };
  }

  setInterval(function () {
    list.querySelectorAll("time.waiting").forEach(function (t) { t.textContent = waited(t.dateTime); });
  }, 15000);
  connect();
})();
