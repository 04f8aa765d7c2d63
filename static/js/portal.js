// The portal's only script: upload progress bars and one-click buttons. Pages work without it.
(function () {
  "use strict";

  // A form marked data-once cannot be sent twice by a double click.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });

  // Upload forms: each chosen file goes in its own request, with its own progress bar.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var progressList = form.querySelector("[data-upload-progress]");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !input.files.length) { return; }
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var pending = files.length;
      var failed = 0;
      files.forEach(function (file) {
        var item = document.createElement("li");
        item.className = "mb-2";
        var label = document.createElement("div");
        label.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.className = "w-100";
        bar.setAttribute("aria-label", "Sending " + file.name);
        var status = document.createElement("div");
        status.className = "small";
        item.append(label, bar, status);
        progressList.append(item);

        var data = new FormData();
        data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
        data.append("kind", form.querySelector("[name=kind]").value);
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
            status.textContent = "Sent and checked.";
            status.className = "small text-success";
          } else {
            failed += 1;
            status.textContent = answer.error || "It did not arrive. Check your connection and try again.";
            status.className = "small text-danger";
            status.setAttribute("role", "alert");
          }
          pending -= 1;
          if (pending === 0) {
            input.value = "";
            // A moment to read "Sent and checked." before the list shows the new files.
            if (!failed) { window.setTimeout(function () { window.location.reload(); }, 800); }
          }
        });
        request.send(data);
      });
    });
  });
})();
