/*! Herald's service worker for the bell's browser notifications, served at /widget-sw.js.
 *
 * A service worker must come from the page's own origin: host this file there (a copy, or a
 * proxy of https://herald.example.com/widget-sw.js at https://your.app/widget-sw.js) and the
 * bell registers it when its user turns "Browser notifications" on.
 *
 * A push's payload is the JSON Herald sends: {title, body, icon, url, data, messageId}.
 */
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting(); // a new version takes over at once: this worker keeps no state
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

/** The payload of a push: its JSON, or its text as the body. */
function payload(event) {
  if (!event.data) return {};
  try {
    var parsed = event.data.json();
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch (e) {
    return { body: event.data.text() };
  }
}

/** An http(s) URL made absolute, or "" (no javascript:, no data:). */
function webUrl(url) {
  try {
    var absolute = new URL(String(url), self.location.origin);
    return /^https?:$/.test(absolute.protocol) ? absolute.href : "";
  } catch (e) {
    return "";
  }
}

self.addEventListener("push", function (event) {
  var push = payload(event);
  var data = Object.assign({}, push.data && typeof push.data === "object" ? push.data : {}, {
    url: push.url ? webUrl(push.url) : "",
    messageId: push.messageId || null,
  });
  var options = { body: push.body || "", data: data };
  if (push.icon) options.icon = push.icon;
  if (push.messageId) options.tag = String(push.messageId); // a stacked message replaces its own
  event.waitUntil(self.registration.showNotification(push.title || "Notification", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = webUrl((event.notification.data || {}).url || "");
  if (!url) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow ? self.clients.openWindow(url) : undefined;
    })
  );
});
