  // ---- browser notifications: the switch, the permission, the service worker, the subscription ----

  // Shown when the browser can do Web Push and this Herald has a VAPID key (users.get says so).
  // The service worker must be of the page's origin: options.serviceWorker names its URL
  // (default /widget-sw.js), false leaves the switch out.

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in global && "Notification" in global;
  }

  /** A base64url string (the VAPID public key) as the bytes pushManager.subscribe takes. */
  function base64UrlBytes(text) {
    var base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameBytes(buffer, bytes) {
    if (!buffer || buffer.byteLength !== bytes.length) return false;
    var view = new Uint8Array(buffer);
    return view.every(function (byte, i) { return byte === bytes[i]; });
  }

  /** The registration once it has an active worker (pushManager.subscribe needs one). */
  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    var worker = registration.installing || registration.waiting;
    return new Promise(function (resolve, reject) {
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") resolve(registration);
        else if (worker.state === "redundant") reject(new Error("The service worker failed to start."));
      });
    });
  }

  Bell.prototype.pushAvailable = function () {
    return Boolean(this.vapidPublicKey && this.options.serviceWorker !== false && pushSupported());
  };

  Bell.prototype.workerUrl = function () {
    return new URL(this.options.serviceWorker || "/widget-sw.js", global.location.href).href;
  };

  /** The registration of the bell's service worker on this page, or undefined. */
  Bell.prototype.workerRegistration = function () {
    var url = this.workerUrl();
    return navigator.serviceWorker.getRegistrations().then(function (registrations) {
      return registrations.filter(function (r) {
        var worker = r.active || r.waiting || r.installing;
        return worker && worker.scriptURL === url;
      })[0];
    });
  };

  /** Whether this browser is subscribed now: a subscription, and the permission granted. */
  Bell.prototype.checkPush = function () {
    var self = this;
    if (!this.pushAvailable()) return Promise.resolve(false);
    return this.workerRegistration().then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      self.pushOn = Boolean(subscription) && Notification.permission === "granted";
      return self.pushOn;
    }, function () {
      self.pushOn = false;
      return false;
    });
  };

  Bell.prototype.renderPush = function () {
    var self = this, text = this.text;
    if (!this.pushAvailable()) return null;
    this.pushToggle = el("button", {
      type: "button", role: "switch", class: "hd-switch", id: "hd-push",
      "aria-checked": String(Boolean(this.pushOn)), "aria-describedby": "hd-push-about hd-push-note",
      "aria-disabled": this.pushBusy ? "true" : null,
    });
    this.pushToggle.addEventListener("click", function () {
      if (!self.pushBusy) self.setPush(self.pushToggle.getAttribute("aria-checked") !== "true");
    });
    this.pushNote = el("p", { class: "hd-push-note", id: "hd-push-note", role: "status", "aria-live": "polite" });
    this.showPushNote(Notification.permission === "denied" && !this.pushOn ? text.pushDenied : this.pushNoteText);
    var about = el("div", { class: "hd-push-text" }, [
      el("label", { for: "hd-push", class: "hd-push-label", text: text.pushTitle }),
      el("span", { class: "hd-push-about", id: "hd-push-about", text: text.pushHint }),
    ]);
    return el("div", { class: "hd-group hd-push" }, [
      el("div", { class: "hd-row" }, [about, this.pushToggle]),
      this.pushNote,
    ]);
  };

  Bell.prototype.showPushNote = function (sentence, failed) {
    this.pushNoteText = sentence || "";
    if (!this.pushNote) return;
    this.pushNote.textContent = this.pushNoteText;
    this.pushNote.toggleAttribute("data-error", Boolean(failed));
  };

  /** Turn browser notifications on or off; the switch says where it ended. */
  Bell.prototype.setPush = function (on) {
    var self = this;
    this.pushBusy = true;
    // aria-disabled, not disabled: a disabled button would drop the keyboard's focus.
    this.pushToggle.setAttribute("aria-disabled", "true");
    this.showPushNote("");
    (on ? this.subscribePush() : this.unsubscribePush()).then(function () {
      self.pushOn = on;
      self.showPushNote(on ? self.text.pushOn : self.text.pushOff);
    }, function (error) {
      var denied = error.code === "push/denied";
      var sentence = denied ? error.message : (on ? self.text.pushOnFailed : self.text.pushOffFailed) + " " + error.message;
      self.showPushNote(sentence, !denied);
    }).then(function () {
      var toggle = self.pushToggle; // the settings may have been drawn again meanwhile
      self.pushBusy = false;
      toggle.setAttribute("aria-checked", String(Boolean(self.pushOn)));
      toggle.removeAttribute("aria-disabled");
      toggle.setAttribute("data-saved", "true");
    });
  };

  Bell.prototype.subscribePush = function () {
    var self = this, key = base64UrlBytes(this.vapidPublicKey);
    return Promise.resolve(Notification.requestPermission()).then(function (permission) {
      if (permission === "granted") return navigator.serviceWorker.register(self.workerUrl());
      var error = new Error(permission === "denied" ? self.text.pushDenied : self.text.pushDismissed);
      error.code = "push/denied";
      throw error;
    }).then(activated).then(function (registration) {
      return registration.pushManager.getSubscription().then(function (old) {
        // One made with another VAPID key can't be reused: subscribe can't replace it either.
        if (old && !sameBytes(old.options && old.options.applicationServerKey, key)) {
          return old.unsubscribe().then(function () { return null; });
        }
        return old;
      }).then(function (old) {
        return old || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    }).then(function (subscription) {
      return self.call("POST", "push.subscribe", null, { subscription: subscription.toJSON() });
    });
  };

  /** Herald forgets the browser first: if it can't, the two still agree that it is on. */
  Bell.prototype.unsubscribePush = function () {
    var self = this;
    return this.workerRegistration().then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      if (!subscription) return;
      return self.call("POST", "push.unsubscribe", null, { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    });
  };
