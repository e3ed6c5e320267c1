// The DualSP web console (docs/WEB.md "Console"). It speaks only Redfish to the origin that
// served it, the array's floating management address, with a session's X-Auth-Token kept in
// memory only. Sessions are replicated (docs/SECURITY.md), so the token keeps working when
// the other SP takes the address over: the page follows a failover without a reload. A
// session that ends (401) is never replaced silently: the login form comes back.
'use strict';

const POLL_MS = 1000;             // both Managers and the service root, every second
const REQUEST_TIMEOUT_MS = 3000;  // a request to an SP that died never answers
const RETRY_FIRST_MS = 250;       // reconnecting: 250 ms, doubled up to 2 s...
const RETRY_MAX_MS = 2000;
const RECONNECT_DEADLINE_MS = 60000;  // ...for at most a minute, then "connection lost"
const FAILOVER_DEADLINE_MS = 30000;   // the peer takes the address well within this
const STREAM_SILENCE_MS = 12000;  // the SSE stream writes a keep-alive every 5 s
const EVENTS_SHOWN = 100;
const SPS = ['A', 'B'];

const $ = (id) => document.getElementById(id);

const state = {
  token: null, session: null, user: null, role: null,
  generation: 0,  // bumped at every login and logout: loops of an older one stop
  servingSp: null, mode: null,
  managers: {}, fans: {}, floating: null,
  expectFailoverTo: null, failoverSince: 0,
  lastEventId: null, stream: null, streamSp: null,
};

class SessionEnded extends Error {}
class Unreachable extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One Redfish request: {status, json, sp, headers}. Throws Unreachable when no answer came
// within REQUEST_TIMEOUT_MS, SessionEnded on 401 of a request made with the token.
async function redfish(method, path, body, options = {}) {
  const headers = {Accept: 'application/json'};
  if (state.token && !options.noAuth) headers['X-Auth-Token'] = state.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeout || REQUEST_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal: abort.signal, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Unreachable(e.name === 'AbortError' ? 'no answer within ' +
                          (options.timeout || REQUEST_TIMEOUT_MS) / 1000 + ' s' : e.message);
  } finally {
    clearTimeout(timer);
  }
  let json = null;
  try {
    json = res.status === 204 ? null : await res.json();
  } catch (e) {
    json = null;
  }
  if (res.status === 401 && headers['X-Auth-Token']) throw new SessionEnded();
  return {status: res.status, json, sp: res.headers.get('X-DualSP-SP'), headers: res.headers};
}

function errorText(answer) {
  const error = answer.json && answer.json.error;
  const info = error && error['@Message.ExtendedInfo'];
  const message = (info && info[0] && info[0].Message) || (error && error.message);
  return 'HTTP ' + answer.status + (message ? ': ' + message : '');
}

// ---- what the page shows ----

// Written only when it changes: a live region that is rewritten every second is read out
// every second.
function setConnection(kind, text) {
  const el = $('connection');
  if (el.dataset.state === kind && el.textContent === text) return;
  el.dataset.state = kind;
  el.textContent = text;
}

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function uptimeText(seconds) {
  if (typeof seconds !== 'number') return '-';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return (d ? d + ' d ' : '') + (d || h ? h + ' h ' : '') + (d || h || m ? m + ' min ' : '') +
         (d || h ? '' : s + ' s');
}

function listOrNone(items, none) {
  if (!items.length) return document.createTextNode(none);
  return el('ul', {}, ...items.map((text) => el('li', {text})));
}

function row(dl, term, value, cls) {
  dl.append(el('dt', {text: term}));
  const dd = el('dd', cls ? {class: cls} : {});
  dd.append(typeof value === 'string' ? document.createTextNode(value) : value);
  dl.append(dd);
}

