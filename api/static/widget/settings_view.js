  // ---- settings: one switch per channel a notification lets the user mute ----

  Bell.prototype.renderSettings = function () {
    var self = this, text = this.text;
    this.settings.textContent = "";
    if (!this.user) {
      var waiting = this.userError ? text.loadFailed + " " + this.userError : text.loading;
      this.settings.appendChild(el("p", { class: "hd-hint", text: waiting }));
      return;
    }
    var groups = this.notifications.filter(function (n) {
      return CHANNELS.some(function (c) { return n["with" + c.key] && n["allowMute" + c.key]; });
    });
    var push = this.renderPush();
    if (push) this.settings.appendChild(push);
    if (groups.length || !push) {
      this.settings.appendChild(el("p", { class: "hd-hint", text: groups.length ? text.settingsHint : text.settingsEmpty }));
    }
    groups.forEach(function (notification) {
      var heading = el("h3", { id: "hd-n-" + notification.id, text: notification.name || notification.id });
      var group = el("div", { class: "hd-group", role: "group", "aria-labelledby": heading.id }, [heading]);
      CHANNELS.forEach(function (channel) {
        if (!notification["with" + channel.key] || !notification["allowMute" + channel.key]) return;
        group.appendChild(self.renderSwitch(notification, channel));
      });
      self.settings.appendChild(group);
    });
    this.note = el("div", { class: "hd-note", role: "status", "aria-live": "polite" });
    this.settings.appendChild(this.note);
  };

  Bell.prototype.renderSwitch = function (notification, channel) {
    var self = this;
    var preference = this.preference(notification.id);
    var id = "hd-s-" + notification.id + "-" + channel.key;
    var label = el("label", { for: id, text: this.text[channel.text] });
    var toggle = el("button", {
      type: "button", role: "switch", class: "hd-switch", id: id,
      "aria-checked": String(!preference["mute" + channel.key]),
      "data-notification": notification.id, "data-channel": channel.key,
      "aria-label": this.text[channel.text] + " — " + (notification.name || notification.id),
    });
    toggle.addEventListener("click", function () {
      self.setMute(notification.id, channel.key, toggle);
    });
    return el("div", { class: "hd-row" }, [label, toggle]);
  };

  Bell.prototype.preference = function (notificationId) {
    var preferences = (this.user && this.user.preferences) || {};
    return Object.assign(
      { notificationId: notificationId, muteWidget: false, muteEmail: false, muteSMS: false, mutePush: false },
      preferences[notificationId] || {}
    );
  };

  Bell.prototype.setMute = function (notificationId, channelKey, toggle) {
    var self = this;
    var preference = this.preference(notificationId);
    var before = Object.assign({}, preference);
    preference["mute" + channelKey] = !preference["mute" + channelKey];
    this.user.preferences = Object.assign({}, this.user.preferences || {});
    this.user.preferences[notificationId] = preference;
    toggle.setAttribute("aria-checked", String(!preference["mute" + channelKey]));
    toggle.disabled = true;
    var preferences = {};
    preferences[notificationId] = preference;
    this.call("POST", "users.setProfile", null, { user: { preferences: preferences } }).then(function (data) {
      if (data && data.user) self.user = data.user;
      self.note.textContent = self.text.saved;
    }, function (error) {
      self.user.preferences[notificationId] = before;
      toggle.setAttribute("aria-checked", String(!before["mute" + channelKey]));
      self.note.textContent = self.text.saveFailed + " " + error.message;
    }).then(function () {
      toggle.disabled = false;
      toggle.setAttribute("data-saved", "true");
    });
  };
