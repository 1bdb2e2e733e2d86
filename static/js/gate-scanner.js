// Gatehouse gate page: scan a visitor's QR code with the device's rear camera.
// "Scan QR" opens the camera in a <video>, a few frames a second go through jsQR
// (vendored, loaded on first use), and the first pass found stops the camera and is
// posted to the gate's check endpoint as qr_token (htmx), so ADMIT / DENY shows in
// #result as for a typed code. The markup is templates/gate/_scanner.html; its data-*
// attributes carry the translated messages. Without a camera (or permission) the
// guard gets a clear message and types the code instead.
(function () {
  "use strict";
  var SCAN_EVERY_MS = 150; // decode at most ~6 frames a second: enough, and easy on a phone
  var MAX_SIDE = 800; // frames are scaled down to this before decoding
  var TOKEN = /^[A-Za-z0-9_-]{16,64}$/; // a pass's qr_token (secrets.token_urlsafe)
  var PASS_URL = /\/p\/([A-Za-z0-9_-]{16,64})\/?(?:[?#].*)?$/; // or its pass page URL

  function el(id) { return document.getElementById(id); }

  /** The pass token in a decoded QR text (the raw token, or a pass URL ending in
   *  /p/<token>), or null when it is not a Gatehouse pass. */
  function extractToken(text) {
    var value = (text || "").trim();
    if (TOKEN.test(value)) return value;
    var match = PASS_URL.exec(value);
    return match ? match[1] : null;
  }

  var jsqrLoading = null;
  function loadJsQR(root) {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    if (!jsqrLoading) {
      jsqrLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = root.dataset.jsqr;
        script.onload = function () { window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")); };
        script.onerror = function () { jsqrLoading = null; reject(new Error("jsQR")); };
        document.head.appendChild(script);
      });
    }
    return jsqrLoading;
  }

  /** Decode one RGBA frame (ImageData-like: data, width, height): the QR text or null. */
  function decodeImageData(image) {
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  }

  var state = { stream: null, timer: null, lastScan: 0, canvas: null, busy: false };

  function showMessage(text) {
    var box = el("scanner-message");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function stop() {
    if (state.timer) cancelAnimationFrame(state.timer);
    state.timer = null;
    if (state.stream) state.stream.getTracks().forEach(function (track) { track.stop(); });
    state.stream = null;
    var video = el("scanner-video");
    if (video) { video.pause(); video.srcObject = null; }
    var view = el("scanner-view");
    if (view) view.hidden = true;
    var button = el("scan-qr");
    if (button) button.hidden = false;
  }

  /** Post a decoded pass to the check endpoint, as the typed-code form does. */
  function submitToken(token) {
    var form = el("qr-form");
    el("qr-token").value = token;
    if (window.htmx) {
      htmx.trigger(form, "submit");
    } else {
      form.submit();
    }
  }

  /** A decoded QR text: a pass is submitted (true); anything else is reported (false). */
  function handleText(text) {
    var token = extractToken(text);
    if (!token) {
      showMessage(el("qr-scanner").dataset.msgNotAPass);
      return false;
    }
    showMessage("");
    stop();
    submitToken(token);
    return true;
  }

  function tick(now) {
    state.timer = requestAnimationFrame(tick);
    var video = el("scanner-video");
    if (!video || !state.stream) return stop();
    if (now - state.lastScan < SCAN_EVERY_MS || video.readyState < 2 || !video.videoWidth) return;
    state.lastScan = now;
    var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    var width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
    var canvas = state.canvas || (state.canvas = document.createElement("canvas"));
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    var text = decodeImageData(context.getImageData(0, 0, width, height));
    if (text) handleText(text);
  }

  function errorMessage(root, error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
      return root.dataset.msgDenied;
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return root.dataset.msgNoCamera;
    }
    if (name === "NotReadableError" || name === "TrackStartError") return root.dataset.msgBusy;
    return root.dataset.msgFailed;
  }

  function start() {
    var root = el("qr-scanner");
    if (!root || state.stream || state.busy) return;
    showMessage("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showMessage(window.isSecureContext === false ? root.dataset.msgInsecure : root.dataset.msgNoCamera);
      return;
    }
    state.busy = true;
    var constraints = { audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 },
                                               height: { ideal: 720 } } };
    Promise.all([loadJsQR(root), navigator.mediaDevices.getUserMedia(constraints)])
      .then(function (results) {
        var stream = results[1];
        state.busy = false;
        if (!el("qr-scanner")) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
        state.stream = stream;
        var video = el("scanner-video");
        video.srcObject = stream;
        el("scanner-view").hidden = false;
        el("scan-qr").hidden = true;
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () {});
        state.lastScan = 0;
        state.timer = requestAnimationFrame(tick);
      })
      .catch(function (error) {
        state.busy = false;
        stop();
        showMessage(error && error.message === "jsQR" ? root.dataset.msgFailed : errorMessage(root, error));
      });
  }

  function reveal() {
    var root = el("qr-scanner");
    if (root) root.hidden = false;
  }

  if (!window.gatehouseScanner) {
    document.addEventListener("click", function (event) {
      if (event.target.closest("#scan-qr")) start();
      else if (event.target.closest("#scan-cancel")) { stop(); showMessage(""); }
    });
    // Leaving the page (a boosted link swaps the body) or hiding it turns the camera off.
    document.addEventListener("htmx:beforeSwap", function (event) {
      if (event.detail.target === document.body) stop();
    });
    document.addEventListener("visibilitychange", function () { if (document.hidden) stop(); });
    window.addEventListener("pagehide", stop);
    window.gatehouseScanner = {
      extractToken: extractToken, decodeImageData: decodeImageData, handleText: handleText,
      loadJsQR: function () { return loadJsQR(el("qr-scanner")); }, start: start, stop: stop, reveal: reveal,
    };
  }
  reveal();
})();
