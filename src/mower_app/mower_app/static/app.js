// The owner's app: log in, watch the mower live on its lawn, command it. No build step; the
// only library is Leaflet (vendored from npm, see web/), drawing in the lawn's own metric frame
// (L.CRS.Simple: 1 unit = 1 m, latitude = y, longitude = x). Nothing is loaded from elsewhere.
'use strict';

const app = {
  csrf: null,
  readOnly: false,
  socket: null,
  retryMs: 1000,
  map: null,
  lawn: null,
  plan: null,
  planVersion: null,
  robot: null,
  heading: null,
  trail: null,
  status: null,
};

const ROLE_STYLE = {
  boundary: { color: '#2f7d32', weight: 2, fillColor: '#7cc46f', fillOpacity: 0.35 },
  keepout: { color: '#b3261e', weight: 2, fillColor: '#e57373', fillOpacity: 0.45 },
  obstacle: { color: '#5d4037', weight: 2, fillColor: '#8d6e63', fillOpacity: 0.6 },
  navigation: { color: '#8d7b54', weight: 1, fillColor: '#d7c9a3', fillOpacity: 0.6 },
};
// which buttons make sense in which mission state (the mower decides; this only guides)
const ENABLED = {
  start: ['IDLE', 'CHARGING', 'ERROR', 'PAUSED'],
  pause: ['UNDOCKING', 'MOWING', 'DISCOVERING', 'RETURNING', 'DOCKING'],
  resume: ['PAUSED', 'ERROR'],
  dock: ['IDLE', 'UNDOCKING', 'MOWING', 'DISCOVERING', 'PAUSED', 'ERROR', 'RETURNING',
    'DOCKING', 'CHARGING'],
};

const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (app.csrf) headers['X-CSRF-Token'] = app.csrf;
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', ...options, headers });
  } catch (err) {
    return { ok: false, status: 0, body: { error: 'the mower does not answer' } };
  }
  let body = {};
  try {
    body = await response.json();
  } catch (err) {
    body = {};
  }
  return { ok: response.ok, status: response.status, body };
}

function show(view) {
  $('login').hidden = view !== 'login';
  $('main').hidden = view !== 'main';
  $('estop').hidden = view !== 'main' || app.readOnly && !app.csrf;
  if (view === 'main') {
    const control = Boolean(app.csrf);
    for (const callback of listeners.login) callback(control);
    $('controls').hidden = !control;
    $('logout').hidden = !control;
    $('read-only-note').hidden = control;
    initMap();
    connect();
  } else {
    $('password').focus();
  }
}

async function boot() {
  const session = await api('/api/session');
  app.readOnly = Boolean(session.body.read_only_view);
  if (session.body.authenticated) {
    app.csrf = session.body.csrf;
    show('main');
  } else if (app.readOnly) {
    show('main');
  } else {
    show('login');
  }
}

async function login(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  $('login-button').disabled = true;
  const result = await api('/api/login', {
    method: 'POST',
    body: JSON.stringify({ password: $('password').value }),
  });
  $('login-button').disabled = false;
  $('password').value = '';
  if (!result.ok) {
    $('login-error').textContent = result.body.error || `login failed (${result.status})`;
    return;
  }
  app.csrf = result.body.csrf;
  if (app.socket) app.socket.close();
  show('main');
}

async function logout() {
  await api('/api/logout', { method: 'POST' });
  app.csrf = null;
  if (app.socket) app.socket.close();
  show(app.readOnly ? 'main' : 'login');
}

async function command(name) {
  let zone = Number($('zone').value || 0);
  if (name === 'start' && zone > 0) name = 'start_zone';
  else zone = 0;
  const result = await api(`/api/command/${name}`, {
    method: 'POST',
    body: JSON.stringify(zone ? { zone } : {}),
  });
  const out = $('command-result');
  if (result.status === 401) {
    app.csrf = null;
    show('login');
    $('login-error').textContent = 'your session ended: log in again';
    return;
  }
  out.classList.toggle('refused', !result.ok);
  out.textContent = result.body.message || result.body.error || `failed (${result.status})`;
}

// -- the map -------------------------------------------------------------------------------
function xy(point) {
  return L.latLng(point[1], point[0]);
}

function initMap() {
  if (app.map) return;
  app.map = L.map('map', { crs: L.CRS.Simple, minZoom: -5, maxZoom: 6, zoomSnap: 0.25 });
  app.map.attributionControl.setPrefix(false);
  // the map editor (map_edit.js) neither edits nor snaps to these (pmIgnore, snapIgnore)
  const drawn = { pmIgnore: true, snapIgnore: true };
  app.trail = L.polyline([], { color: '#1565c0', weight: 2, opacity: 0.5, ...drawn })
    .addTo(app.map);
  app.plan = L.polyline([], {
    color: '#37474f', weight: 1, opacity: 0.6, dashArray: '4 4', ...drawn,
  }).addTo(app.map);
  app.robot = L.circleMarker([0, 0], {
    radius: 9, color: '#0d47a1', weight: 3, fillColor: '#42a5f5', fillOpacity: 1, ...drawn,
  });
  app.heading = L.polyline([], { color: '#0d47a1', weight: 4, ...drawn });
  loadMap();
}

async function loadMap() {
  const result = await api('/api/map');
  if (!result.ok) return;
  drawLawn(result.body.lawn);
  drawPlan(result.body.plan);
}

