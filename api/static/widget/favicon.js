  // ---- the favicon mark ----

  function FaviconMark() {
    this.link = null;
    this.original = null;
    this.image = null;
  }

  FaviconMark.prototype.show = function (count) {
    var self = this;
    if (!this.link) {
      this.link = document.querySelector('link[rel~="icon"]');
      if (this.link) this.original = this.link.getAttribute("href");
      else {
        this.link = el("link", { rel: "icon" });
        document.head.appendChild(this.link);
      }
    }
    if (!count) {
      if (this.original !== null) this.link.setAttribute("href", this.original);
      else this.link.removeAttribute("href");
      this.link.removeAttribute("data-herald-unread");
      return;
    }
    if (this.image === null && this.original) {
      this.image = new Image();
      this.image.crossOrigin = "anonymous";
      this.image.onload = this.image.onerror = function () {
        self.draw(self.pending);
      };
      this.image.src = this.original;
    }
    this.pending = count;
    if (!this.image || this.image.complete) this.draw(count);
  };

  FaviconMark.prototype.draw = function (count) {
    if (!count) return;
    var size = 64, canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    var context = canvas.getContext("2d");
    if (!context) return;
    var image = this.image;
    try {
      if (image && image.complete && image.naturalWidth) context.drawImage(image, 0, 0, size, size);
    } catch (e) {
      /* an icon that can't be drawn: the dot alone still says there is something unread */
    }
    context.beginPath();
    context.arc(size - 17, 17, 15, 0, 2 * Math.PI);
    context.fillStyle = "#e11d48";
    context.fill();
    context.lineWidth = 4;
    context.strokeStyle = "#ffffff";
    context.stroke();
    var url;
    try {
      url = canvas.toDataURL("image/png");
    } catch (e) {
      canvas = document.createElement("canvas"); // tainted by a cross-origin icon: dot only
      canvas.width = canvas.height = size;
      this.image = false;
      return this.draw(count);
    }
    this.link.setAttribute("href", url);
    this.link.setAttribute("data-herald-unread", String(count));
  };
