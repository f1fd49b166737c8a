// Runs before Parley's code (index.html loads it first, with its own integrity). Every script
// and style of the page is loaded with Subresource Integrity from the release manifest; when
// the browser refuses one because its bytes are not the ones the manifest names, the page would
// otherwise stay blank. This says why instead, as an alert, and nothing of the refused code runs.
'use strict';
(function () {
  var shown = false;
  window.addEventListener(
    'error',
    function (event) {
      var el = event.target;
      if (shown || !el || (el.tagName !== 'SCRIPT' && el.tagName !== 'LINK')) return;
      shown = true;
      var what = el.getAttribute('src') || el.getAttribute('href') || 'a file';
      var alert = document.createElement('div');
      alert.setAttribute('role', 'alert');
      alert.className = 'code-refused';
      alert.textContent =
        'Parley refused to run code from this server that does not match its release manifest (' +
        what +
        '). Your keys and messages were not touched. Try again later, and tell the people who run this server.';
      (document.body || document.documentElement).appendChild(alert);
    },
    true,
  );
})();
