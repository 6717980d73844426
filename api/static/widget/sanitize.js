  // ---- safe HTML: an inert parse, then a rebuild from an allow-list ----

  var ALLOWED = {
    A: ["href", "title"], ABBR: ["title"], B: [], BLOCKQUOTE: [], BR: [], CODE: [], DEL: [],
    DIV: [], EM: [], I: [], IMG: ["src", "alt", "width", "height"], LI: [], MARK: [], OL: [],
    P: [], S: [], SMALL: [], SPAN: [], STRONG: [], SUB: [], SUP: [], U: [], UL: [],
  };
  // Dropped with everything inside; any other unknown element keeps only its content.
  var DROPPED = /^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|IFRAME|FRAME|FRAMESET|OBJECT|EMBED|SVG|MATH|FORM|INPUT|BUTTON|TEXTAREA|SELECT|OPTION|LINK|META|BASE|TITLE|HEAD|AUDIO|VIDEO|SOURCE|TRACK|CANVAS|PORTAL)$/;

  function safeUrl(value, image) {
    var url;
    try {
      url = new URL(String(value).trim(), global.location.href);
    } catch (e) {
      return null;
    }
    if (url.protocol === "https:" || url.protocol === "http:") return url.href;
    if (!image && url.protocol === "mailto:") return url.href;
    if (image && /^data:image\/(png|gif|jpe?g|webp|avif)[;,]/i.test(url.href)) return url.href;
    return null;
  }

  function rebuild(from, to, depth) {
    if (depth > 24) return;
    for (var node = from.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === 3) {
        to.appendChild(document.createTextNode(node.data));
        continue;
      }
      if (node.nodeType !== 1) continue;
      var tag = String(node.tagName).toUpperCase();
      if (DROPPED.test(tag)) continue;
      var names = ALLOWED.hasOwnProperty(tag) ? ALLOWED[tag] : null;
      if (!names) {
        rebuild(node, to, depth + 1);
        continue;
      }
      var element = document.createElement(tag.toLowerCase());
      for (var i = 0; i < names.length; i++) {
        var value = node.getAttribute(names[i]);
        if (value === null) continue;
        if (names[i] === "href" || names[i] === "src") value = safeUrl(value, names[i] === "src");
        if (value !== null) element.setAttribute(names[i], value);
      }
      if (tag === "A") {
        element.setAttribute("target", "_blank");
        element.setAttribute("rel", "noopener noreferrer nofollow");
      }
      if (tag === "IMG") element.setAttribute("loading", "lazy");
      rebuild(node, element, depth + 1);
      to.appendChild(element);
    }
  }

  /** A fragment of the page's document holding only allow-listed markup of `html`. */
  function sanitize(html) {
    var inert = new DOMParser().parseFromString(
      "<!doctype html><body>" + String(html == null ? "" : html),
      "text/html"
    );
    var fragment = document.createDocumentFragment();
    rebuild(inert.body, fragment, 0);
    return fragment;
  }
