// Editing the lawn map in the app (Leaflet-Geoman, vendored from npm): draw and reshape
// boundaries, keep-outs, obstacles and navigation areas, move or delete them, save (the mower
// checks the map, plans on it, and keeps it as a new version), restore an old version,
// download one, upload a GeoJSON file. A refused save shows the reason on the shape at fault
// and changes nothing. The dock is a marker: drag it, or Place dock and click the map; its
// heading (a number, drawn as an arrow) is which way the docked mower faces (ENU degrees,
// counter-clockwise from east). The zones' names, order and settings are zones.js's panel.
// Coordinates are the lawn's metres (L.CRS.Simple: lng = x, lat = y).
'use strict';

(() => {
  const edit = {
    layer: null, base: null, properties: {}, hidden: null, deleting: false,
    dock: null, arrow: null, placing: false,
  };
  const ARROW_M = 0.8; // the heading arrow's length on the map, metres
  const HEAD_M = 0.25; // its head's barbs
  const $ = (id) => document.getElementById(id);
  const mower = () => window.mowerApp;

  function say(text, refused = false) {
    const out = $('map-message');
    out.textContent = text;
    out.classList.toggle('refused', refused);
  }

  async function loadVersions() {
    const result = await mower().api('/api/maps');
    if (!result.ok) {
      $('map-panel').hidden = result.status !== 503;
      if (result.status === 503) say(result.body.error, true);
      return null;
    }
    const select = $('map-versions');
    select.replaceChildren();
    for (const v of [...result.body.versions].reverse()) {
      const when = v.saved.replace('T', ' ').slice(0, 16);
      select.add(new Option(`${v.version}: ${when} ${v.note}`, String(v.version)));
    }
    select.value = String(result.body.current);
    pickVersion();
    return result.body.current;
  }

  function pickVersion() {
    $('map-download').href = `/api/maps/${$('map-versions').value}`;
  }

  async function startEditing() {
    const current = await loadVersions();
    const map = await mower().api('/api/map');
    if (current === null || !map.ok) return;
    edit.base = current;
    edit.properties = map.body.lawn.properties || {};
    edit.hidden = mower().lawnLayer();
    if (edit.hidden) edit.hidden.remove();
    edit.layer = L.geoJSON(map.body.lawn, {
      style: (feature) => mower().roleStyle(feature.properties.role),
      pointToLayer: (feature, latlng) => (feature.properties.role === 'dock'
        ? dockMarker(latlng)
        : L.circleMarker(latlng, { radius: 7, color: '#ef6c00' })),
    }).addTo(mower().map());
    edit.layer.eachLayer((layer) => {
      if (layer.pm && !(layer instanceof L.CircleMarker)) {
        layer.pm.enable({ allowSelfIntersection: true });
      }
    });
    edit.dock = edit.layer.getLayers().find((l) => l.feature.properties.role === 'dock') || null;
    $('dock-heading').value = String(edit.dock?.feature.properties.heading_deg ?? 0);
    setEditing(true);
    drawDock();
    window.mowerZones.edit(edit.layer.getLayers(), edit.properties.mowing || {});
    say(`editing version ${current}: drag the corners, draw new shapes, then Save`);
  }

  // -- the dock ----------------------------------------------------------------------------
  function dockMarker(latlng) {
    // not Geoman's (pmIgnore): Leaflet's own dragging; never snapped to, never deleted
    const icon = L.divIcon({ className: 'dock-marker', iconSize: [18, 18] });
    const marker = L.marker(latlng, {
      icon, draggable: true, pmIgnore: true, snapIgnore: true, title: 'the dock: drag it',
      zIndexOffset: 1000,
    });
    marker.on('drag', drawDock);
    marker.on('dragend', () => {
      clearFault(marker);
      say(`dock moved to ${where(marker)}: Save to use it`);
    });
    return marker;
  }

  function where(marker) {
    const p = marker.getLatLng();
    return `${p.lng.toFixed(2)}, ${p.lat.toFixed(2)} m`;
  }

  function headingDeg() {
    const value = Number($('dock-heading').value);
    return $('dock-heading').value.trim() !== '' && Number.isFinite(value) ? value : null;
  }

  function drawDock() {
    if (edit.arrow) edit.arrow.remove();
    edit.arrow = null;
    const marker = edit.dock;
    $('dock-where').textContent = marker ? `at ${where(marker)}` : 'no dock yet';
    if (!marker || !edit.layer) return;
    const heading = marker.feature.properties.heading_deg ?? 0;
    const p = marker.getLatLng();
    const at = (bearing, length, from = [p.lng, p.lat]) => {
      const a = (bearing * Math.PI) / 180;
      return [from[0] + length * Math.cos(a), from[1] + length * Math.sin(a)];
    };
    const tip = at(heading, ARROW_M);
    const lines = [[[p.lng, p.lat], tip], [tip, at(heading + 150, HEAD_M, tip)],
      [tip, at(heading - 150, HEAD_M, tip)]];
    edit.arrow = L.polyline(lines.map((line) => line.map(([x, y]) => L.latLng(y, x))), {
      color: '#ef6c00', weight: 3, interactive: false, pmIgnore: true, snapIgnore: true,
      className: 'dock-heading',
    }).addTo(mower().map());
  }

  function setHeading() {
    const heading = headingDeg();
    $('dock-heading').classList.toggle('invalid', heading === null);
    if (heading === null || !edit.dock) return;
    edit.dock.feature.properties.heading_deg = heading;
    clearFault(edit.dock);
    drawDock();
  }

  function startPlacing() {
    const map = mower().map();
    map.pm.disableDraw();
    if (edit.deleting) toggleDelete();
    edit.placing = true;
    $('dock-place').classList.add('active');
    map.getContainer().classList.add('placing');
    say('click the map where the dock stands');
  }

  function stopPlacing() {
    edit.placing = false;
    $('dock-place').classList.remove('active');
    const map = mower().map();
    if (map) map.getContainer().classList.remove('placing');
  }

  function place(event) {
    if (!edit.placing || !edit.layer) return;
    stopPlacing();
    if (edit.dock) {
      edit.dock.setLatLng(event.latlng);
      clearFault(edit.dock);
    } else {
      edit.dock = dockMarker(event.latlng);
      edit.dock.feature = {
        type: 'Feature',
        properties: { role: 'dock', name: 'dock', heading_deg: headingDeg() ?? 0 },
      };
      edit.layer.addLayer(edit.dock);
    }
    drawDock();
    say(`dock placed at ${where(edit.dock)}: set its heading, then Save`);
  }

  function clearFault(layer) {
    if (!layer.faulty) return;
    layer.faulty = false;
    layer.unbindTooltip();
    if (layer.setStyle) layer.setStyle(mower().roleStyle(layer.feature?.properties?.role));
    layer.getElement?.()?.classList.remove('fault');
  }

  function setEditing(on) {
    $('map-edit-tools').hidden = !on;
    $('dock-tools').hidden = !on;
    $('map-view-tools').hidden = on;
    if (!on) {
      const map = mower().map();
      map.pm.disableDraw();
      if (edit.deleting) map.pm.disableGlobalRemovalMode();
      edit.deleting = false;
      stopPlacing();
      $('shape-delete').classList.remove('active');
      if (edit.layer) edit.layer.remove();
      if (edit.arrow) edit.arrow.remove();
      edit.layer = edit.dock = edit.arrow = null;
      if (edit.hidden) edit.hidden.addTo(mower().map());
      edit.hidden = null;
      window.mowerZones.view();
    }
  }

  function draw() {
    stopPlacing();
    const role = $('shape-role').value;
    mower().map().pm.enableDraw('Polygon', {
      snappable: true,
      allowSelfIntersection: true, // the map checks say what is wrong, on the shape
      pathOptions: mower().roleStyle(role),
      templineStyle: { color: '#0d47a1' },
      hintlineStyle: { color: '#0d47a1', dashArray: [5, 5] },
    });
    say(`click the corners of the new ${role}; click the first corner again to close it`);
  }

  function created(event) {
    if (!edit.layer) return;
    const role = $('shape-role').value;
    const count = edit.layer.getLayers().length + 1;
    const name = $('shape-name').value.trim() || `${role} ${count}`;
    const layer = event.layer;
    mower().map().removeLayer(layer);
    layer.feature = { type: 'Feature', properties: { role, name } };
    layer.setStyle(mower().roleStyle(role));
    edit.layer.addLayer(layer);
    layer.pm.enable({ allowSelfIntersection: true });
    $('shape-name').value = '';
    window.mowerZones.sync(edit.layer.getLayers());
    say(`added ${role} '${name}': Save to use it`);
  }

  function toggleDelete() {
    stopPlacing();
    const map = mower().map();
    edit.deleting = !edit.deleting;
    if (edit.deleting) map.pm.enableGlobalRemovalMode();
    else map.pm.disableGlobalRemovalMode();
    $('shape-delete').classList.toggle('active', edit.deleting);
    say(edit.deleting ? 'click a shape to delete it' : '');
  }

  function removed(event) {
    if (!edit.layer || !edit.layer.hasLayer(event.layer)) return;
    edit.layer.removeLayer(event.layer);
    window.mowerZones.sync(edit.layer.getLayers());
  }

  function document_() {
    window.mowerZones.finish(); // the zones' order, when the owner changed it
    const features = [];
    edit.layer.eachLayer((layer) => {
      const feature = layer.toGeoJSON(9);
      feature.properties = { ...(layer.feature?.properties || {}) };
      features.push(feature);
    });
    return { type: 'FeatureCollection', properties: edit.properties, features };
  }

  async function save(doc, base, note) {
    const result = await mower().api('/api/maps', {
      method: 'POST',
      body: JSON.stringify({ map: doc, base_version: base, note }),
    });
    if (result.ok) {
      setEditing(false);
      await mower().reloadMap();
      await loadVersions();
      say(`saved as version ${result.body.version}: ${result.body.message}`);
      return;
    }
    say(result.body.error || `not saved (${result.status})`, true);
    if (edit.layer) edit.layer.eachLayer(clearFault); // only the latest fault is shown
    if (result.status === 422 && result.body.feature !== null && edit.layer) {
      showFault(result.body.feature, result.body.error);
    }
  }

  function showFault(index, text) {
    const layer = edit.layer.getLayers()[index];
    if (!layer) return;
    clearFault(layer);
    layer.faulty = true;
    if (layer.setStyle) layer.setStyle({ color: '#b3261e', weight: 4, dashArray: '6 4' });
    layer.getElement?.()?.classList.add('fault'); // the dock marker
    layer.bindTooltip(text, { permanent: true, className: 'fault-tooltip' }).openTooltip();
  }

  async function restore() {
    const version = Number($('map-versions').value);
    const current = await loadVersions();
    const result = await mower().api(`/api/maps/${version}/restore`, {
      method: 'POST',
      body: JSON.stringify({ base_version: current }),
    });
    if (!result.ok) {
      say(result.body.error || `not restored (${result.status})`, true);
      return;
    }
    await mower().reloadMap();
    await loadVersions();
    say(`version ${version} restored as version ${result.body.version}`);
  }

  async function upload() {
    const file = $('map-upload').files[0];
    $('map-upload').value = '';
    if (!file) return;
    let doc;
    try {
      doc = JSON.parse(await file.text());
    } catch (err) {
      say(`${file.name} is not GeoJSON: ${err.message}`, true);
      return;
    }
    const current = await loadVersions();
    await save(doc, current, `uploaded ${file.name}`.slice(0, 200));
  }

  document.addEventListener('DOMContentLoaded', () => {
    mower().on('login', (control) => {
      $('map-panel').hidden = !control;
      if (control) loadVersions();
    });
    $('map-edit').addEventListener('click', startEditing);
    $('map-cancel').addEventListener('click', () => {
      setEditing(false);
      say('');
    });
    $('shape-draw').addEventListener('click', draw);
    $('shape-delete').addEventListener('click', toggleDelete);
    $('map-save').addEventListener('click', () => save(document_(), edit.base, ''));
    $('map-versions').addEventListener('change', pickVersion);
    $('map-restore').addEventListener('click', restore);
    $('map-upload').addEventListener('change', upload);
    $('dock-place').addEventListener('click', () => {
      if (edit.placing) stopPlacing();
      else startPlacing();
    });
    $('dock-heading').addEventListener('input', setHeading);
    const whenMap = window.setInterval(() => {
      const map = mower().map();
      if (!map) return;
      window.clearInterval(whenMap);
      map.on('pm:create', created);
      map.on('pm:remove', removed);
      map.on('click', place);
    }, 100);
  });
})();
