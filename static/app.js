// batchtrack staff pages: the little behaviour htmx does not cover. No
// inline handlers anywhere, so a strict Content-Security-Policy
// (script-src 'self') can apply; everything is wired here by data attributes.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token of the page.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      e.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  // GS1 mod-10 check digit of the digits before it.
  function checkDigit(body) {
    var sum = 0;
    for (var i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) {
      sum += (body.charCodeAt(i) - 48) * w;
    }
    return (10 - (sum % 10)) % 10;
  }

  // gs1Problem words what is wrong with a GTIN or GLN, "" when it is valid.
  function gs1Problem(kind, v) {
    if (v === "") return "";
    if (!/^[0-9]+$/.test(v)) return "must contain digits only";
    var lengths = kind === "gln" ? [13] : [8, 12, 13, 14];
    if (lengths.indexOf(v.length) < 0) {
      return kind === "gln" ? "must have 13 digits" : "must have 8, 12, 13 or 14 digits";
    }
    var want = checkDigit(v.slice(0, -1));
    if (want !== v.charCodeAt(v.length - 1) - 48) {
      return "has a wrong check digit (expected " + want + ")";
    }
    return "";
  }

  function validateGS1(input) {
    var kind = input.getAttribute("data-gs1");
    var problem = gs1Problem(kind, input.value.trim());
    input.setCustomValidity(problem ? (kind.toUpperCase() + " " + problem) : "");
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    var hint = document.getElementById(input.id + "-live");
    if (hint) {
      hint.textContent = problem ? kind.toUpperCase() + " " + problem : (input.value.trim() ? "Check digit OK" : "");
      hint.className = "live-check " + (problem ? "bad" : "ok");
    }
  }

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("input[data-gs1]")) validateGS1(t);
  });

  // Toasts go away by themselves, or with their close button.
  function armToasts(root) {
    root.querySelectorAll(".toast:not([data-armed])").forEach(function (t) {
      t.setAttribute("data-armed", "1");
      setTimeout(function () { t.remove(); }, 8000);
    });
  }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.closest) return;
    var close = t.closest("[data-dismiss]");
    if (close) {
      var box = close.closest(".toast, .flash");
      if (box) box.remove();
    }
    if (t.closest("[data-print]")) {
      window.print();
    }
  });

  // A "select all" checkbox ticks every checkbox of its group.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("input[data-select-all]")) {
      document.querySelectorAll('input[name="' + t.getAttribute("data-select-all") + '"]').forEach(function (cb) {
        cb.checked = t.checked;
      });
    }
  });

  // Stock forms. A picker's result fills its row's hidden fields and says
  // the lot's unit and state; a product choice shows its unit beside the
  // quantity; rows are added from a <template> and removed.
  function nextIndex(list) {
    var max = -1;
    list.querySelectorAll("[data-row]").forEach(function (r) {
      var m = /\[(\d+)\]$/.exec(r.getAttribute("data-row"));
      if (m && +m[1] > max) max = +m[1];
    });
    return max + 1;
  }

  function fillPick(btn) {
    var row = btn.closest("[data-picker]");
    if (!row) return;
    var id = row.querySelector('[data-pick-field="id"]');
    if (id) id.value = btn.getAttribute("data-id");
    var search = row.querySelector('input[type="search"]');
    if (search) search.value = btn.getAttribute("data-label");
    var unit = btn.getAttribute("data-unit");
    if (unit !== null) {
      var u = row.querySelector(".unit");
      if (u) u.textContent = unit;
    }
    var detail = row.querySelector('[data-pick-show="detail"]');
    if (detail) {
      detail.textContent = "";
      var badge = btn.querySelector(".badge");
      if (badge) detail.appendChild(badge.cloneNode(true));
      var avail = btn.querySelector('[data-testid="lot-option-available"]');
      if (avail) detail.appendChild(document.createTextNode(" " + avail.textContent + " available"));
    }
    var results = row.querySelector(".picker-results");
    if (results) results.textContent = "";
    if (search) search.focus();
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.closest) return;
    var pick = t.closest("[data-pick]");
    if (pick) { fillPick(pick); return; }
    var add = t.closest("[data-add-row]");
    if (add) {
      e.preventDefault(); // without JavaScript the button posts and the server adds the row
      var name = add.getAttribute("data-add-row");
      var tpl = document.getElementById(name + "-template");
      var list = document.getElementById(name + "-rows");
      if (!tpl || !list) return;
      var html = tpl.innerHTML.split("__i__").join(String(nextIndex(list)));
      list.insertAdjacentHTML("beforeend", html);
      if (window.htmx) window.htmx.process(list.lastElementChild);
      var first = list.lastElementChild && list.lastElementChild.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    var remove = t.closest("[data-remove-row]");
    if (remove) {
      var r = remove.closest("[data-row]");
      if (r) r.remove();
    }
  });

  // Typing in a picker forgets the lot chosen before.
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches('[data-picker] input[type="search"]')) {
      var id = t.closest("[data-picker]").querySelector('[data-pick-field="id"]');
      if (id) id.value = "";
    }
  });

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("select[data-unit-target]")) {
      var u = document.getElementById(t.getAttribute("data-unit-target"));
      var opt = t.options[t.selectedIndex];
      if (u) u.textContent = opt ? (opt.getAttribute("data-unit") || "") : "";
    }
  });

  // A picker's late answer does not reopen the list once a choice is made.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = e.detail.target;
    if (!t || !t.classList || !t.classList.contains("picker-results")) return;
    var row = t.closest("[data-picker]");
    var id = row && row.querySelector('[data-pick-field="id"]');
    if (id && id.value) e.detail.shouldSwap = false;
  });

  // The FEFO helper appends rows numbered after the last one, in place of
  // rows left empty.
  document.addEventListener("htmx:configRequest", function (e) {
    var base = e.detail.elt && e.detail.elt.getAttribute && e.detail.elt.getAttribute("data-row-base");
    if (!base) return;
    var list = document.getElementById(base);
    if (!list) return;
    list.querySelectorAll("[data-row]").forEach(function (r) {
      var id = r.querySelector('[data-pick-field="id"]');
      var q = r.querySelector('input[name$=".quantity"]');
      if (id && !id.value && q && !q.value) r.remove();
    });
    list.querySelectorAll(".alert").forEach(function (a) { a.remove(); });
    e.detail.parameters.start = String(nextIndex(list));
  });

  document.addEventListener("htmx:afterSwap", function () { armToasts(document); });
  document.addEventListener("htmx:oobAfterSwap", function () { armToasts(document); });
  document.addEventListener("DOMContentLoaded", function () {
    armToasts(document);
    document.querySelectorAll("input[data-gs1]").forEach(function (i) { if (i.value) validateGS1(i); });
  });
})();
