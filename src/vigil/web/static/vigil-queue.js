/* The live alert queue: listens to the alerts stream (server-sent events) and, on any change,
   fetches the queue's rows again from the server, so the order, the counts and the filters are
   always the server's. Keyboard focus stays on the same alert link across a refresh, and screen
   readers hear what arrived. Without JavaScript the page still works: reload to refresh. */
(function () {
  'use strict';
  var live = document.getElementById('queue-live');
  if (!live || !window.EventSource) { return; }
  var status = document.getElementById('queue-status');
  var connection = document.getElementById('queue-connection');
  var pending = null;

  function ids() {
    var out = {};
    live.querySelectorAll('tr[data-alert-id]').forEach(function (row) {
      out[row.getAttribute('data-alert-id')] = true;
    });
    return out;
  }

  function refresh() {
    pending = null;
    var before = ids();
    var focused = document.activeElement && live.contains(document.activeElement)
      ? document.activeElement.getAttribute('href') : null;
    fetch(live.getAttribute('data-queue-url'), { credentials: 'same-origin',
                                                  headers: { Accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        live.innerHTML = html;
        var arrived = [];
        live.querySelectorAll('tr[data-alert-id]').forEach(function (row) {
          if (!before[row.getAttribute('data-alert-id')]) {
            row.classList.add('vigil-new');
            arrived.push(row.getAttribute('data-severity') + ' alert: ' +
                         row.querySelector('a').textContent.split(':')[0]);
          }
        });
        if (arrived.length) { status.textContent = 'New ' + arrived.join('; '); }
        if (focused) {
          var again = live.querySelector('a[href="' + focused + '"]');
          if (again) { again.focus(); }
        }
      });
  }

  function connect() {
    var source = new EventSource('/api/alerts/stream');
    source.addEventListener('open', function () {
      connection.textContent = 'Live updates: on.';
      refresh(); // catch anything raised while the page was loading or reconnecting
    });
    source.addEventListener('alert', function () {
      if (!pending) { pending = setTimeout(refresh, 150); }
    });
    source.addEventListener('error', function () {
      connection.textContent = 'Live updates: reconnecting…';
    });
  }
  connect();
})();