function renderSp(sp) {
  const m = state.managers[sp];
  const oem = (m && m.Oem && m.Oem.DualSP) || {};
  const card = el('article', {class: 'sp', id: 'sp-' + sp, 'aria-labelledby': 'sp-' + sp + '-title'});
  const title = el('h2', {id: 'sp-' + sp + '-title'}, 'SP-' + sp);
  card.append(title);
  if (!m) {
    card.append(el('p', {class: 'stale', text: state.mode === 'degraded' && sp !== state.servingSp
        ? 'Not described: the SP serving the address is in rescue mode.' : 'No answer about SP-' + sp + '.'}));
    return card;
  }
  const role = oem.Role || 'unknown';
  // A peer that does not answer is described from its last known state: not as what it is now.
  const unreachable = oem.Stale || (m.Status && m.Status.State === 'UnavailableOffline');
  if (!unreachable) {
    title.append(el('span', {class: 'badge role' + (role === 'active' ? ' active' : ''),
                             'data-role': role, text: role}));
  }
  if (oem.HoldsFloatingIp && !unreachable) {
    card.classList.add('holder');
    title.append(el('span', {class: 'badge holder', text: 'holds the management address'}));
  }
  if (unreachable) {
    title.append(el('span', {class: 'badge unreachable', text: 'not answering'}));
    const age = typeof oem.AgeMs === 'number' ? ' (last known state, ' + Math.round(oem.AgeMs / 1000) +
        ' s old)' : ' (nothing known)';
    card.append(el('p', {class: 'stale', text: 'SP-' + sp + ' does not answer its peer' + age + '.'}));
  }
  const dl = el('dl');
  if (unreachable) row(dl, 'Last known role', role);
  const health = (m.Status && m.Status.Health) || 'unknown';
  row(dl, 'Health', health, 'health-' + health);
  row(dl, 'State', (m.Status && m.Status.State) || '-');
  row(dl, 'Uptime', uptimeText(oem.UptimeSeconds));
  row(dl, 'Address', oem.ManagementAddress || '-');
  row(dl, 'Firmware', m.FirmwareVersion || '-');
  row(dl, 'Temperatures', listOrNone((oem.Temperatures || []).map(
      (t) => t.Name + ': ' + (typeof t.ReadingCelsius === 'number' ? t.ReadingCelsius.toFixed(1) : '?') + ' °C'),
      'none reported'));
  row(dl, 'Fans', listOrNone((state.fans[sp] || []).map(
      (f) => f.Name + ': ' + (f.SpeedPercent && typeof f.SpeedPercent.SpeedRPM === 'number'
          ? f.SpeedPercent.SpeedRPM + ' RPM' : 'no reading') +
          (f.Status && f.Status.Health && f.Status.Health !== 'OK' ? ' (' + f.Status.Health + ')' : '')),
      state.mode === 'full' ? 'none reported' : 'not served in rescue mode'));
  row(dl, 'Faults', listOrNone((oem.Faults || []).map((f) => f.Severity + ': ' + f.Message), 'none'));
  card.append(dl);
  if (state.role === 'Administrator') card.append(actionsOf(sp, m, role, unreachable));
  return card;
}

function actionsOf(sp, m, role, unreachable) {
  const actions = el('p', {class: 'actions'});
  const peer = sp === 'A' ? 'B' : 'A';
  const failover = m.Actions && m.Actions['#Manager.ForceFailover'];
  // Only to a peer that answers: spd refuses a failover to one that does not (409).
  const peerOem = (state.managers[peer] && state.managers[peer].Oem && state.managers[peer].Oem.DualSP) || {};
  const peerAnswers = state.managers[peer] && !peerOem.Stale &&
                      state.managers[peer].Status.State !== 'UnavailableOffline';
  if (failover && role === 'active' && !unreachable && peerAnswers && !state.expectFailoverTo) {
    const button = el('button', {type: 'button', class: 'danger', id: 'failover-' + sp,
                                 text: 'Fail over to SP-' + peer});
    button.addEventListener('click', () => confirmAction(
        'Fail over to SP-' + peer + '?',
        'SP-' + sp + ' hands the management address and the array to SP-' + peer +
            '. This page follows it.',
        'Fail over', () => forceFailover(sp, peer, failover.target)));
    actions.append(button);
  }
  const reset = m.Actions && m.Actions['#Manager.Reset'];
  if (reset && !unreachable) {
    const types = reset['ResetType@Redfish.AllowableValues'] || ['GracefulRestart'];
    const type = types.includes('GracefulRestart') ? 'GracefulRestart' : types[0];
    const button = el('button', {type: 'button', id: 'reset-' + sp, text: 'Restart SP-' + sp});
    button.addEventListener('click', () => confirmAction(
        'Restart SP-' + sp + '?',
        'SP-' + sp + ' restarts (' + type + ')' + (role === 'active'
            ? '; it is the active SP: SP-' + peer + ' takes the management address over.' : '.'),
        'Restart', () => resetSp(sp, reset.target, type)));
    actions.append(button);
  }
  return actions;
}

