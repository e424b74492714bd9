// uslugi: small improvements on top of server-rendered pages. Everything
// works without this file; it adds a live countdown, a resend button that
// wakes up on time, and a password-strength meter.
(function () {
  "use strict";

  function countdown(el) {
    var left = parseInt(el.getAttribute("data-seconds-left"), 10);
    var template = el.getAttribute("data-template");
    var expired = el.getAttribute("data-expired");
    var started = Date.now();
    function tick() {
      var remaining = left - Math.floor((Date.now() - started) / 1000);
      if (remaining <= 0) {
        el.textContent = expired;
        return;
      }
      el.textContent = template.replace("{}", String(remaining));
      setTimeout(tick, 1000);
    }
    if (!isNaN(left)) tick();
  }

  function resendButton(button) {
    var at = parseInt(button.getAttribute("data-enable-at"), 10) * 1000;
    // The server's clock decides; the wait is measured from the page load.
    var wait = at - Date.now();
    if (isNaN(at) || wait <= 0) return;
    button.disabled = true;
    setTimeout(function () { button.disabled = false; }, Math.min(wait, 120000));
  }

  // A copy of uslugi_domain::password::estimated_bits; the server decides.
  function estimatedBits(password) {
    var chars = Array.from(password);
    var classes = {};
    chars.forEach(function (c, i) {
      var cls;
      if (c >= "0" && c <= "9") cls = "digit";
      else if (c >= "a" && c <= "z") cls = "lower";
      else if (c >= "A" && c <= "Z") cls = i === 0 ? null : "upper";
      else if ((c >= "\u0430" && c <= "\u044f") || c === "\u0451") cls = "cyrlower";
      else if ((c >= "\u0410" && c <= "\u042f") || c === "\u0401") cls = i === 0 ? null : "cyrupper";
      else cls = "other";
      if (cls) classes[cls] = true;
    });
    var sizes = { digit: 10, lower: 26, upper: 26, cyrlower: 33, cyrupper: 33, other: 33 };
    var charset = 0;
    Object.keys(classes).forEach(function (k) { charset += sizes[k]; });
    if (charset === 0) return 0;
    var seen = {};
    var length = 0;
    chars.forEach(function (c) { length += seen[c] ? 0.5 : 1; seen[c] = true; });
    return length * Math.log2(charset);
  }

  function strengthMeter(input) {
    var out = document.getElementById(input.getAttribute("data-strength-meter"));
    if (!out) return;
    input.addEventListener("input", function () {
      var p = input.value;
      if (!p) { out.textContent = ""; out.removeAttribute("data-level"); return; }
      var n = Array.from(p).length;
      var level = n < 8 || n > 128 ? "weak" : (estimatedBits(p) >= 45 ? "strong" : "medium");
      out.setAttribute("data-level", level);
      out.textContent = out.getAttribute("data-label") + " ";
      var strong = document.createElement("strong");
      strong.textContent = out.getAttribute("data-" + level);
      out.appendChild(strong);
    });
  }

  function init() {
    document.querySelectorAll("[data-countdown-until]").forEach(countdown);
    document.querySelectorAll("[data-enable-at]").forEach(resendButton);
    document.querySelectorAll("[data-strength-meter]").forEach(strengthMeter);
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
