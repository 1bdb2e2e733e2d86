// "Add an estate" (enterprise console): the web address follows the name until it is
// typed by hand, and the country suggests the time zone, currency and language
// (data-country-defaults: {"GH": ["Africa/Accra", "GHS", "en"], …}, from CLDR).
(function () {
  function slugify(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60).replace(/-+$/, "");
  }

  function setup(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    var name = form.querySelector("[name=name]");
    var slug = form.querySelector("[name=slug]");
    var preview = form.querySelector("#slug-preview");
    var country = form.querySelector("[name=country]");
    var defaults = {};
    try { defaults = JSON.parse(form.dataset.countryDefaults || "{}"); } catch (e) { defaults = {}; }
    var typedSlug = Boolean(slug && slug.value);

    function showSlug() {
      if (preview) preview.textContent = slug.value ? "/e/" + slug.value + "/" : preview.dataset.empty;
    }
    if (name && slug) {
      name.addEventListener("input", function () {
        if (!typedSlug) { slug.value = slugify(name.value); showSlug(); }
      });
      slug.addEventListener("input", function () { typedSlug = slug.value !== ""; showSlug(); });
    }
    if (country) {
      country.addEventListener("change", function () {
        var d = defaults[country.value];
        if (!d) return;
        var fields = {timezone: d[0], currency: d[1], default_language: d[2]};
        Object.keys(fields).forEach(function (key) {
          var input = form.querySelector("[name=" + key + "]");
          if (input && fields[key]) input.value = fields[key];
        });
        var hint = form.querySelector("#country-hint");
        if (hint) hint.hidden = false;
      });
    }
  }

  function scan() { document.querySelectorAll("form.estate-form").forEach(setup); }
  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("htmx:load", scan);
  scan();
})();