function render() {
  // The cards are drawn anew every second: a keyboard user's focus stays on the same button.
  const focused = document.activeElement && document.activeElement.id;
  $('sps').replaceChildren(...SPS.map(renderSp));
  if (focused && $(focused) && document.activeElement !== $(focused) && !$('confirm').open) $(focused).focus();
  // Who holds it now: an SP that answers and says so (a silent peer's last word does not count),
  // else the one answering on it.
  const holder = SPS.find((sp) => {
    const oem = (state.managers[sp] && state.managers[sp].Oem && state.managers[sp].Oem.DualSP) || {};
    return oem.HoldsFloatingIp && !oem.Stale;
  }) || state.servingSp;
  $('holder').textContent = holder ? 'SP-' + holder : '-';
  $('floating').textContent = state.floating || location.hostname;
}

// ---- the confirmation dialog ----

function confirmAction(title, text, ok, run) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = ok;
  const done = (go) => {
    $('confirm-ok').onclick = null;
    $('confirm-cancel').onclick = null;
    dialog.close();
    if (go) run();
  };
  $('confirm-ok').onclick = () => done(true);
  $('confirm-cancel').onclick = () => done(false);
  dialog.showModal();
  $('confirm-cancel').focus();
}

// ---- actions ----

async function forceFailover(sp, peer, target) {
  state.expectFailoverTo = peer;
  state.failoverSince = performance.now();
  setConnection('reconnecting', 'Failover to SP-' + peer + ' requested: reconnecting…');
  render();
  try {
    const answer = await redfish('POST', target, {});
    if (answer.status >= 300) {
      state.expectFailoverTo = null;
      showNotice('The failover was refused: ' + errorText(answer));
      render();
    }
  } catch (e) {
    if (e instanceof SessionEnded) return sessionEnded();
    // No answer: the address may already have moved. The poll tells.
  }
}

async function resetSp(sp, target, type) {
  try {
    const answer = await redfish('POST', target, {ResetType: type});
    showNotice(answer.status < 300 ? 'SP-' + sp + ' is restarting.' : 'The restart was refused: ' + errorText(answer));
  } catch (e) {
    if (e instanceof SessionEnded) return sessionEnded();
    showNotice('No answer to the restart of SP-' + sp + ' (' + e.message + '); the page shows what happens.');
  }
}

// ---- polling, following the address ----

async function pollOnce() {
  const root = await redfish('GET', '/redfish/v1', undefined, {noAuth: true});
  if (root.status !== 200 || !root.json) throw new Unreachable(errorText(root));
  const oem = (root.json.Oem && root.json.Oem.DualSP) || {};
  const serving = oem.ServingSp || root.sp;
  state.mode = oem.Mode || 'full';
  const asks = SPS.map((sp) => (state.mode === 'full' || sp === serving)
      ? redfish('GET', '/redfish/v1/Managers/SP' + sp) : Promise.resolve(null));
  const fans = state.mode === 'full'
      ? redfish('GET', '/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans?$expand=.')
      : Promise.resolve(null);
  const floating = redfish('GET', '/redfish/v1/Managers/SP' + serving + '/EthernetInterfaces/Floating');
  const answers = await Promise.all([...asks, fans, floating]);
  SPS.forEach((sp, i) => {
    state.managers[sp] = answers[i] && answers[i].status === 200 ? answers[i].json : null;
  });
  const fanAnswer = answers[2];
  state.fans = {};
  if (fanAnswer && fanAnswer.status === 200) {
    for (const f of fanAnswer.json.Members || []) {
      const sp = /^SP([AB])_/.exec(f.Id || '');
      if (sp) (state.fans[sp[1]] = state.fans[sp[1]] || []).push(f);
    }
  }
  const iface = answers[3];
  const address = iface && iface.status === 200 && iface.json.IPv4StaticAddresses &&
                  iface.json.IPv4StaticAddresses[0];
  if (address && address.Address) state.floating = address.Address;
  return {serving, role: oem.Role};
}

