  // ---- the frontend API: one call, and the live updates ----

  /** One call of the frontend API: auth in the query of a GET, in the JSON body of a POST. */
  Bell.prototype.call = function (method, action, params, body) {
    var auth = {
      projectId: this.options.projectId, userId: this.options.userId, userHmac: this.options.userHmac,
    };
    var url = new URL(this.host + "/front/" + action);
    var query = Object.assign(method === "GET" ? auth : {}, params || {});
    Object.keys(query).forEach(function (key) {
      url.searchParams.set(key, query[key]);
    });
    var init = { method: method, mode: "cors", credentials: "omit" };
    // A string body goes as text/plain: a "simple" request, so no CORS preflight.
    if (method === "POST") init.body = JSON.stringify(Object.assign(auth, body || {}));
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

  Bell.prototype.connect = function () {
    var self = this;
    if (!("EventSource" in global) || this.options.stream === false) return this.poll();
    var url = new URL(this.host + "/front/messages.stream");
    url.searchParams.set("projectId", this.options.projectId);
    url.searchParams.set("userId", this.options.userId);
    url.searchParams.set("userHmac", this.options.userHmac);
    var source = new EventSource(url.href);
    var failures = 0;
    this.source = source;
    var onEvent = function (event) {
      failures = 0;
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
      failures = 0;
    };
    source.onerror = function () {
      failures += 1;
      // Closed for good (an HTTP error) or failing again and again: poll instead.
      if (source.readyState === 2 || failures >= 3) {
        source.close();
        self.source = null;
        self.poll();
      }
    };
  };

  Bell.prototype.poll = function () {
    var self = this;
    if (this.timer) return;
    this.timer = setInterval(function () {
      self.refresh().catch(function () {});
    }, this.pollInterval);
  };
