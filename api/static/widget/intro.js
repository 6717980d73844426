/*! Herald bell: the in-app notification feed for any page, no dependencies.
 *
 *   <script src="https://herald.example.com/widget.js"></script>
 *   <div id="bell"></div>
 *   <script>Herald.init({projectId, userId, userHmac, bellSelector: "#bell"})</script>
 *
 * Message HTML is never trusted: it is parsed into an inert document and rebuilt from a small
 * allow-list of tags and attributes, so no script, event handler or javascript: URL survives.
 */
(function (global) {
  "use strict";

  var SCRIPT = document.currentScript;
  var PAGE_SIZE = 20;
