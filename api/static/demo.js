"use strict";
// The demo page: the bell of the demo user (its options are the page's JSON block), and the
// buttons that send it notifications through /demo/send.
(function () {
  var options = JSON.parse(document.getElementById("demo-bell").textContent);
  options.bellSelector = "#bell";
  options.onClickMessage = function () {};
  window.herald = Herald.init(options);

  function send(stacked) {
    var status = document.getElementById("status");
    status.textContent = "Sending…";
    fetch("/demo/send", { method: "POST", body: JSON.stringify({ stacked: stacked }) })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var r = d.result || {};
        status.textContent = r.ok ? "Sent (" + r.status + ")." : (r.message || d.message || "Failed.");
      })
      .catch(function (e) { status.textContent = e.message; });
  }
  document.getElementById("send-comment").onclick = function () { send(false); };
  document.getElementById("send-like").onclick = function () { send(true); };
})();
