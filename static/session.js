// Session panel in the room: countdown, start/end controls, read-only notice, staff roster.
// Reads /api/rooms/<id>/session and refreshes it on "session" frames and presence changes;
// "roster" frames (staff only) redraw the roster. All text is set with textContent.
(function () {
  "use strict";
  var panel = document.getElementById("session-panel");
  if (!panel) return;
  var roomId = panel.dataset.roomId;
  var stateEl = document.getElementById("session-state");
  var countdownEl = document.getElementById("session-countdown");
  var controls = document.getElementById("session-controls");
  var closedEl = document.getElementById("room-closed");
  var rosterPanel = document.getElementById("roster-panel");
  var data = null;
  var skew = 0;  // server clock minus browser clock, ms
  var timer = null;

  function fmt(ms) {
    if (ms <= 0) return "now";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d > 0) return d + " d " + h + " h";
    if (h > 0) return h + " h " + m + " min";
    return m + " min " + (sec < 10 ? "0" : "") + sec + " s";
  }

  function button(label, action, id) {
    var f = document.createElement("form");
    f.method = "post";
    f.action = action;
    f.className = "inline";
    var c = document.createElement("input");
    c.type = "hidden";
    c.name = panel.dataset.csrfField;
    c.value = panel.dataset.csrf;
    var b = document.createElement("button");
    b.type = "submit";
    b.id = id;
    b.textContent = label;
    f.append(c, b);
    return f;
  }

  function renderRoster(r) {
    rosterPanel.hidden = !r;
    if (!r) return;
    [["roster-present", r.present], ["roster-been", r.been]].forEach(function (pair) {
      var ul = document.getElementById(pair[0]);
      ul.textContent = "";
      pair[1].forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.name + (p.role !== "member" ? " (" + p.role + ")" : "") + " · " + p.minutes + " min";
        li.dataset.userId = p.id;
        ul.appendChild(li);
      });
    });
  }

  function tick() {
    if (!data || !data.session) { countdownEl.textContent = ""; return; }
    var s = data.session;
    if (s.status === "live") { countdownEl.textContent = ""; return; }
    var left = new Date(s.starts_at).getTime() - (Date.now() + skew);
    countdownEl.textContent = left > 0 ? "Starts in " + fmt(left) : "Starting soon";
  }

  function render() {
    var s = data.session;
    if (!s) stateEl.textContent = "No session is scheduled.";
    else if (s.status === "live") stateEl.textContent = "Session live" + (s.topic ? ": " + s.topic : "");
    else stateEl.textContent = "Next session: " + s.local + (s.topic ? " · " + s.topic : "");
    panel.classList.toggle("live", !!s && s.status === "live");
    controls.textContent = "";
    if (data.can_manage) {
      if (s && s.status === "live") controls.appendChild(button("End session", "/group-sessions/" + s.id + "/end", "end-session"));
      else if (data.can_start) controls.appendChild(button("Start session", "/group-sessions/" + s.id + "/start", "start-session"));
      else controls.appendChild(button("Start an unscheduled session", "/groups/" + panel.dataset.groupId + "/sessions/start-now", "start-now"));
    }
    closedEl.hidden = !data.closed;
    closedEl.textContent = data.closed ? data.closed_message : "";
    var composer = document.getElementById("composer");
    if (composer) composer.classList.toggle("read-only", !!data.closed);
    renderRoster(data.roster);
    tick();
  }

  function refresh() {
    fetch("/api/rooms/" + roomId + "/session", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        data = d;
        skew = new Date(d.now).getTime() - Date.now();
        render();
      })
      .catch(function () {});
  }

  // room.js re-dispatches frame types it does not handle itself ("session", "roster").
  document.addEventListener("village:frame", function (ev) {
    var f = ev.detail;
    if (f.type === "roster" && data) { data.roster = f; renderRoster(f); }
    else if (f.type === "session") refresh();
  });
  // Someone arriving or leaving (a facilitator opens a live-only room): room.js redraws the
  // presence list, and the panel asks again whether the room is open.
  var presenceList = document.getElementById("presence");
  var pending = null;
  if (presenceList && window.MutationObserver) {
    new MutationObserver(function () {
      clearTimeout(pending);
      pending = setTimeout(refresh, 300);
    }).observe(presenceList, { childList: true });
  }
  refresh();
  timer = setInterval(tick, 1000);
  setInterval(refresh, 60000);  // the countdown crossing zero, schedule edits
})();
