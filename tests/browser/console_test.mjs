// The web console in a real browser (docs/WEB.md "Console"): Debian's chromium, headless,
// driven by playwright-core, on a LAN client of the netns harness. Run by
// tests/system/test_console.py inside the client namespace (ip netns exec dualsp-cli), which
// does what only the harness can (power an SP off) when this script asks on stdout:
//   -> {"need": "kill", "sp": "B"}      <- {"done": "kill"}   (one JSON line each way)
// Environment: DUALSP_CONSOLE_URL (http://198.18.0.10/), DUALSP_AUTH (user:password, never on
// a command line), DUALSP_SCREENSHOTS (a folder under build/). Prints JSON lines; the last
// is {"ok": true|false, ...}. Every wait has a deadline; the whole run is bounded by the
// caller's timeout too.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {chromium} from 'playwright-core';

const url = process.env.DUALSP_CONSOLE_URL || 'http://198.18.0.10/';
const [user, ...rest] = (process.env.DUALSP_AUTH || '').split(':');
const password = rest.join(':');
const shots = process.env.DUALSP_SCREENSHOTS || 'build/browser-screenshots';
const saved = [];
const problems = [];  // what the page reported that it must not: script errors, CSP refusals
const t0 = Date.now();

const say = (obj) => process.stdout.write(JSON.stringify({t: (Date.now() - t0) / 1000, ...obj}) + '\n');

const lines = readline.createInterface({input: process.stdin});
const pending = [];
lines.on('line', (line) => { const w = pending.shift(); if (w) w(JSON.parse(line)); });
function ask(need, extra) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the harness did not answer ' + need)), 30000);
    pending.push((answer) => { clearTimeout(timer); resolve(answer); });
    say({need, ...extra});
  });
}

async function screenshot(page, name) {
  const file = path.join(shots, name + '.png');
  await page.screenshot({path: file, fullPage: true});
  saved.push(file);
  say({screenshot: file});
}

// The console's own view, read from the page the way a person reads it.
async function view(page) {
  return page.evaluate(() => {
    const card = (sp) => {
      const c = document.getElementById('sp-' + sp);
      if (!c) return null;
      const role = c.querySelector('.badge.role');
      return {role: role ? role.dataset.role : null, holder: !!c.querySelector('.badge.holder'),
              unreachable: !!c.querySelector('.badge.unreachable'), text: c.innerText};
    };
    const ids = [...document.querySelectorAll('#event-list li')].map((li) => Number(li.dataset.id));
    return {
      connection: document.getElementById('connection').dataset.state,
      connectionText: document.getElementById('connection').textContent,
      events: document.getElementById('events-state').dataset.state,
      eventsText: document.getElementById('events-state').textContent,
      holder: document.getElementById('holder').textContent,
      A: card('A'), B: card('B'), ids, marker: window.__dualspTestMarker === true,
      notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
    };
  });
}

async function waitView(page, what, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < end) {
    last = await view(page);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out after ' + timeoutMs / 1000 + ' s waiting for ' + what + '; the page showed ' +
                  JSON.stringify(last));
}

const activeOf = (v) => ['A', 'B'].filter((sp) => v[sp] && v[sp].role === 'active');
const settledOn = (sp) => (v) => v.connection === 'connected' && activeOf(v).join() === sp &&
    v[sp].holder && v.holder === 'SP-' + sp && v.events === 'streaming' &&
    v.eventsText.endsWith('SP-' + sp);

// Every state the connection line takes, in order, recorded in the page as it happens (a
// reconnection can last less than one of our polls).
async function recordStates(page) {
  await page.evaluate(() => {
    window.__dualspStates = [];
    const el = document.getElementById('connection');
    new MutationObserver(() => window.__dualspStates.push(el.dataset.state + ': ' + el.textContent))
        .observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
  });
}
const statesSeen = (page) => page.evaluate(() => window.__dualspStates.slice());

function checkEvents(v, what) {
  const ids = [...v.ids].sort((a, b) => a - b);
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] !== ids[i - 1] + 1) throw new Error(what + ': event ids not consecutive once each: ' + ids.join(','));
  }
}

