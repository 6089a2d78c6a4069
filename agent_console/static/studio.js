// Prompt studio: record a take with the microphone (MediaRecorder) and send it like an
// upload; play a prompt's clips one after another as the caller will hear them.
(function () {
  "use strict";

  function recorder(box) {
    var start = document.getElementById("record-start");
    var stop = document.getElementById("record-stop");
    var keep = document.getElementById("record-keep");
    var status = document.getElementById("record-status");
    var playback = document.getElementById("record-playback");
    var media = null;
    var chunks = [];
    var take = null;

    function say(text, isError) {
      status.textContent = text;
      status.className = isError ? "error" : "muted";
    }
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder)) {
      start.disabled = true;
      say(box.getAttribute("data-no-mic-text"), true);
      return;
    }
    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        chunks = [];
        take = null;
        keep.disabled = true;
        media = new MediaRecorder(stream);
        media.addEventListener("dataavailable", function (event) {
          if (event.data && event.data.size) chunks.push(event.data);
        });
        media.addEventListener("stop", function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          take = new Blob(chunks, { type: media.mimeType || "audio/webm" });
          playback.src = URL.createObjectURL(take);
          playback.hidden = false;
          keep.disabled = false;
          say("");
        });
        media.start();
        start.disabled = true;
        stop.disabled = false;
        say(box.getAttribute("data-recording-text"));
      }).catch(function () {
        say(box.getAttribute("data-no-mic-text"), true);
      });
    });
    stop.addEventListener("click", function () {
      if (media && media.state !== "inactive") media.stop();
      stop.disabled = true;
      start.disabled = false;
    });
    keep.addEventListener("click", function () {
      if (!take) return;
      var form = new FormData();
      var type = take.type || "audio/webm";
      form.append("csrf_token", box.getAttribute("data-csrf"));
      form.append("file", take, type.indexOf("ogg") >= 0 ? "take.ogg" : type.indexOf("mp4") >= 0 ? "take.m4a" : "take.webm");
      keep.disabled = true;
      say(box.getAttribute("data-uploading-text"));
      fetch(box.getAttribute("data-upload-url"), {
        method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (answer.ok && answer.data.url) {
          window.location.assign(answer.data.url);
        } else {
          keep.disabled = false;
          say(answer.data.error || "", true);
        }
      }).catch(function () {
        keep.disabled = false;
        say(box.getAttribute("data-no-mic-text"), true);
      });
    });
  }

  function previewPlayer(button) {
    var player = document.getElementById("preview-player");
    var urls = JSON.parse(document.getElementById("preview-sequence").textContent || "[]");
    var next = 0;
    player.addEventListener("ended", function () {
      next += 1;
      if (next < urls.length) {
        player.src = urls[next];
        player.play();
      } else {
        button.disabled = false;
      }
    });
    button.addEventListener("click", function () {
      if (!urls.length) return;
      next = 0;
      button.disabled = true;
      player.src = urls[0];
      player.play().catch(function () { button.disabled = false; });
    });
  }

  var box = document.getElementById("recorder");
  if (box) recorder(box);
  var play = document.getElementById("play-preview");
  if (play) previewPlayer(play);
})();
