// Gatehouse: keep what lives outside <body> in step after hx-boost swaps, which
// replace only the body: the page language, the estate colour and the CSRF token.
(function () {
  function pageMeta() {
    return document.getElementById("page-meta");
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = pageMeta();
    if (meta) event.detail.headers["X-CSRFToken"] = meta.dataset.csrf;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var meta = pageMeta();
    if (!meta) return;
    var root = document.documentElement;
    root.lang = meta.dataset.lang;
    if (meta.dataset.brand) root.style.setProperty("--brand", meta.dataset.brand);
    else root.style.removeProperty("--brand");
  });
})();