async function main() {
  fs.mkdirSync(shots, {recursive: true});
  // Playwright starts chromium without its sandbox (chromiumSandbox: false, its default):
  // the tests run as root, where chromium refuses to start sandboxed. The page is our own.
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true});
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    // Failed requests are expected while the address moves; a refusal by the CSP is not.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push('console: ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));

    // 1. Log in; both SPs side by side.
    const first = await page.goto(url, {timeout: 10000});
    const csp = (await first.allHeaders())['content-security-policy'] || '';
    if (!csp.includes("default-src 'self'")) throw new Error('no CSP on the console: ' + csp);
    await page.evaluate(() => { window.__dualspTestMarker = true; });
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', {name: 'Sign in'}).click();
    let v = await waitView(page, 'both SPs, one active holding the address, events live', (x) =>
        x.A && x.B && activeOf(x).length === 1 && settledOn(activeOf(x)[0])(x), 15000);
    const first_active = activeOf(v)[0];
    const first_passive = first_active === 'A' ? 'B' : 'A';
    say({step: 'logged in', active: first_active, view: v});
    await screenshot(page, '1-before');
    const eventsBefore = Math.max(0, ...v.ids);

    // 2. ForceFailover from the page, confirmed in its dialog; the page follows.
    await recordStates(page);
    await page.locator('#failover-' + first_active).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({state: 'visible', timeout: 5000});
    await screenshot(page, '2-failover-confirm');
    await dialog.getByRole('button', {name: 'Fail over'}).click();
    v = await waitView(page, 'the page reconnecting during the failover',
                       (x) => x.connection === 'reconnecting' || settledOn(first_passive)(x), 5000);
    await screenshot(page, '3-failover-during');
    v = await waitView(page, 'SP-' + first_passive + ' active, holding the address, events live',
                       settledOn(first_passive), 20000);
    const states = await statesSeen(page);
    if (!states.some((s) => s.startsWith('reconnecting'))) throw new Error('no "reconnecting" shown: ' + states);
    if (!v.marker) throw new Error('the page was reloaded');
    if (Math.max(...v.ids) <= eventsBefore) throw new Error('no new event shown after the failover');
    checkEvents(v, 'after the failover');
    say({step: 'failover followed', states, view: v});
    await screenshot(page, '4-failover-after');

    // 3. The active SP loses power (the harness's kill); the page recovers on the survivor.
    const killed = first_passive;
    const survivor = first_active;
    await recordStates(page);
    const eventsBeforeKill = Math.max(...v.ids);
    await ask('kill', {sp: killed});
    v = await waitView(page, 'the page noticing the takeover',
                       (x) => x.connection !== 'connected' || x.events !== 'streaming' ||
                              (x[killed] && x[killed].unreachable) || activeOf(x).join() === survivor, 15000);
    await screenshot(page, '5-kill-during');
    // The killed SP had taken the role by the ForceFailover above: its last known role is
    // "active" (from the survivor's heartbeats), not the "passive" of its last answer before.
    v = await waitView(page, 'SP-' + survivor + ' active, SP-' + killed + ' not answering (last known role active), events live',
                       (x) => settledOn(survivor)(x) && x[killed] && x[killed].unreachable &&
                              /Last known role\s+active/.test(x[killed].text) &&
                              Math.max(...x.ids) > eventsBeforeKill, 30000);
    if (!v.marker) throw new Error('the page was reloaded');
    checkEvents(v, 'after the kill');
    say({step: 'kill recovered', states: await statesSeen(page), view: v});
    await screenshot(page, '6-kill-after');
    if (problems.length) throw new Error('the page reported: ' + problems.join(' | '));
    say({ok: true, screenshots: saved});
  } catch (e) {
    try {
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages.length) await screenshot(pages[0], 'failure');
    } catch (ignored) {
      // the browser is gone
    }
    say({ok: false, error: String(e && e.stack || e), problems, screenshots: saved});
    process.exitCode = 1;
  } finally {
    await browser.close();
    lines.close();
  }
}

main();
