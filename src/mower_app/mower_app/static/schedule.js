// The mowing schedule: weekly windows (day, from, to, zone), the rain rule, the minimum
// battery, and the next planned run. The server checks every save (GET/PUT /api/schedule) and
// says what is wrong; this page only edits and shows. Uses window.mowerApp from app.js.
'use strict';

(() => {
  const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const $ = (id) => document.getElementById(id);
  const state = { zones: 0, control: false, nextRun: undefined, loaded: false };

  function element(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    node.append(...children);
    return node;
  }

  // 'YYYY-MM-DDTHH:MM' (the mower's local time) -> 'Mon 2025-06-02 09:00'
  function formatRun(iso) {
    if (!iso) return 'none planned';
    const found = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
    if (!found) return iso;
    const [, y, m, d, hh, mm] = found.map(Number);
    const day = DAYS[(new Date(y, m - 1, d).getDay() + 6) % 7];
    return `${day} ${found[1]}-${found[2]}-${found[3]} ${found[4]}:${found[5]}`;
  }

  function showNextRun(iso) {
    if (iso === state.nextRun) return;
    state.nextRun = iso;
    $('next-run').textContent = `next run: ${formatRun(iso)}`;
  }

  function zoneSelect(value) {
    const select = element('select', { className: 'window-zone', title: 'zone' });
    select.add(new Option('all', '0'));
    for (let i = 1; i <= Math.max(state.zones, value); i += 1) {
      select.add(new Option(`zone ${i}`, String(i)));
    }
    select.value = String(value);
    return select;
  }

  function timeInput(className, value, title) {
    return element('input', {
      className, value, title, placeholder: 'HH:MM', maxLength: 5, size: 5, inputMode: 'numeric',
    });
  }

  function windowRow(w) {
    const day = element('select', { className: 'window-day', title: 'day' });
    DAYS.forEach((name, i) => day.add(new Option(name, String(i))));
    day.value = String(w.weekday);
    const remove = element('button', {
      type: 'button', className: 'window-remove', textContent: '\u00d7', title: 'remove',
    });
    remove.addEventListener('click', () => row.remove());
    const row = element('tr', {}, [
      element('td', {}, [day]),
      element('td', {}, [timeInput('window-start', w.start, 'from')]),
      element('td', {}, [timeInput('window-end', w.end, 'to')]),
      element('td', {}, [zoneSelect(w.zone)]),
      element('td', {}, [remove]),
    ]);
    return row;
  }

  function render(schedule) {
    $('schedule-windows').replaceChildren(...schedule.windows.map(windowRow));
    $('schedule-enabled').checked = schedule.enabled;
    $('schedule-rain').value = schedule.rain_rule;
    $('schedule-delay').value = String(schedule.rain_delay_h);
    $('schedule-battery').value = String(schedule.min_battery_pct);
    showDelay();
    setEditable(state.control);
  }

  function collect() {
    const windows = [...$('schedule-windows').rows].map((row) => ({
      weekday: Number(row.querySelector('.window-day').value),
      start: row.querySelector('.window-start').value.trim(),
      end: row.querySelector('.window-end').value.trim(),
      zone: Number(row.querySelector('.window-zone').value),
    }));
    return {
      enabled: $('schedule-enabled').checked,
      rain_rule: $('schedule-rain').value,
      rain_delay_h: Number($('schedule-delay').value || 0),
      min_battery_pct: Number($('schedule-battery').value || 0),
      windows,
    };
  }

  function setEditable(control) {
    for (const node of $('schedule-panel').querySelectorAll('input, select, button')) {
      node.disabled = !control;
    }
    $('schedule-add').hidden = !control;
    $('schedule-save').hidden = !control;
  }

  function showDelay() {
    $('schedule-delay-field').hidden = $('schedule-rain').value !== 'delay';
  }

  function say(text, refused) {
    const out = $('schedule-message');
    out.textContent = text;
    out.classList.toggle('refused', Boolean(refused));
  }

  function apply(body) {
    state.zones = body.zones;
    state.loaded = true;
    render(body.schedule);
    showNextRun(body.next_run);
  }

  async function load() {
    const result = await window.mowerApp.api('/api/schedule');
    if (!result.ok) {
      say(result.body.error || `the schedule could not be read (${result.status})`, true);
      return;
    }
    apply(result.body);
    say(result.body.notice || '', Boolean(result.body.notice));
  }

  async function save() {
    say('saving ...', false);
    const result = await window.mowerApp.api('/api/schedule', {
      method: 'PUT',
      body: JSON.stringify({ schedule: collect() }),
    });
    if (!result.ok) {
      const why = result.status === 401 ? 'your session ended: log in again' : result.body.error;
      say(why || `the schedule was not saved (${result.status})`, true);
      return;
    }
    apply(result.body);
    say('schedule saved', false);
  }

  function addWindow() {
    const rows = $('schedule-windows').rows;
    const last = rows.length ? rows[rows.length - 1] : null;
    const weekday = last ? (Number(last.querySelector('.window-day').value) + 1) % 7 : 0;
    $('schedule-windows').append(windowRow({ weekday, start: '09:00', end: '11:00', zone: 0 }));
  }

  document.addEventListener('DOMContentLoaded', () => {
    const mower = window.mowerApp;
    if (!mower) return;
    $('schedule-add').addEventListener('click', addWindow);
    $('schedule-save').addEventListener('click', save);
    $('schedule-rain').addEventListener('change', showDelay);
    mower.on('login', (control) => {
      state.control = control;
      state.loaded = false;
      $('schedule-panel').hidden = false;
      // nothing to edit until the saved schedule is in: a window added before it arrives
      // would be wiped by it (render), or saved over a schedule the owner has not seen
      setEditable(false);
      load();
    });
    mower.on('status', (s) => {
      if (state.loaded) showNextRun(s.next_run || null);
    });
  });
})();
