// The map's live layers (GET /api/overlay): the mowed layer, a PNG placed on its bounds in the
// lawn's metric frame (GET /api/coverage.png, fetched again when its version changes; under the
// plan), and the obstacles the camera found, as grey shapes. Checked every two seconds while
// the page is visible. Uses window.mowerApp from app.js (L.CRS.Simple: lat = y, lng = x).
'use strict';

(() => {
  const PERIOD_MS = 2000;
  const OBSTACLE_STYLE = { color: '#616161', weight: 1, fillColor: '#9e9e9e', fillOpacity: 0.6 };
  const state = { started: false, busy: false, version: null, mowed: null, found: null };

  function bounds(b) {
    const [x0, y0, x1, y1] = b;
    return L.latLngBounds([y0, x0], [y1, x1]);
  }

  function drawMowed(coverage, map) {
    if (!coverage || coverage.version === state.version) return;
    state.version = coverage.version;
    const url = `/api/coverage.png?v=${coverage.version}`;
    if (state.mowed) {
      state.mowed.setUrl(url);
      state.mowed.setBounds(bounds(coverage.bounds));
    } else {
      if (!map.getPane('mowed')) map.createPane('mowed');  // under the lawn's shapes and the plan
      state.mowed = L.imageOverlay(url, bounds(coverage.bounds), {
        pane: 'mowed', className: 'mowed-layer', interactive: false,
      }).addTo(map);
    }
    map.getContainer().dataset.mowedVersion = String(coverage.version);
  }

  function drawObstacles(obstacles, map) {
    const text = JSON.stringify(obstacles);
    if (state.found && state.found.text === text) return;
    if (state.found) state.found.layer.remove();
    const layer = L.geoJSON(obstacles, {
      coordsToLatLng: (p) => L.latLng(p[1], p[0]),
      style: () => OBSTACLE_STYLE,
      pmIgnore: true,  // the map editor neither edits nor snaps to these
      snapIgnore: true,
    }).bindTooltip('found by the camera').addTo(map);
    state.found = { text, layer };
  }

  async function refresh() {
    const map = window.mowerApp.map();
    if (state.busy || !map || document.visibilityState !== 'visible') return;
    state.busy = true;
    try {
      const result = await window.mowerApp.api('/api/overlay');
      if (result.ok) {
        drawMowed(result.body.coverage, map);
        drawObstacles(result.body.obstacles, map);
      }
    } finally {
      state.busy = false;
    }
  }

  function start() {
    if (state.started) return;
    state.started = true;
    refresh();
    window.setInterval(refresh, PERIOD_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    window.mowerApp.on('status', start);  // the map is there once the status comes
  });
})();
