// Gatehouse gate pages: one random id per device, kept in localStorage, sent with
// every gate request (header X-Gate-Device for htmx, cookie gate_device for page loads),
// so that a guard account works on the one device it is assigned to.
(function () {
  if (window.gatehouseGateDevice) return;
  var KEY = "gatehouse.gateDevice";
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var id;
  try {
    id = localStorage.getItem(KEY);
    if (!id) { id = newId(); localStorage.setItem(KEY, id); }
  } catch (e) {
    return; // no storage (private mode): the gate works without binding
  }
  window.gatehouseGateDevice = id;
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "gate_device=" + id + "; path=/; max-age=31536000; SameSite=Lax" + secure;
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.path.indexOf("/gate/") !== -1) event.detail.headers["X-Gate-Device"] = id;
  });
})();
