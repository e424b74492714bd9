// uslugi: small improvements on top of server-rendered pages. Everything
// works without this file; it adds a live countdown, a resend button that
// wakes up on time, a password-strength meter, checks of the personal data
// form as a person types (the server checks again, and decides), and live
// updates of the registry checks.
(function () {
  "use strict";

  // The plural form of a count, as the server's i18n::Plural picks it
  // (CLDR rules for integers): Russian one/few/many, English one/other.
  function pluralForm(rule, n) {
    n = Math.abs(n);
    if (rule === "ru") {
      var d = n % 10, h = n % 100;
      if (d === 1 && h !== 11) return "one";
      if (d >= 2 && d <= 4 && (h < 12 || h > 14)) return "few";
      return "many";
    }
    return n === 1 ? "one" : "many";
  }

  function countdown(el) {
    var left = parseInt(el.getAttribute("data-seconds-left"), 10);
    var rule = el.getAttribute("data-plural");
    var expired = el.getAttribute("data-expired");
    var started = Date.now();
    function tick() {
      var remaining = left - Math.floor((Date.now() - started) / 1000);
      if (remaining <= 0) {
        el.textContent = expired;
        return;
      }
      var template = el.getAttribute("data-" + pluralForm(rule, remaining));
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

  // SNILS check number: as uslugi_domain::snils::check_number_for.
  function snilsOk(digits) {
    var sum = 0;
    for (var i = 0; i < 9; i++) sum += parseInt(digits[i], 10) * (9 - i);
    var check = sum < 100 ? sum : (sum === 100 || sum === 101 ? 0 : sum % 101);
    if (check === 100) check = 0;
    var first = parseInt(digits.slice(0, 9), 10);
    if (first <= 1001998) return true;
    return check === parseInt(digits.slice(9), 10);
  }

  // The format each kind of field takes; the messages come from the page.
  var CHECKS = {
    snils: function (v) {
      var d = v.replace(/[\s-]/g, "");
      if (!/^\d*$/.test(d)) return "chars";
      if (d.length !== 11) return "length";
      return snilsOk(d) ? null : "check";
    },
    passport: function (v) { return /^\d{10}$/.test(v.replace(/[\s-]/g, "")) ? null : "format"; },
    department: function (v) { return /^\d{6}$/.test(v.replace(/[\s-]/g, "")) ? null : "format"; },
    postal: function (v) { return /^\d{6}$/.test(v.trim()) ? null : "format"; },
    date: function (v) {
      var m = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(v.trim()) || null;
      var iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v.trim());
      var d, mo, y;
      if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; } else if (iso) { y = +iso[1]; mo = +iso[2]; d = +iso[3]; } else return "format";
      var date = new Date(Date.UTC(y, mo - 1, d));
      return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? null : "format";
    },
    name: function () { return null; }
  };

  function liveCheck(input) {
    var kind = input.getAttribute("data-check");
    var check = CHECKS[kind];
    var form = input.form;
    var out = document.getElementById(input.id + "-error");
    if (!check || !form || !out) return;
    function run() {
      var v = input.value;
      var problem = v.trim() === "" ? null : check(v);
      var text = problem ? form.getAttribute("data-msg-" + kind + "-" + problem) : "";
      if (text) {
        out.textContent = text;
        out.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.closest(".field").classList.add("has-error");
      } else if (!input.hasAttribute("data-server-error")) {
        out.textContent = "";
        out.hidden = true;
        input.removeAttribute("aria-invalid");
        input.closest(".field").classList.remove("has-error");
      }
    }
    if (input.getAttribute("aria-invalid") === "true") input.setAttribute("data-server-error", "");
    input.addEventListener("blur", run);
    input.addEventListener("input", function () {
      input.removeAttribute("data-server-error");
      if (input.getAttribute("aria-invalid") === "true") run();
    });
  }

  // «Совпадает с адресом регистрации» hides the second address.
  function sameAddress(box) {
    var actual = document.getElementById("actual-address");
    if (!actual) return;
    function apply() { actual.hidden = box.checked; }
    box.addEventListener("change", apply);
    apply();
  }

  // The check page follows the registries' answers as they come.
  function verificationEvents(el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.getAttribute("data-events"));
    source.addEventListener("state", function (e) {
      var state;
      try { state = JSON.parse(e.data); } catch (err) { return; }
      state.checks.forEach(function (c) {
        var li = document.getElementById("check-" + c.registry);
        if (!li) return;
        li.className = "check check-" + c.status;
        li.querySelector(".check-state").textContent = c.status_text;
        li.querySelector(".check-reason").textContent = c.reason_text || "";
      });
      if (state.status !== "in_progress") {
        source.close();
        // The result page differs in more than the two lines: load it.
        window.location.reload();
      }
    });
    source.onerror = function () {
      // The browser reconnects by itself; after the stream ends for good,
      // reloading shows the final state.
      if (source.readyState === EventSource.CLOSED) window.location.reload();
    };
  }

  // A page that waits for the server (a registration at a service center
  // under check) asks again every few seconds, and reloads only once the
  // state has changed, so a screen reader is not interrupted for nothing.
  function pollStatus(el) {
    var id = el.getAttribute("data-poll-status");
    var status = el.getAttribute("data-status");
    function ask() {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html").getElementById(id);
          if (next && next.getAttribute("data-status") !== status) window.location.reload();
          else window.setTimeout(ask, 3000);
        })
        .catch(function () { window.setTimeout(ask, 5000); });
    }
    window.setTimeout(ask, 3000);
  }

  function init() {
    document.querySelectorAll("[data-countdown-until]").forEach(countdown);
    document.querySelectorAll("[data-enable-at]").forEach(resendButton);
    document.querySelectorAll("[data-strength-meter]").forEach(strengthMeter);
    document.querySelectorAll("input[data-check]").forEach(liveCheck);
    var same = document.getElementById("same");
    if (same) sameAddress(same);
    var v = document.querySelector("[data-events]");
    if (v) verificationEvents(v);
    document.querySelectorAll("[data-poll-status]").forEach(pollStatus);
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
