// The run history: date, duration, distance, mowed share, stops and how each run ended
// (GET /api/history), refreshed when the page opens and whenever the state changes.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  let last = null;

  function duration(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds % 3600) / 60);
    return h ? `${h} h ${m} min` : `${m} min`;
  }

  function cell(row, text, className = '') {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
  }

  async function refresh() {
    const result = await window.mowerApp.api('/api/history');
    $('history-panel').hidden = !result.ok;
    if (!result.ok) return;
    const body = $('history').tBodies[0];
    body.replaceChildren();
    for (const run of result.body.runs.slice(0, 30)) {
      const row = body.insertRow();
      cell(row, run.started.replace('T', ' ').slice(0, 16));
      cell(row, duration(run.duration_s));
      cell(row, `${Math.round(run.distance_m)} m`);
      cell(row, run.mowed_pct === null ? '-' : `${run.mowed_pct.toFixed(0)} %`);
      const stops = run.stops.map((s) => `${s.state.toLowerCase()}${s.why ? `: ${s.why}` : ''}`);
      stops.push(run.ended ? run.result : 'going on');
      cell(row, stops.join('; '), 'stops');
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    window.mowerApp.on('login', () => refresh());
    window.mowerApp.on('status', (s) => {
      // a run begins, stops or ends with a change of state: the server's record follows it
      // within a fraction of a second
      if (last !== null && s.state !== last) window.setTimeout(refresh, 700);
      last = s.state;
    });
  });
})();