function followServingSp(serving, role) {
  if (state.servingSp && serving !== state.servingSp) {
    showNotice('The management address moved from SP-' + state.servingSp + ' to SP-' + serving + '.');
  }
  // A stream to the SP that no longer holds the address would stay silent: open it anew.
  if (state.streamSp && state.streamSp !== serving) restartStream();
  state.servingSp = serving;
  if (state.expectFailoverTo) {
    if (serving === state.expectFailoverTo && role === 'active') {
      state.expectFailoverTo = null;
    } else if (performance.now() - state.failoverSince > FAILOVER_DEADLINE_MS) {
      showNotice('SP-' + state.expectFailoverTo + ' did not take the address over within ' +
                 FAILOVER_DEADLINE_MS / 1000 + ' s.');
      state.expectFailoverTo = null;
    }
  }
  if (state.expectFailoverTo) {
    setConnection('reconnecting', 'Failover to SP-' + state.expectFailoverTo + ' requested: reconnecting…');
  } else {
    setConnection('connected', 'Connected to SP-' + serving + (state.mode === 'degraded' ? ' (rescue mode)' : ''));
  }
}

async function pollLoop(generation) {
  let failures = 0;
  let firstFailure = 0;
  while (generation === state.generation) {
    try {
      const {serving, role} = await pollOnce();
      if (generation !== state.generation) return;
      failures = 0;
      followServingSp(serving, role);
      render();
      await sleep(POLL_MS);
    } catch (e) {
      if (generation !== state.generation) return;
      if (e instanceof SessionEnded) return sessionEnded();
      if (!(e instanceof Unreachable)) throw e;
      if (!failures) firstFailure = performance.now();
      failures += 1;
      if (performance.now() - firstFailure > RECONNECT_DEADLINE_MS) {
        setConnection('lost', 'Connection lost: no answer for ' + RECONNECT_DEADLINE_MS / 1000 + ' s');
        showNotice('The array does not answer (' + e.message + '). Reload the page to try again.');
        return;
      }
      setConnection('reconnecting', 'Reconnecting… (attempt ' + failures + ': ' + e.message + ')');
      await sleep(Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS));
    }
  }
}

// ---- events: the SSE stream, read with fetch so that it carries the X-Auth-Token ----

function setEventsState(kind, text) {
  const el = $('events-state');
  if (el.dataset.state === kind && el.textContent === text) return;
  el.dataset.state = kind;
  el.textContent = text;
}

function addEvent(record, id) {
  const list = $('event-list');
  const item = el('li', {'data-id': String(id)},
                  el('span', {class: 'id', text: '#' + id}),
                  el('time', {datetime: record.EventTimestamp || record.Created || '',
                              text: (record.EventTimestamp || record.Created || '').slice(0, 19).replace('T', ' ')}),
                  el('span', {class: 'health-' + (record.MessageSeverity || record.Severity),
                              text: record.MessageSeverity || record.Severity || ''}),
                  el('span', {text: record.Message || record.MessageId || ''}));
  list.prepend(item);
  while (list.children.length > EVENTS_SHOWN) list.lastElementChild.remove();
}

function takeEvent(id, record) {
  if (state.lastEventId !== null && id <= state.lastEventId) return;  // seen already
  state.lastEventId = id;
  addEvent(record, id);
}

// The newest events of the log, before the stream goes on from the last of them.
async function loadRecentEvents() {
  const base = '/redfish/v1/Managers/SP' + (state.servingSp || 'A') + '/LogServices/Events/Entries';
  const first = await redfish('GET', base + '?$top=1');
  if (first.status !== 200) return;
  const total = first.json['Members@odata.count'] || 0;
  const skip = Math.max(0, total - 20);
  const page = await redfish('GET', base + '?$skip=' + skip + '&$top=20');
  if (page.status !== 200) return;
  for (const entry of page.json.Members || []) takeEvent(Number(entry.Id), entry);
}

function restartStream() {
  if (state.stream) state.stream.abort();
}

function parseEventBlock(block) {
  let id = null;
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = Number(line.slice(3).trim());
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (!data) return;
  const event = JSON.parse(data);
  for (const record of event.Events || []) takeEvent(Number(record.EventId || id), record);
}

