// The portal's only script: upload progress bars, one-click buttons, call times in the
// family's own time zone, the reviewers' image stepper and opinion drafts saved as they
// type. Pages work without it.
(function () {
  "use strict";

  // A page whose form has errors moves focus to their list (read out by screen readers);
  // each line's link moves focus to its field.
  var summary = document.querySelector("[data-error-summary], [data-focus-on-load]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-error-summary] a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      }
    });
  });

  // Words the script writes, in the page's language: the upload form carries them.
  function say(form, name, value) {
    var template = (form && form.dataset["msg" + name]) || "";
    return template.replace("{name}", value || "");
  }

  // A form marked data-once cannot be sent twice by a double click.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });

  // Enter in a field marked data-enter-presses="<a button's id>" presses that button, not the
  // form's first one (the referral step's pediatrician address sends the link).
  document.querySelectorAll("[data-enter-presses]").forEach(function (field) {
    field.addEventListener("keydown", function (event) {
      var button = document.getElementById(field.dataset.enterPresses);
      if (event.key === "Enter" && button) {
        event.preventDefault();
        button.click();
      }
    });
  });

  // A small form that posts to url with the page's CSRF token and comes back to this page.
  function postButton(form, url, label, className) {
    var post = document.createElement("form");
    post.method = "post";
    post.action = url;
    post.className = "d-inline";
    [["csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value],
     ["next", window.location.pathname]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      post.append(input);
    });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = className;
    button.textContent = label;
    post.append(button);
    return post;
  }

  // What the check changed in the stored copy, and reports held aside from a CD.
  function showNotes(form, item, answer) {
    (answer.notes || []).forEach(function (note) {
      var line = document.createElement("div");
      line.className = "small";
      line.textContent = note;
      item.append(line);
    });
    (answer.held || []).forEach(function (held) {
      var offer = document.createElement("div");
      offer.className = "d-flex flex-wrap gap-2 mt-1";
      offer.append(
        postButton(form, held.add_url, say(form, "AddHeld", held.name), "btn btn-sm btn-outline-primary"),
        postButton(form, held.discard_url, say(form, "NoThanks"), "btn btn-sm btn-outline-secondary")
      );
      item.append(offer);
    });
  }

  // The panel as the server sees it now: the list of files (each with its state), the
  // status page's "Files sent", the step's "Still needed here" and the list of steps. Drawn by the same
  // templates as the page, so what the parent reads after an upload is what a reload shows.
  function showPanel(form, panel) {
    if (!panel) { return; }
    var list = form.parentElement.querySelector("[data-file-list]");
    if (list && typeof panel.files === "string") { list.innerHTML = panel.files; }
    var sent = document.querySelector("[data-files-sent]");
    if (sent && typeof panel.sent === "string") { sent.innerHTML = panel.sent; }
    var needed = document.querySelector("[data-still-needed]");
    if (needed) {
      needed.textContent = panel.still_needed || "";
      needed.hidden = !panel.still_needed;
    }
    // Redrawn only when it changed, and never under a step button that has the focus.
    var steps = document.querySelector("[data-wizard-steps]");
    if (steps && panel.steps && panel.steps !== steps.dataset.drawn &&
        !steps.contains(document.activeElement)) {
      steps.innerHTML = panel.steps;
      steps.dataset.drawn = panel.steps;
    }
    if (panel.checking) { watchPanel(form); }
  }

  // While a file waits for the worker (its preview, a study's details), ask again: after two
  // seconds, then a little less often (at most every ten seconds), for at most ten minutes
  // after the last upload; a reload shows the same thing.
  function watchPanel(form) {
    if (form.dataset.watching || !form.dataset.statusUrl) { return; }
    form.dataset.watching = "1";
    form.dataset.watchSince = form.dataset.watchSince || String(Date.now());
    var waited = Date.now() - Number(form.dataset.watchSince);
    var delay = Math.min(10000, 2000 + Math.floor(waited / 10));
    function ask() {
      var request = new XMLHttpRequest();
      request.open("GET", form.dataset.statusUrl);
      request.setRequestHeader("Accept", "application/json");
      request.addEventListener("loadend", function () {
        var panel = null;
        try { panel = JSON.parse(request.responseText); } catch (ignored) { panel = null; }
        delete form.dataset.watching;
        if (request.status !== 200 || !panel) { return; }
        if (panel.checking && Date.now() - Number(form.dataset.watchSince) > 600000) { panel.checking = false; }
        showPanel(form, panel);
      });
      request.send();
    }
    window.setTimeout(ask, delay);
  }

  // Upload forms: each chosen file goes in its own request, with its own progress bar.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var progressList = form.querySelector("[data-upload-progress]");
    if (form.parentElement.querySelector("[data-file-list] [data-preparing]")) { watchPanel(form); }
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !input.files.length) { return; }
      event.preventDefault();
      Array.prototype.slice.call(input.files).forEach(function (file) {
        var item = document.createElement("li");
        item.className = "mb-2";
        var label = document.createElement("div");
        label.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.className = "w-100";
        bar.setAttribute("aria-label", say(form, "Sending", file.name));
        var status = document.createElement("div");
        status.className = "small";
        item.append(label, bar, status);
        progressList.append(item);

        var data = new FormData();
        data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
        data.append("kind", form.querySelector("[name=kind]").value);
        data.append("panel", form.querySelector("[name=panel]").value);
        data.append("next", window.location.pathname);
        data.append("file", file);
        var request = new XMLHttpRequest();
        request.open("POST", form.action);
        request.setRequestHeader("Accept", "application/json");
        request.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
        });
        request.addEventListener("loadend", function () {
          var answer = {};
          try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = {}; }
          if (request.status === 201) {
            bar.value = 100;
            status.textContent = say(form, "Sent");
            status.className = "small text-success";
            form.dataset.watchSince = String(Date.now());
            showPanel(form, answer.panel);
            showNotes(form, item, answer);
          } else {
            status.textContent = answer.error || say(form, "Failed");
            status.className = "small text-danger";
            status.setAttribute("role", "alert");
          }
        });
        request.send(data);
      });
      input.value = "";
    });
  });
  // Call times are shown in the browser's time zone, unless the family picked one already.
  var zonePicker = document.querySelector("select[data-detect-zone]");
  var query = new URLSearchParams(window.location.search);
  if (zonePicker && !query.has("tz") && window.Intl) {
    var detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (detected && detected !== zonePicker.value) {
      query.set("tz", detected);
      window.location.replace(window.location.pathname + "?" + query.toString());
    }
  }
  // Image stepper: one preview at a time, with buttons and the arrow keys. Each image is
  // fetched through the logged door when it is shown.
  document.querySelectorAll("[data-stepper]").forEach(function (stepper) {
    var items = stepper.querySelectorAll("[data-stepper-item]");
    var image = stepper.querySelector("[data-stepper-image]");
    var counter = stepper.querySelector("[data-stepper-counter]");
    var label = stepper.querySelector("[data-stepper-label]");
    var list = stepper.querySelector(".stepper-list");
    var current = 0;
    if (list) { list.hidden = true; }
    stepper.tabIndex = 0;
    function show(index) {
      current = Math.max(0, Math.min(items.length - 1, index));
      image.src = items[current].href;
      image.alt = items[current].dataset.label;
      counter.textContent = (current + 1) + " / " + items.length;
      label.textContent = items[current].dataset.label;
    }
    stepper.querySelector("[data-stepper-previous]").addEventListener("click", function () { show(current - 1); });
    stepper.querySelector("[data-stepper-next]").addEventListener("click", function () { show(current + 1); });
    stepper.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight" || event.key === "ArrowDown") { show(current + 1); event.preventDefault(); }
      if (event.key === "ArrowLeft" || event.key === "ArrowUp") { show(current - 1); event.preventDefault(); }
    });
  });

  // Opinion drafts: saved on the server a moment after the reviewer stops typing, and kept
  // in this tab (sessionStorage, gone when it closes) until the server has them, so a dropped
  // connection loses nothing.
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var url = form.dataset.autosave;
    var key = form.dataset.autosaveKey;
    var status = form.querySelector("[data-autosave-status]");
    var timer = null;
    function values() {
      var data = {};
      new FormData(form).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken") { return; }
        (data[name] = data[name] || []).push(value);
      });
      return data;
    }
    function restore(data) {
      form.querySelectorAll("input, textarea, select").forEach(function (field) {
        if (!field.name || field.name === "csrfmiddlewaretoken" || field.type === "hidden") { return; }
        var saved = data[field.name] || [];
        if (field.type === "radio" || field.type === "checkbox") {
          field.checked = saved.indexOf(field.value) !== -1;
        } else if (saved.length) {
          field.value = saved[0];
        }
      });
    }
    function save() {
      var body = new FormData(form);
      var sending = window.sessionStorage.getItem(key);
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.addEventListener("loadend", function () {
        var answer = {};
        try { answer = JSON.parse(request.responseText); } catch (e) { answer = {}; }
        if (request.status === 200 && answer.saved) {
          // Anything typed while this save was on its way is not on the server yet: it stays
          // in the tab (and the status stays "Saving…") until its own save succeeds.
          if (window.sessionStorage.getItem(key) !== sending) { return; }
          window.sessionStorage.removeItem(key);
          status.textContent = "Draft saved at " + answer.saved_at + ".";
        } else if (request.status === 0) {
          status.textContent = "Not saved yet: no connection. What you type is kept in this tab and saved when the connection is back.";
        } else {
          status.textContent = answer.error || "Not saved: please use “Save draft”.";
        }
      });
      request.send(body);
    }
    var stored = window.sessionStorage.getItem(key);
    if (stored) {
      try {
        restore(JSON.parse(stored));
        status.textContent = "Restored what you typed before the connection dropped; saving it now.";
        save();
      } catch (e) { window.sessionStorage.removeItem(key); }
    }
    function changed() {
      window.sessionStorage.setItem(key, JSON.stringify(values()));
      status.textContent = "Saving…";
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 1500);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // A measurement from the imaging viewer, cited at the end of the findings.
    form.querySelectorAll("[data-cite]").forEach(function (button) {
      button.addEventListener("click", function () {
        var findings = form.querySelector("[name=findings]");
        findings.value = findings.value.replace(/\s+$/, "") + (findings.value.trim() ? "\n" : "") + button.dataset.cite;
        findings.focus();
        changed();
      });
    });
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      window.sessionStorage.removeItem(key);
    });
    window.addEventListener("online", function () {
      if (window.sessionStorage.getItem(key)) { save(); }
    });
  });
})();
