// Teach mode: the owner drives the lawn's edges with an on-screen joystick and marks what each
// drive records (POST /api/teach/{request}). The joystick sends POST /api/teach/drive about ten
// times a second while it is held and a zero when it is let go; the mower stops by itself when
// no fresh command comes (its deadman), and it takes them only while TEACHING. Pointer events:
// mouse, pen and touch alike. Uses window.mowerApp from app.js.
'use strict';

(() => {
  const SEND_MS = 100; // ten commands a second while held
  const FULL_LINEAR_MPS = 0.5; // the stick's full throw (the mower clamps to its own limits)
  const FULL_ANGULAR_RADPS = 1.0;
  const START_STATES = ['IDLE', 'CHARGING', 'ERROR'];
  const $ = (id) => document.getElementById(id);
  const stick = {
    pointer: null, // the pointer holding the knob
    x: 0, // the knob's offset from the centre, -1..1 (right)
    y: 0, // -1..1 (up)
    timer: null,
    inFlight: null, // the drive request not yet answered (one at a time: they stay in order)
  };
  let teaching = false;

  function say(text, refused) {
    const out = $('teach-message');
    out.textContent = text;
    out.classList.toggle('refused', Boolean(refused));
  }

  function answerText(result) {
    return result.body.message || result.body.error || `failed (${result.status})`;
  }

  async function request(name) {
    say(`${name}...`, false);
    const result = await window.mowerApp.api(`/api/teach/${name}`, { method: 'POST', body: '{}' });
    say(answerText(result), !result.ok);
  }

  // -- the joystick ----------------------------------------------------------------------------
  function send(linear, angular) {
    const body = JSON.stringify({ linear, angular });
    const done = window.mowerApp.api('/api/teach/drive', { method: 'POST', body })
      .then((result) => {
        const out = $('teach-drive');
        out.textContent = answerText(result);
        out.classList.toggle('refused', !result.ok);
      });
    stick.inFlight = done;
    done.then(() => {
      if (stick.inFlight === done) stick.inFlight = null;
    });
    return done;
  }

  function tick() {
    if (stick.inFlight) return; // the last one is still on its way: the next tick sends
    send(Number((stick.y * FULL_LINEAR_MPS).toFixed(3)),
      Number((-stick.x * FULL_ANGULAR_RADPS).toFixed(3)));
  }

  function moveKnob(event) {
    const pad = $('joystick').getBoundingClientRect();
    const radius = pad.width / 2;
    let dx = (event.clientX - (pad.left + radius)) / radius;
    let dy = -(event.clientY - (pad.top + pad.height / 2)) / radius;
    const length = Math.hypot(dx, dy);
    if (length > 1) {
      dx /= length;
      dy /= length;
    }
    stick.x = dx;
    stick.y = dy;
    const knob = $('joystick-knob');
    knob.style.transform = `translate(-50%, -50%) translate(${dx * radius}px, ${-dy * radius}px)`;
  }

  function grab(event) {
    if (!teaching || stick.pointer !== null) return;
    event.preventDefault();
    stick.pointer = event.pointerId;
    $('joystick').setPointerCapture(event.pointerId);
    $('joystick').classList.add('held');
    moveKnob(event);
    tick();
    stick.timer = window.setInterval(tick, SEND_MS);
  }

  function move(event) {
    if (event.pointerId === stick.pointer) moveKnob(event);
  }

  async function letGo(event) {
    if (stick.pointer === null || (event && event.pointerId !== stick.pointer)) return;
    stick.pointer = null;
    window.clearInterval(stick.timer);
    stick.timer = null;
    stick.x = 0;
    stick.y = 0;
    $('joystick').classList.remove('held');
    $('joystick-knob').style.transform = '';
    if (stick.inFlight) await stick.inFlight; // so that the zero arrives last
    if (teaching && stick.pointer === null) send(0, 0); // unless held again meanwhile
  }

  // -- the state -------------------------------------------------------------------------------
  function follow(s) {
    teaching = s.state === 'TEACHING';
    for (const button of document.querySelectorAll('[data-teach]')) {
      const name = button.dataset.teach;
      button.disabled = name === 'start' ? !START_STATES.includes(s.state) : !teaching;
    }
    const pad = $('joystick');
    pad.classList.toggle('disabled', !teaching);
    pad.setAttribute('aria-disabled', String(!teaching));
    pad.title = teaching ? 'hold and push: up drives forwards, sideways turns'
      : 'the joystick drives while teaching: press Start teaching';
    if (!teaching && stick.pointer !== null) letGo(null);
  }

  document.addEventListener('DOMContentLoaded', () => {
    const mower = window.mowerApp;
    if (!mower) return;
    for (const button of document.querySelectorAll('[data-teach]')) {
      button.addEventListener('click', () => request(button.dataset.teach));
    }
    const pad = $('joystick');
    pad.addEventListener('pointerdown', grab);
    pad.addEventListener('pointermove', move);
    pad.addEventListener('pointerup', letGo);
    pad.addEventListener('pointercancel', letGo);
    pad.addEventListener('lostpointercapture', letGo);
    window.addEventListener('blur', () => letGo(null)); // another window or app: stop
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') letGo(null);
    });
    mower.on('login', (control) => {
      $('teach-panel').hidden = !control; // the read-only view cannot drive
    });
    mower.on('status', follow);
  });
})();
