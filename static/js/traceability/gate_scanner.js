// The gate's QR scanner: the camera's frames are decoded by ZXing (static/vendor/zxing-wasm,
// WebAssembly served from this site); the first code read fills the lookup form and submits
// it, so the page shows what the code names. Without a camera the clerk types the code.
(function () {
  "use strict";

  const SCAN_EVERY_MS = 200;

  function start(box) {
    const button = box.querySelector("[data-scan]");
    const video = box.querySelector("[data-scan-video]");
    const status = box.querySelector("[data-scan-status]");
    const form = document.querySelector("[data-lookup-form]");
    const input = form && form.querySelector("input[name=code]");
    const wasmUrl = box.dataset.wasmUrl;
    let stream = null;

    function say(key) {
      status.hidden = false;
      status.textContent = status.dataset[key] || "";
    }

    if (!window.ZXingWASM || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      button.hidden = true;
      say("textNoCamera");
      return;
    }
    // Never the build's default CDN: the wasm comes from this site's static files.
    window.ZXingWASM.setZXingModuleOverrides({
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path),
    });

    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });

    function stop() {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
    }

    async function scanFrame() {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const frame = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = await window.ZXingWASM.readBarcodes(frame, {
          formats: ["QRCode"],
          tryHarder: true,
          maxNumberOfSymbols: 1,
        });
        const read = found.find((result) => result.isValid && result.text);
        if (read) {
          stop();
          input.value = read.text;
          form.submit();
          return;
        }
      }
      window.setTimeout(scanFrame, SCAN_EVERY_MS);
    }

    button.addEventListener("click", async () => {
      if (stream) return;
      say("textStarting");
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: { ideal: "environment" } },
          audio: false,
        });
      } catch (error) {
        say("textNoCamera");
        input.focus();
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      say("textLooking");
      scanFrame();
    });
    window.addEventListener("pagehide", stop);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-gate-scanner]").forEach(start);
  });
})();
