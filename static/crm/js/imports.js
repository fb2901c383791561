// Import upload: drop zone, upload with a progress bar, and chunked resumable uploads for big files.
// Without JavaScript the form posts the file the ordinary way.
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("id_file");
  var zone = document.getElementById("drop-zone");
  var zoneName = document.getElementById("drop-zone-name");
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector(".progress-bar");
  var barOuter = box.querySelector(".progress");
  var statusText = document.getElementById("upload-status");
  var errorBox = document.getElementById("upload-error");
  var button = document.getElementById("upload-button");
  var threshold = parseInt(form.dataset.threshold, 10);
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var uploadsUrl = form.dataset.uploadsUrl;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var busy = false;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.classList.remove("d-none");
    box.classList.add("d-none");
    button.disabled = false;
    busy = false;
  }

  function setProgress(done, total, text) {
    var percent = total ? Math.min(100, Math.floor((done * 100) / total)) : 0;
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    barOuter.setAttribute("aria-valuenow", String(percent));
    if (text) statusText.textContent = text;
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  // --- Drop zone ---------------------------------------------------------------------------------
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("border-primary", "bg-primary-subtle");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.remove("border-primary", "bg-primary-subtle");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
  input.addEventListener("change", function () {
    var file = input.files[0];
    if (file) zoneName.textContent = file.name + " · " + megabytes(file.size);
    errorBox.classList.add("d-none");
  });

  // --- Requests ----------------------------------------------------------------------------------
  function request(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onProgress(event.loaded);
        });
      }
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
        else reject({ status: xhr.status, data: data });
      };
      xhr.onerror = function () { reject({ status: 0, data: null }); };
      xhr.send(body);
    });
  }

  function finish(data) {
    setProgress(1, 1, "Uploaded. Reading the file…");
    if (data && data.redirect) window.location.assign(data.redirect);
  }

  function failed(problem) {
    if (problem.data && problem.data.error) {
      showError(problem.data.error);
      if (problem.data.redirect) statusText.textContent = "";
    } else if (problem.status === 0) {
      showError("The connection was lost. Choose the file again to retry.");
    } else {
      showError("The upload was not accepted (" + problem.status + "). Please try again.");
    }
  }

  // --- Small files: one request --------------------------------------------------------------------
  function uploadWhole(file) {
    var body = new FormData();
    body.append("file", file);
    return request("POST", form.action, body, function (loaded) {
      setProgress(loaded, file.size, "Uploading " + megabytes(loaded) + " of " + megabytes(file.size));
    }).then(finish, failed);
  }

  // --- Big files: chunks, resumable ---------------------------------------------------------------
  function storageKey(file) {
    return "crm-import-upload:" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function startOrResume(file) {
    var saved = null;
    try { saved = window.localStorage.getItem(storageKey(file)); } catch (e) { saved = null; }
    var fresh = function () {
      var body = new FormData();
      body.append("name", file.name);
      body.append("size", String(file.size));
      return request("POST", uploadsUrl, body).then(function (state) {
        try { window.localStorage.setItem(storageKey(file), state.upload_id); } catch (e) { /* private mode */ }
        return state;
      });
    };
    if (!saved) return fresh();
    return request("GET", uploadsUrl + saved + "/").then(function (state) {
      return state.status === "uploading" ? state : fresh();
    }, fresh);
  }

  function sendChunk(file, state, index, doneBytes) {
    var start = index * state.chunk_size;
    var blob = file.slice(start, Math.min(file.size, start + state.chunk_size));
    var attempt = 0;
    var trySend = function () {
      var body = new FormData();
      body.append("index", String(index));
      body.append("chunk", blob, "chunk");
      return request("POST", uploadsUrl + state.upload_id + "/chunk/", body, function (loaded) {
        setProgress(doneBytes + loaded, file.size, "Uploading " + megabytes(doneBytes + loaded) + " of " + megabytes(file.size));
      }).catch(function (problem) {
        if (problem.status === 0 || problem.status >= 500) {
          attempt += 1;
          if (attempt > 30) throw problem;
          var wait = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 5)));
          statusText.textContent = "Connection lost: retrying in " + Math.round(wait / 1000) + " s (the upload continues where it stopped)…";
          return sleep(wait).then(trySend);
        }
        throw problem;
      });
    };
    return trySend();
  }

  function uploadChunked(file) {
    return startOrResume(file).then(function (state) {
      var received = {};
      state.received.forEach(function (i) { received[i] = true; });
      var doneBytes = 0;
      state.received.forEach(function (i) {
        doneBytes += Math.min(state.chunk_size, file.size - i * state.chunk_size);
      });
      if (state.received.length) statusText.textContent = "Resuming the upload…";
      var chain = Promise.resolve();
      for (var index = 0; index < state.chunks; index += 1) {
        if (received[index]) continue;
        (function (i) {
          chain = chain.then(function () {
            return sendChunk(file, state, i, doneBytes).then(function () {
              doneBytes += Math.min(state.chunk_size, file.size - i * state.chunk_size);
              setProgress(doneBytes, file.size);
            });
          });
        })(index);
      }
      return chain.then(function () {
        statusText.textContent = "Checking the file…";
        return request("POST", uploadsUrl + state.upload_id + "/complete/", new FormData());
      }).then(function (data) {
        try { window.localStorage.removeItem(storageKey(file)); } catch (e) { /* ignore */ }
        return data;
      }, function (problem) {
        if (problem.data && problem.data.status && problem.data.status !== "uploading") {
          try { window.localStorage.removeItem(storageKey(file)); } catch (e) { /* ignore */ }
        }
        throw problem;
      });
    }).then(finish, failed);
  }

  form.addEventListener("submit", function (event) {
    var file = input.files[0];
    if (!file || busy) return;
    event.preventDefault();
    if (file.size > maxBytes) {
      showError("The file is " + megabytes(file.size) + "; an import takes at most " + megabytes(maxBytes) + ". Split it into smaller files.");
      return;
    }
    if (file.size === 0) {
      showError("The file is empty.");
      return;
    }
    busy = true;
    button.disabled = true;
    errorBox.classList.add("d-none");
    box.classList.remove("d-none");
    setProgress(0, file.size, "Uploading…");
    if (file.size > threshold) uploadChunked(file);
    else uploadWhole(file);
  });
})();
