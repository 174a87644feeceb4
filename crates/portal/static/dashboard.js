// Dashboards: refresh without flicker, and rotate on a big screen.
//
// Each board names its panels' URL and the ETag of what the page shows. Every refresh
// interval the visible board asks again with If-None-Match: a 304 changes nothing; new
// numbers replace only the panels whose HTML changed. The server computes a dashboard once
// per interval for all viewers, so many screens cost what one does. Nothing accumulates:
// one timer, one string per panel. Without JavaScript the page reloads itself instead
// (<noscript> refresh).
(function () {
  "use strict";
  var boards = Array.prototype.slice.call(document.querySelectorAll("[data-board]"));
  if (!boards.length) return;
  var every = Number(document.body.getAttribute("data-every") || 0);
  var visible = 0;
  var shown = boards.map(function () { return []; });
  var due = boards.map(function () { return null; });

  function status(board, text, stale) {
    var s = board.querySelector("[data-status]");
    if (s && text !== null) s.textContent = text;
    board.classList.toggle("stale", !!stale);
  }

  function refresh(i) {
    var board = boards[i];
    var headers = {};
    var etag = board.getAttribute("data-etag");
    if (etag) headers["If-None-Match"] = '"' + etag + '"';
    return fetch(board.getAttribute("data-panels"), {
      headers: headers, credentials: "same-origin", cache: "no-cache"
    }).then(function (r) {
      // Ask again when the server's next computation is due, not a whole interval later.
      var next = Number(r.headers.get("x-secviz-next-ms"));
      due[i] = isFinite(next) && r.headers.get("x-secviz-next-ms") !== null ? next + 100 : null;
      if (r.status === 304) { status(board, null, false); return; }
      if (!r.ok) {
        status(board, "Could not refresh (the server answered " + r.status +
          "); these numbers are from the last refresh.", true);
        return;
      }
      return r.json().then(function (j) {
        var sections = board.querySelectorAll("[data-panel]");
        for (var k = 0; k < j.panels.length && k < sections.length; k++) {
          if (shown[i][k] !== j.panels[k]) {
            sections[k].innerHTML = j.panels[k];
            shown[i][k] = j.panels[k];
          }
        }
        board.setAttribute("data-etag", j.etag);
        status(board, j.frame, false);
      });
    }).catch(function () {
      status(board, "Could not reach the server; these numbers are from the last refresh.", true);
    });
  }

  function interval(i) {
    var whole = Math.max(2, Number(boards[i].getAttribute("data-refresh") || 30)) * 1000;
    return due[i] === null ? whole : Math.min(whole, Math.max(250, due[i]));
  }

  var timer = null;
  function tick() {
    refresh(visible).then(function () {
      timer = setTimeout(tick, interval(visible));
    });
  }
  // A first, early ask learns when the next computation is due.
  timer = setTimeout(tick, Math.min(1000, interval(0)));

  if (every > 0 && boards.length > 1) {
    setInterval(function () {
      var next = (visible + 1) % boards.length;
      // Fetch the next board's numbers before showing it: it appears current.
      refresh(next).then(function () {
        boards[visible].hidden = true;
        boards[next].hidden = false;
        visible = next;
        document.title = (boards[next].querySelector("h1") || {}).textContent || document.title;
      });
    }, every * 1000);
  }

  var fs = document.querySelector("[data-fullscreen]");
  if (fs && document.documentElement.requestFullscreen) {
    fs.addEventListener("click", function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
  } else if (fs) {
    fs.hidden = true;
  }
})();