async function readStream(generation) {
  const abort = new AbortController();
  state.stream = abort;
  const headers = {'X-Auth-Token': state.token, Accept: 'text/event-stream'};
  if (state.lastEventId !== null) headers['Last-Event-ID'] = String(state.lastEventId);
  let silence = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch('/redfish/v1/EventService/SSE', {headers, signal: abort.signal, cache: 'no-store'});
    if (res.status === 401) throw new SessionEnded();
    if (res.status !== 200) return 'HTTP ' + res.status;
    state.streamSp = res.headers.get('X-DualSP-SP');
    setEventsState('streaming', 'Live, from SP-' + state.streamSp);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), STREAM_SILENCE_MS);
      const {value, done} = await reader.read();
      if (done || generation !== state.generation) return 'the stream ended';
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        parseEventBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (e) {
    if (e instanceof SessionEnded) throw e;
    return e.name === 'AbortError' ? 'silent or moved' : e.message;
  } finally {
    clearTimeout(silence);
    abort.abort();
    if (state.stream === abort) state.streamSp = null;
  }
}

async function eventLoop(generation) {
  try {
    await loadRecentEvents();
  } catch (e) {
    if (e instanceof SessionEnded) return sessionEnded();
  }
  let failures = 0;
  while (generation === state.generation) {
    try {
      const why = await readStream(generation);
      if (generation !== state.generation) return;
      failures += 1;
      setEventsState('reconnecting', 'Reconnecting… (' + why + '; resuming after event #' +
                     (state.lastEventId === null ? '-' : state.lastEventId) + ')');
      await sleep(Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS));
      if (why === 'silent or moved') failures = 0;
    } catch (e) {
      if (e instanceof SessionEnded) return sessionEnded();
      throw e;
    }
  }
}

// ---- the session ----

async function login(user, password) {
  const answer = await redfish('POST', '/redfish/v1/SessionService/Sessions',
                               {UserName: user, Password: password}, {noAuth: true});
  if (answer.status !== 201) throw new Error(answer.status === 401 ? 'Wrong user name or password.' : errorText(answer));
  state.token = answer.headers.get('X-Auth-Token');
  state.session = answer.headers.get('Location');
  state.user = user;
  const account = await redfish('GET', '/redfish/v1/AccountService/Accounts/' + encodeURIComponent(user));
  if (account.status === 200 && account.json.PasswordChangeRequired) {
    await logout();
    throw new Error('This account must change its password first (PATCH ' + account.json['@odata.id'] +
                    ' {"Password": ...}).');
  }
  state.role = account.status === 200 ? account.json.RoleId : null;
}

function start() {
  state.generation += 1;
  const generation = state.generation;
  state.servingSp = null;
  state.lastEventId = null;
  $('event-list').replaceChildren();
  $('login').hidden = true;
  $('array').hidden = false;
  $('events').hidden = false;
  $('account').hidden = false;
  $('account-name').textContent = state.user;
  $('account-role').textContent = state.role || 'role unknown';
  setConnection('connecting', 'Connecting…');
  setEventsState('connecting', 'Connecting…');
  pollLoop(generation);
  // The stream starts once the first poll has said which SP serves.
  (async () => {
    for (let i = 0; i < 100 && !state.servingSp && generation === state.generation; i++) await sleep(100);
    if (generation === state.generation) eventLoop(generation);
  })();
}

function showLogin(reason) {
  state.generation += 1;
  restartStream();
  state.token = null;
  state.session = null;
  $('login').hidden = false;
  $('array').hidden = true;
  $('events').hidden = true;
  $('account').hidden = true;
  $('login-reason').textContent = reason || '';
  $('login-reason').hidden = !reason;
  setConnection('signed-out', 'Not signed in');
  $('login-user').focus();
}

function sessionEnded() {
  showLogin('Your session ended (it timed out or was closed). Sign in again to go on.');
}

async function logout() {
  const session = state.session;
  if (session) {
    try {
      await redfish('DELETE', session);
    } catch (e) {
      // Gone or unreachable: it ends by itself after its idle timeout.
    }
  }
  showLogin('');
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('login-error').textContent = '';
    const password = $('login-password');
    try {
      await login($('login-user').value, password.value);
      password.value = '';
      showNotice('');
      start();
    } catch (e) {
      $('login-error').textContent = e instanceof Unreachable ? 'The array does not answer: ' + e.message : e.message;
    }
  });
  $('logout').addEventListener('click', logout);
  showLogin('');
});
