  // ---- the frontend API: one call, and the live updates ----

  /**
   * One call of the frontend API. The user's HMAC goes in a header, never in a URL (URLs are
   * what proxies and access logs keep); projectId and userId in the query of a GET, in the JSON
   * body of a POST. The header makes each call preflighted, once per URL for as long as the
   * preflight's answer allows (Access-Control-Max-Age).
   */
  Bell.prototype.call = function (method, action, params, body) {
    var who = { projectId: this.options.projectId, userId: this.options.userId };
    var url = new URL(this.host + "/front/" + action);
    var query = Object.assign(method === "GET" ? who : {}, params || {});
    Object.keys(query).forEach(function (key) {
      url.searchParams.set(key, query[key]);
    });
    var init = {
      method: method, mode: "cors", credentials: "omit",
      headers: { "X-Herald-User-Hmac": this.options.userHmac },
    };
    if (method === "POST") init.body = JSON.stringify(Object.assign(who, body || {}));
    return fetch(url.href, init).then(function (response) {
      return response.text().then(function (raw) {
        var data = {};
        try {
          data = raw ? JSON.parse(raw) : {};
        } catch (e) {
          data = {};
        }
        if (!response.ok) {
          var error = new Error(data.message || "Request failed (" + response.status + ").");
          error.code = data.error;
          throw error;
        }
        return data;
      });
    });
  };

  // ---- live updates: the stream, or polling when it can't be had ----

  // An EventSource can't send a header: its URL carries a stream token instead, valid for a
  // minute, asked for with the HMAC header. The browser reconnects a dropped stream by itself
  // with the same URL; once the token has expired that is refused, and the bell opens a new
  // stream with a new token from the last event it saw. Three failures in a row: it polls.
  Bell.prototype.connect = function () {
    var self = this;
    if (!("EventSource" in global) || this.options.stream === false) return this.poll();
    this.call("POST", "messages.streamToken").then(function (data) {
      if (!self.destroyed) self.openStream(data.streamToken);
    }).catch(function () {
      self.failures += 1;
      self.retryStream();
    });
  };

  Bell.prototype.openStream = function (token) {
    var self = this;
    var url = new URL(this.host + "/front/messages.stream");
    url.searchParams.set("projectId", this.options.projectId);
    url.searchParams.set("userId", this.options.userId);
    url.searchParams.set("streamToken", token);
    if (this.lastEventId) url.searchParams.set("lastEventId", this.lastEventId);
    var source = new EventSource(url.href);
    this.source = source;
    var onEvent = function (event) {
      self.failures = 0;
      if (event.lastEventId) self.lastEventId = event.lastEventId;
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      self.apply(data, event.type);
    };
    ["message", "message.new", "message.incremented", "message.read", "messages.readAll",
      "message.removed"].forEach(function (type) {
      source.addEventListener(type, onEvent);
    });
    source.onopen = function () {
      self.failures = 0;
    };
    source.onerror = function () {
      self.failures += 1;
      // Closed (an HTTP error, such as an expired token) or failing again and again: start over.
      if (source.readyState === 2 || self.failures >= 3) {
        source.close();
        self.source = null;
        self.retryStream();
      }
    };
  };

  /** After a failure: a new stream in a second, or polling after three failures in a row. */
  Bell.prototype.retryStream = function () {
    var self = this;
    if (this.destroyed) return;
    if (this.failures >= 3) return this.poll();
    this.streamRetry = setTimeout(function () {
      self.connect();
    }, 1000);
  };

  Bell.prototype.poll = function () {
    var self = this;
    if (this.timer) return;
    this.timer = setInterval(function () {
      self.refresh().catch(function () {});
    }, this.pollInterval);
  };
