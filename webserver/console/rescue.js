// The rescue page of an unhealthy SP (docs/WEB.md "Console"): which SP this is, from the
// service root (no credentials needed there), in the example commands.
'use strict';
(async () => {
  for (const el of document.querySelectorAll('.origin')) el.textContent = location.origin;
  try {
    const res = await fetch('/redfish/v1', {headers: {Accept: 'application/json'}, cache: 'no-store'});
    // Every answer names the SP (X-DualSP-SP), even a 503 while spd's status board is unreadable.
    const sp = res.headers.get('X-DualSP-SP');
    const oem = res.ok ? ((await res.json()).Oem || {}).DualSP || {} : {};
    if (!sp) return;
    for (const el of document.querySelectorAll('.manager')) el.textContent = 'SP' + sp;
    document.getElementById('serving').textContent =
        'SP-' + sp + (oem.Role ? ' (' + oem.Role + ')' : '') + ' is unhealthy and serves ' +
        (oem.Mode || 'degraded') + ' mode.';
  } catch (e) {
    document.getElementById('serving').textContent = 'This service processor does not answer.';
  }
})();