function drawLawn(geojson) {
  if (app.lawn) app.lawn.remove();
  app.lawn = L.geoJSON(geojson, {
    coordsToLatLng: xy,
    style: (feature) => ROLE_STYLE[feature.properties.role] || ROLE_STYLE.boundary,
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      radius: 6, color: '#ef6c00', weight: 2, fillColor: '#ffb74d', fillOpacity: 1,
    }).bindTooltip(feature.properties.name || feature.properties.role),
    onEachFeature: (feature, layer) => {
      if (feature.geometry.type !== 'Point') {
        layer.bindTooltip(`${feature.properties.name} (${feature.properties.role})`);
      }
    },
  }).addTo(app.map);
  app.lawn.bringToBack();
  const bounds = app.lawn.getBounds();
  if (bounds.isValid()) app.map.fitBounds(bounds.pad(0.05));
  // zone order (mower_maps.LawnMap.zones): by properties.order, unordered ones last, file order
  const rank = (f) => (Number.isInteger(f.properties.order) ? f.properties.order : 1001);
  const zones = geojson.features
    .map((f, i) => [f, i])
    .filter(([f]) => f.properties.role === 'boundary')
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([f]) => f);
  const select = $('zone');
  select.replaceChildren(new Option('all', '0'));
  zones.forEach((f, i) => select.add(new Option(`${i + 1}: ${f.properties.name}`, String(i + 1))));
  select.disabled = zones.length < 2;
}

function drawPlan(plan) {
  if (!plan || plan.version === app.planVersion) return;
  app.planVersion = plan.version;
  app.plan.setLatLngs(plan.points.map(xy));
  $('map').dataset.planVersion = String(plan.version);
}

function drawRobot(s) {
  if (s.x_m === null || s.y_m === null) return;
  const here = xy([s.x_m, s.y_m]);
  if (!app.map.hasLayer(app.robot)) {
    app.robot.addTo(app.map);
    app.heading.addTo(app.map);
  }
  app.robot.setLatLng(here);
  const yaw = ((s.heading_deg || 0) * Math.PI) / 180;
  app.heading.setLatLngs([here, xy([s.x_m + 0.6 * Math.cos(yaw), s.y_m + 0.6 * Math.sin(yaw)])]);
  const points = app.trail.getLatLngs();
  const last = points[points.length - 1];
  if (!last || Math.hypot(last.lat - here.lat, last.lng - here.lng) > 0.1) {
    app.trail.addLatLng(here);
    if (points.length > 20000) app.trail.setLatLngs(points.slice(-10000));
  }
  $('map').dataset.robot = `${s.x_m.toFixed(2)},${s.y_m.toFixed(2)}`;
}

// -- the status ------------------------------------------------------------------------------
function fmt(value, unit, digits = 0) {
  return value === null || value === undefined ? '-' : `${Number(value).toFixed(digits)}${unit}`;
}

// other parts of the page (schedule.js, the map editor) hook in here
const listeners = { status: [], login: [] };
window.mowerApp = {
  api,
  map: () => app.map,
  lawnLayer: () => app.lawn,
  reloadMap: () => loadMap(),
  roleStyle: (role) => ROLE_STYLE[role] || ROLE_STYLE.boundary,
  status: () => app.status,
  canControl: () => Boolean(app.csrf),
  on: (event, callback) => listeners[event].push(callback),
};

function drawStatus(s) {
  app.status = s;
  for (const callback of listeners.status) callback(s);
  $('state').textContent = `${s.state} (${s.activity})`;
  $('battery').textContent = fmt(s.battery_pct, ' %') + (s.charging ? ', charging' : '');
  $('mowed').textContent = fmt(s.mowed_pct, ' %', 1) + (s.zone ? ` of zone ${s.zone}` : '');
  $('blade').textContent = s.blade ? 'on' : 'off';
  $('position').textContent = s.x_m === null ? '-' : `${s.x_m.toFixed(2)}, ${s.y_m.toFixed(2)} m`;
  $('distance').textContent = fmt(s.distance_today_m, ' m');
  $('message').textContent = s.message || '';
  $('last-error').textContent = s.problem && s.last_error ? s.last_error : '';
  $('estop').classList.toggle('pressed', Boolean(s.emergency_stop));
  for (const [name, states] of Object.entries(ENABLED)) {
    $(name).disabled = !states.includes(s.state);
  }
  drawRobot(s);
}

// -- live updates ----------------------------------------------------------------------------
function connect() {
  if (app.socket && app.socket.readyState <= WebSocket.OPEN) return;
  const scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(`${scheme}${window.location.host}/api/live`);
  app.socket = socket;
  socket.onopen = () => {
    app.retryMs = 1000;
    setConnection('live', 'live');
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'status') drawStatus(message.status);
    else if (message.type === 'plan') drawPlan(message.plan);
  };
  socket.onclose = (event) => {
    if (app.socket !== socket) return;
    app.socket = null;
    if (event.code === 4401) {
      setConnection('log in', 'lost');
      app.csrf = null;
      if (!app.readOnly) show('login');
      return;
    }
    setConnection(`connection lost: retrying in ${Math.round(app.retryMs / 1000)} s`, 'lost');
    window.setTimeout(connect, app.retryMs);
    app.retryMs = Math.min(app.retryMs * 2, 10000);
  };
}

function setConnection(text, kind) {
  const badge = $('connection');
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('show-login').addEventListener('click', () => show('login'));
  $('estop').addEventListener('click', () => command('emergency_stop'));
  for (const button of document.querySelectorAll('[data-command]')) {
    button.addEventListener('click', () => command(button.dataset.command));
  }
  boot();
});
