// Village room client: protocol v1 (docs/protocol.md). Plain JS, no build step.
// Every message is rendered with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) return;
  var roomId = root.dataset.roomId;
  var myId = Number(root.dataset.userId);
  var isStaff = root.dataset.role === "facilitator" || root.dataset.role === "clinician";
  var list = document.getElementById("messages");
  var statusEl = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("body");
  var errorEl = document.getElementById("composer-error");
  var presenceEl = document.getElementById("presence");

  var lastSeq = null;          // highest message seq shown; sent as ?after= on reconnect
  var outbox = new Map();      // client_id -> body, until the server acknowledges it
  var shown = new Map();       // seq -> <li>
  var ws = null;
  var attempt = 0;
  var stopped = false;

  function setStatus(text, offline) {
    statusEl.textContent = text;
    statusEl.classList.toggle("offline", !!offline);
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function timeText(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessage(m) {
    var li = shown.get(m.seq) || document.querySelector('li[data-client-id="' + CSS.escape(m.client_id) + '"]');
    var fresh = !li;
    if (fresh) li = document.createElement("li");
    li.textContent = "";
    li.className = "message " + (m.status || "visible");
    li.dataset.seq = m.seq;
    li.dataset.clientId = m.client_id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = m.sender.name;
    li.appendChild(who);
    if (m.sender.role && m.sender.role !== "member") {
      var tag = document.createElement("span");
      tag.className = "role-tag";
      tag.textContent = m.sender.role;
      li.appendChild(tag);
    }
    var time = document.createElement("time");
    time.className = "time";
    time.dateTime = m.ts;
    time.textContent = timeText(m.ts);
    li.appendChild(time);
    var body = document.createElement("p");
    body.className = "body";
    if (m.status === "hidden" && !m.body) body.textContent = "This message was hidden by a facilitator.";
    else body.textContent = m.body;
    li.appendChild(body);
    if (m.status === "held") {
      var note = document.createElement("p");
      note.className = "hint";
      note.textContent = m.sender.id === myId
        ? "Only you and the care team can see this message. Someone will reach out to you."
        : "Held from the group for the care team.";
      li.appendChild(note);
    }
    if (m.status === "held" && isStaff && m.id) li.appendChild(releaseButton(m.id));
    shown.set(m.seq, li);
    if (fresh) insertInOrder(li, m.seq);
    // static/facilitation.js adds report / hide buttons.
    document.dispatchEvent(new CustomEvent("village:message", { detail: { li: li, message: m } }));
    if (lastSeq === null || m.seq > lastSeq) lastSeq = m.seq;
  }

  // A facilitator (or clinician) may let a held message through to the group.
  function releaseButton(messageId) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link release";
    b.textContent = "Release to the group";
    b.addEventListener("click", function () {
      var body = new URLSearchParams({ csrf: root.dataset.csrf });
      fetch("/messages/" + messageId + "/release", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { errorEl.textContent = "Could not release that message."; errorEl.hidden = false; } });
    });
    return b;
  }

  // Private words for this member only: crisis resources, or a note that the care team wrote.
  function renderCare(f) {
    var li = document.createElement("li");
    li.className = "care-card";
    li.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = f.message;
    li.appendChild(p);
    if (f.resources) {
      var ul = document.createElement("ul");
      f.resources.forEach(function (r) {
        var item = document.createElement("li");
        var strong = document.createElement("strong");
        strong.textContent = r.name + ": ";
        item.appendChild(strong);
        if (r.href) {
          var a = document.createElement("a");
          a.href = r.href;
          a.textContent = r.contact;
          item.appendChild(a);
        } else item.appendChild(document.createTextNode(r.contact));
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    if (f.url) {
      var link = document.createElement("a");
      link.href = f.url;
      link.className = "button";
      link.textContent = "Open the private conversation";
      li.appendChild(link);
    }
    list.appendChild(li);
    scrollDown();
  }

  function insertInOrder(li, seq) {
    var items = list.children;
    for (var i = items.length - 1; i >= 0; i--) {
      var s = Number(items[i].dataset.seq);
      if (!isNaN(s) && s < seq) { items[i].after(li); return scrollDown(); }
    }
    list.prepend(li);
    scrollDown();
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function renderPending(clientId, body) {
    var li = document.createElement("li");
    li.className = "message pending";
    li.dataset.clientId = clientId;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = "You";
    var p = document.createElement("p");
    p.className = "body";
    p.textContent = body;
    var state = document.createElement("span");
    state.className = "time";
    state.textContent = "sending…";
    li.append(who, state, p);
    list.appendChild(li);
    scrollDown();
  }

  function renderPresence(members) {
    presenceEl.textContent = "";
    members.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m.name + (m.role !== "member" ? " (" + m.role + ")" : "");
      presenceEl.appendChild(li);
    });
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function flushOutbox() {
    outbox.forEach(function (body, clientId) { send({ type: "send", client_id: clientId, body: body }); });
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var url = proto + location.host + "/ws/rooms/" + roomId + (lastSeq !== null ? "?after=" + lastSeq : "");
    setStatus(attempt ? "Reconnecting…" : "Connecting…", attempt > 0);
    ws = new WebSocket(url);
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "welcome") {
        // History is not announced to screen readers; new messages are.
        list.setAttribute("aria-live", "off");
      } else if (f.type === "message") {
        renderMessage(f);
      } else if (f.type === "message_update") {
        if (shown.has(f.seq)) renderMessage(f);  // hidden / unhidden: update in place
      } else if (f.type === "caught_up") {
        attempt = 0;
        list.setAttribute("aria-live", "polite");
        setStatus("Connected", false);
        flushOutbox();
      } else if (f.type === "ack") {
        outbox.delete(f.client_id);
      } else if (f.type === "care") {
        renderCare(f);
      } else if (f.type === "reached_out") {
        renderCare({ message: "Someone from the care team has written to you privately.", url: f.url });
      } else if (f.type === "presence") {
        renderPresence(f.members);
      } else if (f.type === "error") {
        if (f.client_id && !f.retryable) {
          // Refused (muted, locked, slow mode…): give the text back so nothing is lost.
          if (outbox.has(f.client_id) && !input.value) input.value = outbox.get(f.client_id);
          outbox.delete(f.client_id);
          var pending = document.querySelector('li.pending[data-client-id="' + CSS.escape(f.client_id) + '"]');
          if (pending) pending.remove();
        }
        errorEl.textContent = f.message;
        errorEl.hidden = false;
      } else {
        document.dispatchEvent(new CustomEvent("village:frame", { detail: f }));
      }
    };
    ws.onclose = function (ev) {
      ws = null;
      if (stopped) return;
      if (ev.code === 4001) { setStatus("Your session ended. Please sign in again.", true); stopped = true;
        location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
      if (ev.code === 4003 || ev.code === 4004) { setStatus("You no longer have access to this room.", true); stopped = true; return; }
      if (ev.code === 4005) { location.href = "/groups"; return; }
      attempt += 1;
      var delay = Math.min(10000, 500 * Math.pow(2, attempt - 1)) * (0.5 + Math.random() / 2);
      var why = ev.code === 1013 ? "The server is busy." : "Connection lost.";
      setStatus(why + " Reconnecting in " + Math.ceil(delay / 1000) + " s… (nothing you wrote is lost)", true);
      setTimeout(connect, delay);
    };
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = input.value;
    if (!body.trim()) return;
    errorEl.hidden = true;
    var clientId = newClientId();
    outbox.set(clientId, body);
    renderPending(clientId, body);
    input.value = "";
    send({ type: "send", client_id: clientId, body: body });
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  // A phone losing signal may keep a dead socket open for a long time: drop it at once so the
  // page says so, and reconnect as soon as the network is back.
  window.addEventListener("offline", function () { if (ws) ws.close(); });
  window.addEventListener("online", function () { if (!ws && !stopped) { attempt = 0; connect(); } });
  connect();
})();
