  // ---- small DOM and text helpers ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (attrs[name] === false || attrs[name] == null) continue;
      if (name === "text") node.textContent = attrs[name];
      else if (name === "html") node.innerHTML = attrs[name]; // only the widget's own icons
      else node.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] == null ? "" : values[key];
    });
  }

  function badgeText(count) {
    return count > 99 ? "99+" : String(count);
  }

  function relativeTime(iso, text, locale) {
    var when = Date.parse(iso);
    if (isNaN(when)) return "";
    var seconds = Math.min(0, Math.round((when - Date.now()) / 1000)); // a skewed clock: "now"
    if (Math.abs(seconds) < 45 && text.justNow) return text.justNow;
    if (Math.abs(seconds) < 45) seconds = 0;
    var steps = [
      ["minute", 60], ["hour", 3600], ["day", 86400], ["week", 604800],
    ];
    var unit = seconds ? "minute" : "second", size = seconds ? 60 : 1;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) >= steps[i][1]) (unit = steps[i][0]), (size = steps[i][1]);
    }
    if (Math.abs(seconds) >= 2592000) {
      return new Date(when).toLocaleDateString(locale || undefined, {
        day: "numeric", month: "short", year: "numeric",
      });
    }
    try {
      return new Intl.RelativeTimeFormat(locale || undefined, { numeric: "auto" }).format(
        Math.round(seconds / size), unit
      );
    } catch (e) {
      return new Date(when).toLocaleString();
    }
  }
