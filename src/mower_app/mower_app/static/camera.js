// The camera image with the segmentation overlay (GET /api/camera.jpg): fetched again every
// second while the page is visible, the next only once the last has loaded or failed. The
// panel shows from the first image on (no camera, no panel). Uses window.mowerApp from app.js.
'use strict';

(() => {
  const PERIOD_MS = 1000;
  const $ = (id) => document.getElementById(id);
  let loading = false;
  let started = false;

  function refresh() {
    if (loading || document.visibilityState !== 'visible' || $('main').hidden) return;
    loading = true;
    $('camera').src = `/api/camera.jpg?t=${Date.now()}`;  // a new URL: never the cached one
  }

  function start() {
    if (started) return;
    started = true;
    const image = $('camera');
    image.addEventListener('load', () => {
      loading = false;
      $('camera-panel').hidden = false;
    });
    image.addEventListener('error', () => {
      loading = false;  // none yet (404) or the mower away: the last image stays
    });
    refresh();
    window.setInterval(refresh, PERIOD_MS);
    document.addEventListener('visibilitychange', refresh);
  }

  document.addEventListener('DOMContentLoaded', () => {
    window.mowerApp.on('status', start);  // logged in, or the read-only view
  });
})();
