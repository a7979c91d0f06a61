// Village room: reports for everyone, moderation tools for facilitators (docs/facilitation.md).
// Talks to the JSON API under /api/rooms/{id}/ with the X-CSRF-Token header; all text is
// rendered with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) return;
  var roomId = root.dataset.roomId;
  var myId = Number(root.dataset.userId);
  var isFacilitator = root.dataset.role === "facilitator";
  var csrf = root.dataset.csrf;
  var banner = document.getElementById("room-banner");
  var panel = document.getElementById("facilitator-panel");
  var state = { locked: false, slow: 0, mutedUntil: null };

  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch("/api/rooms/" + roomId + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.message || "That did not work. Please try again.");
        return data;
      });
    });
  }

  function showError(err) {
    var el = document.getElementById(panel ? "fac-error" : "composer-error");
    el.textContent = err.message;
    el.hidden = false;
  }

  function timeText(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderBanner() {
    var parts = [];
    if (state.locked) parts.push("A facilitator has paused this room: you can read, but not send, for now.");
    if (state.slow) parts.push("Slow mode: one message every " + state.slow + " seconds.");
    if (state.mutedUntil && !isFacilitator) {
      parts.push("A facilitator has paused your messages until " + timeText(state.mutedUntil) + ".");
    }
    banner.textContent = parts.join(" ");
    banner.hidden = parts.length === 0;
  }

  function button(label, onClick, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls || "link";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // Buttons on each message: report (not your own), hide / unhide for facilitators.
  document.addEventListener("village:message", function (ev) {
    var li = ev.detail.li, m = ev.detail.message;
    var bar = document.createElement("span");
    bar.className = "msg-actions";
    if (m.sender.id !== myId && m.status !== "held") {
      bar.appendChild(button("Report", function () {
        var reason = window.prompt("Report this message to the facilitators. Reason (optional; they will not tell anyone it was you):", "");
        if (reason === null) return;
        api("POST", "/messages/" + m.seq + "/report", { reason: reason })
          .then(function (r) { window.alert(r.message); }, showError);
      }));
    }
    if (isFacilitator && m.status === "visible") {
      bar.appendChild(button("Hide", function () {
        var reason = window.prompt("Why hide this message? (members will see that it was hidden)", "");
        if (reason === null) return;
        api("POST", "/messages/" + m.seq + "/hide", { reason: reason }).catch(showError);
      }));
    } else if (isFacilitator && m.status === "hidden") {
      bar.appendChild(button("Unhide", function () {
        var reason = window.prompt("Why show this message again? (optional)", "");
        if (reason === null) return;
        api("POST", "/messages/" + m.seq + "/unhide", { reason: reason }).catch(showError);
      }));
    }
    if (bar.childNodes.length) li.appendChild(bar);
  });

  document.addEventListener("village:frame", function (ev) {
    var f = ev.detail;
    if (f.type === "room_state") {
      state.locked = f.locked;
      state.slow = f.slow_mode_seconds;
      renderBanner();
      if (panel) renderControls();
    } else if (f.type === "mute_state") {
      if (f.user_id === myId) { state.mutedUntil = f.muted_until; renderBanner(); }
      if (panel) refreshPanel();
    } else if (f.type === "flag" && panel) {
      refreshPanel();
    }
  });

  if (!panel) return;

  var lockBtn = document.getElementById("fac-lock");
  var slowSel = document.getElementById("fac-slow");
  var membersEl = document.getElementById("fac-members");
  var flagsEl = document.getElementById("fac-flags");
  var flagCount = document.getElementById("fac-flag-count");

  function renderControls() {
    lockBtn.textContent = state.locked ? "Unlock room" : "Lock room";
    lockBtn.setAttribute("aria-pressed", state.locked ? "true" : "false");
    if (!Array.prototype.some.call(slowSel.options, function (o) { return Number(o.value) === state.slow; })) {
      var o = document.createElement("option");
      o.value = state.slow;
      o.textContent = "1 message / " + state.slow + " s";
      slowSel.appendChild(o);
    }
    slowSel.value = String(state.slow);
  }

  lockBtn.addEventListener("click", function () {
    var locking = !state.locked;
    var reason = locking ? window.prompt("Lock the room (read-only for members). Reason (optional):", "") : "";
    if (reason === null) return;
    api("POST", "/lock", { locked: locking, reason: reason }).catch(showError);
  });
  slowSel.addEventListener("change", function () {
    api("POST", "/slow-mode", { seconds: Number(slowSel.value) }).catch(showError);
  });

  function renderMembers(members) {
    membersEl.textContent = "";
    members.forEach(function (p) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = p.name + (p.role !== "member" ? " (" + p.role + ")" : "");
      li.appendChild(name);
      if (p.role === "member") {
        if (p.muted_until) {
          var note = document.createElement("span");
          note.className = "hint";
          note.textContent = " muted until " + timeText(p.muted_until) + " ";
          li.appendChild(note);
          li.appendChild(button("Unmute", function () {
            api("POST", "/members/" + p.id + "/unmute").then(refreshPanel, showError);
          }));
        } else {
          li.appendChild(button("Mute", function () {
            var minutes = window.prompt("Mute " + p.name + " for how many minutes?", "10");
            if (minutes === null) return;
            var reason = window.prompt("Reason (optional, for the facilitators and the audit log):", "");
            if (reason === null) return;
            api("POST", "/members/" + p.id + "/mute", { minutes: Number(minutes), reason: reason })
              .then(refreshPanel, showError);
          }));
        }
        li.appendChild(button("Remove", function () {
          var reason = window.prompt("Remove " + p.name + " from the group? Reason:", "");
          if (reason === null) return;
          api("POST", "/members/" + p.id + "/remove", { reason: reason }).then(refreshPanel, showError);
        }));
      }
      membersEl.appendChild(li);
    });
  }

  function renderFlags(flags) {
    flagsEl.textContent = "";
    flagCount.textContent = flags.length ? "(" + flags.length + " open)" : "(none open)";
    flags.forEach(function (fl) {
      var li = document.createElement("li");
      li.className = "flag " + fl.kind + (fl.severity ? " " + fl.severity : "");
      var head = document.createElement("strong");
      head.textContent = fl.kind === "report" ? "Report" : (fl.severity || "risk") + " risk";
      li.appendChild(head);
      var about = document.createElement("p");
      about.textContent = (fl.member ? fl.member.name + ": " : "") +
        (fl.message ? "“" + fl.message.body + "”" : "");
      li.appendChild(about);
      if (fl.report) {
        var by = document.createElement("p");
        by.className = "hint";
        by.textContent = "Reported by " + (fl.report.reporter ? fl.report.reporter.name : "someone") +
          (fl.report.reason ? ": " + fl.report.reason : "");
        li.appendChild(by);
      }
      li.appendChild(button("Resolve", function () {
        var note = window.prompt("Resolve this flag. Note (optional):", "");
        if (note === null) return;
        api("POST", "/flags/" + fl.id + "/resolve", { note: note }).then(refreshPanel, showError);
      }));
      flagsEl.appendChild(li);
    });
  }

  function refreshPanel() {
    api("GET", "/moderation").then(function (o) {
      state.locked = o.locked;
      state.slow = o.slow_mode_seconds;
      renderControls();
      renderMembers(o.members);
      renderFlags(o.flags);
    }, showError);
  }

  refreshPanel();
})();
