  // ---- the bell: built, started and removed; Herald.init, the one name the page sees ----

  function Bell(options) {
    if (!options || !options.projectId || !options.userId || !options.userHmac) {
      throw new Error("Herald.init needs projectId, userId and userHmac.");
    }
    this.options = options;
    this.text = Object.assign({}, TEXT, options.text || {});
    this.host = String(
      options.host || (SCRIPT && SCRIPT.src ? new URL(SCRIPT.src).origin : global.location.origin)
    ).replace(/\/+$/, "");
    this.pageSize = Math.min(50, Math.max(1, options.pageSize || PAGE_SIZE));
    this.pollInterval = options.pollInterval || 30000;
    this.messages = [];
    this.byId = {};
    this.total = 0;
    this.unread = 0;
    this.failures = 0; // of the stream, in a row
    this.user = null;
    this.notifications = [];
    this.favicon = options.favicon === false ? null : new FaviconMark();
    this.mount();
    this.start();
  }

  Bell.prototype.start = function () {
    var self = this;
    this.showState("loading");
    this.call("GET", "users.get").then(function (data) {
      self.user = data.user || {};
      self.notifications = data.notifications || [];
      self.vapidPublicKey = data.vapidPublicKey || null;
      if (!self.text.locale && self.user.language) self.locale = self.user.language;
      if (!self.settings.hidden) self.renderSettings();
      return self.checkPush().then(function (on) {
        // Only the switch: drawing the settings again would take the focus from where it is.
        if (self.pushToggle && !self.pushBusy) self.pushToggle.setAttribute("aria-checked", String(on));
      });
    }).catch(function (error) {
      self.userError = error.message;
      if (!self.settings.hidden) self.renderSettings();
    });
    this.refresh().catch(function () {});
    this.connect();
  };

  Bell.prototype.destroy = function () {
    this.destroyed = true;
    if (this.source) this.source.close();
    clearTimeout(this.streamRetry);
    clearInterval(this.timer);
    clearInterval(this.clock);
    if (this.observer) this.observer.disconnect();
    document.removeEventListener("pointerdown", this.onOutside, true);
    document.removeEventListener("keydown", this.onEscape);
    global.removeEventListener("resize", this.onResize);
    global.removeEventListener("scroll", this.onResize, true);
    if (this.favicon) this.favicon.show(0);
    this.element.remove();
  };

  global.Herald = {
    version: "1",
    /** Mount a bell; returns it ({open, close, refresh, destroy, unread}). */
    init: function (options) {
      var bell = new Bell(options);
      return {
        open: function () { bell.open(); },
        close: function () { bell.close(false); },
        refresh: function () { return bell.refresh(); },
        destroy: function () { bell.destroy(); },
        unread: function () { return bell.unread; },
      };
    },
    sanitize: sanitize,
  };
