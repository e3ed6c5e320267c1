// The rescue page of an unhealthy SP (docs/WEB.md "Console"): which SP this is, from the
// service root (no credentials needed there), in the example commands.
'use strict';
(async () => {
  for (const el of document.querySelectorAll('.host')) el.textContent = location.host;
  try {
    const res = await fetch('/redfish/v1', {headers: {Accept: 'application/json'}, cache: 'no-store'});
    const oem = ((await res.json()).Oem || {}).DualSP || {};
    if (!oem.ServingSp) return;
    for (const el of document.querySelectorAll('.manager')) el.textContent = 'SP' + oem.ServingSp;
    document.getElementById('serving').textContent =
        'SP-' + oem.ServingSp + ' (' + (oem.Role || 'role unknown') + ') is unhealthy and serves ' +
        (oem.Mode || 'degraded') + ' mode.';
  } catch (e) {
    document.getElementById('serving').textContent = 'This service processor does not answer.';
  }
})();
