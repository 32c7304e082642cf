// The zones panel beside the map: the lawn's boundary features (its mowing zones) in zone
// order, each with its mowed share in the current run (the live status' zones_mowed_pct, a
// list indexed zone - 1; null: not known). While the map is edited (map_edit.js) the owner
// renames a zone, moves it up or down, and sets its own stripe angle ('auto' or degrees) and
// headland passes (blank: the map's); they go into the feature's properties (name, order,
// mowing) and are saved with the map. Zones are numbered by ascending properties.order,
// those without one after, in file order (mower_maps.lawn_map); after a reorder every zone
// gets order 1..n. A setting equal to the map's is left out of the zone's own mowing.
'use strict';

(() => {
  const MAX_ORDER = 1000; // mower_maps.lawn_map.MAX_ZONE_ORDER: no order sorts after it
  const NONE = '\u2013'; // shown for a share not known
  // rows: { item: a layer while editing, else a feature; props: its feature's properties
  // (edited in place); saved: its zone number in the map in force (0: a new zone) }
  const panel = { rows: [], editing: false, reordered: false, defaults: {}, shown: null };
  const $ = (id) => document.getElementById(id);
  const mower = () => window.mowerApp;

  const propsOf = (item) => (item.feature ? item.feature.properties : item.properties) || {};
  const isBoundary = (item) => propsOf(item).role === 'boundary';

  function zoneRank(props) {
    const order = props.order;
    return Number.isInteger(order) ? order : MAX_ORDER + 1;
  }

  /** The boundaries among ``items`` (layers or features, in file order) as rows, in zone order. */
  function rowsOf(items) {
    return items
      .map((item, index) => ({ item, index }))
      .filter(({ item }) => isBoundary(item))
      .sort((a, b) => zoneRank(propsOf(a.item)) - zoneRank(propsOf(b.item)) || a.index - b.index)
      .map(({ item }, i) => ({ item, props: propsOf(item), saved: i + 1 }));
  }

  function mapStripe() {
    const value = panel.defaults.stripe_angle_deg;
    return value === undefined || value === null || value === 'auto' ? 'auto' : Number(value);
  }

  function ownStripe(row) {
    const value = row.props.mowing?.stripe_angle_deg;
    if (value === undefined) return mapStripe();
    return value === null || value === 'auto' ? 'auto' : value;
  }

  function setMowing(row, key, value) {
    const mowing = { ...(row.props.mowing || {}) };
    if (value === undefined) delete mowing[key];
    else mowing[key] = value;
    if (Object.keys(mowing).length) row.props.mowing = mowing;
    else delete row.props.mowing;
  }

  // -- the rows ------------------------------------------------------------------------------
  function element(tag, attrs = {}, text = '') {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
    if (text) el.textContent = text;
    return el;
  }

  function rowElement(row, i) {
    const n = i + 1;
    const li = element('li', { class: 'zone', 'data-zone': String(n) });
    const head = element('div', { class: 'zone-head' });
    const name = element('input', {
      class: 'zone-name', maxlength: '60', 'aria-label': `zone ${n}: name`,
    });
    name.value = row.props.name || '';
    name.addEventListener('input', () => {
      row.props.name = name.value.trim();
      name.classList.toggle('invalid', !row.props.name);
    });
    const mowed = element('span', { class: 'zone-mowed', title: 'mowed in this run' }, NONE);
    const up = element('button', {
      class: 'zone-up', type: 'button', title: 'mow it earlier', 'aria-label': `zone ${n}: up`,
    }, '\u2191');
    const down = element('button', {
      class: 'zone-down', type: 'button', title: 'mow it later', 'aria-label': `zone ${n}: down`,
    }, '\u2193');
    up.disabled = i === 0;
    down.disabled = i === panel.rows.length - 1;
    up.addEventListener('click', () => move(i, -1));
    down.addEventListener('click', () => move(i, +1));
    head.append(element('span', { class: 'zone-number' }, String(n)), name, mowed, up, down);

    const settings = element('div', { class: 'zone-settings' });
    const stripe = ownStripe(row);
    const auto = element('input', { type: 'checkbox', class: 'zone-auto' });
    auto.checked = stripe === 'auto';
    const angle = element('input', {
      type: 'number', class: 'zone-angle', step: '5', min: '-360', max: '360',
      'aria-label': `zone ${n}: stripe angle, degrees from east`,
    });
    angle.value = stripe === 'auto' ? '' : String(stripe);
    angle.disabled = auto.checked;
    const setStripe = () => {
      angle.disabled = auto.checked || !panel.editing;
      if (!auto.checked && angle.value.trim() === '') angle.value = '0';
      const value = auto.checked ? 'auto' : Number(angle.value);
      const valid = value === 'auto' || Number.isFinite(value);
      angle.classList.toggle('invalid', !valid);
      if (valid) setMowing(row, 'stripe_angle_deg', value === mapStripe() ? undefined : value);
    };
    auto.addEventListener('change', setStripe);
    angle.addEventListener('input', setStripe);
    const passes = element('input', {
      type: 'number', class: 'zone-passes', min: '1', max: '20', step: '1',
      placeholder: panel.defaults.headland_passes ? `${panel.defaults.headland_passes}` : 'map',
      'aria-label': `zone ${n}: headland passes (blank: the map's)`,
    });
    const own = row.props.mowing?.headland_passes;
    passes.value = own === undefined ? '' : String(own);
    passes.addEventListener('input', () => {
      const text = passes.value.trim();
      const value = Number(text);
      passes.classList.toggle('invalid', text !== '' && !(Number.isInteger(value)
        && value >= 1 && value <= 20));
      // the map checks say what is wrong with a bad number, on the zone
      setMowing(row, 'headland_passes', text === '' ? undefined : value);
    });
    const autoLabel = element('label', { class: 'zone-auto-label' });
    autoLabel.append(auto, ' auto stripes');
    const passesLabel = element('label', {}, 'passes ');
    passesLabel.append(passes);
    settings.append(autoLabel, angle, element('span', {}, '\u00b0'), passesLabel);
    li.append(head, settings);

    for (const input of [name, auto, passes]) input.disabled = !panel.editing;
    angle.disabled = !panel.editing || auto.checked;
    up.hidden = down.hidden = !panel.editing;
    row.mowedCell = mowed;
    return li;
  }

  function render(focus = null) {
    const list = $('zones');
    list.replaceChildren(...panel.rows.map(rowElement));
    $('zones-panel').hidden = panel.rows.length === 0;
    const passes = panel.defaults.headland_passes;
    $('zones-note').textContent = panel.editing
      ? `blank passes: the map's (${passes ?? 'the planner\u2019s'}); Save keeps the zones too`
      : 'Edit map to rename a zone, change its order, stripes or passes';
    drawShares(mower().status());
    if (focus) list.querySelector(focus)?.focus();
  }

  function move(i, step) {
    const j = i + step;
    if (j < 0 || j >= panel.rows.length) return;
    [panel.rows[i], panel.rows[j]] = [panel.rows[j], panel.rows[i]];
    panel.reordered = true;
    const which = j === 0 || j === panel.rows.length - 1 ? 'zone-name' : step < 0 ? 'zone-up'
      : 'zone-down';
    render(`li[data-zone="${j + 1}"] .${which}`);
  }

  function drawShares(status) {
    const shares = Array.isArray(status?.zones_mowed_pct) ? status.zones_mowed_pct : [];
    for (const row of panel.rows) {
      const share = row.saved ? shares[row.saved - 1] : null;
      const text = typeof share === 'number' ? `${share.toFixed(1)} %` : NONE;
      if (row.mowedCell && row.mowedCell.textContent !== text) row.mowedCell.textContent = text;
    }
  }

  // -- what map_edit.js calls ------------------------------------------------------------------
  /** The map is being edited: ``layers`` its features' layers in file order. */
  function edit(layers, defaults) {
    panel.editing = true;
    panel.reordered = false;
    panel.defaults = defaults || {};
    panel.rows = rowsOf(layers);
    render();
  }

  /** Shapes were added or removed while editing: new zones come last, gone ones go. */
  function sync(layers) {
    const boundaries = layers.filter(isBoundary);
    panel.rows = panel.rows.filter((row) => boundaries.includes(row.item));
    for (const item of boundaries) {
      if (!panel.rows.some((row) => row.item === item)) {
        panel.rows.push({ item, props: propsOf(item), saved: 0 });
      }
    }
    render();
  }

  /** Before a save: after a reorder, every zone's order is its place (1..n). */
  function finish() {
    if (!panel.editing || !panel.reordered) return;
    panel.rows.forEach((row, i) => {
      row.props.order = i + 1;
    });
  }

  /** Not editing: the zones of the map in force (GET /api/map), read only. */
  async function view() {
    panel.editing = false;
    panel.reordered = false;
    panel.shown = mower().lawnLayer(); // fetched again when the page draws another map
    const result = await mower().api('/api/map');
    if (panel.editing || !result.ok) return;
    panel.defaults = result.body.lawn.properties?.mowing || {};
    panel.rows = rowsOf(result.body.lawn.features);
    render();
  }

  window.mowerZones = { edit, sync, finish, view };

  document.addEventListener('DOMContentLoaded', () => {
    mower().on('status', (status) => {
      if (!panel.editing && mower().lawnLayer() !== panel.shown) view();
      drawShares(status);
    });
  });
})();
