/* The order editor's enhancements: a map to place and adjust the exclusion zone (circle or
   polygon, with its warning buffer) and the curfew address, postcode look-up without leaving the
   page, and "copy to all days" in place. Every one of these also works without JavaScript. */
(function () {
  'use strict';
  var form = document.getElementById('order-form');
  if (!form) { return; }
  function field(name) { return form.querySelector('[name="' + name + '"]'); }
  function num(name) { var v = parseFloat(field(name).value); return isFinite(v) ? v : null; }

  /* Copy one day's curfew hours to every day. */
  form.querySelectorAll('button[name="copy_from"]').forEach(function (button) {
    button.addEventListener('click', function (event) {
      event.preventDefault();
      var day = button.value;
      var on = field('curfew_' + day + '_on').checked;
      var start = field('curfew_' + day + '_start').value;
      var end = field('curfew_' + day + '_end').value;
      form.querySelectorAll('tr[data-day]').forEach(function (row) {
        var d = row.getAttribute('data-day');
        field('curfew_' + d + '_on').checked = on;
        field('curfew_' + d + '_start').value = start;
        field('curfew_' + d + '_end').value = end;
      });
      var status = document.getElementById('order-status');
      if (status) { status.textContent = 'Copied to every day.'; }
    });
  });

  var el = document.getElementById('order-map');
  if (!el || typeof L === 'undefined' || !window.VigilMap) { return; }
  var map = L.map(el, { attributionControl: false });
  el.vigilMap = map;
  window.VigilMap.background(map);
  var drawn = L.layerGroup().addTo(map);
  var corners = [];

  function readCorners() {
    corners = field('exclusion_polygon').value.split('\n').map(function (line) {
      var parts = line.split(/[,\s]+/).filter(Boolean).map(parseFloat);
      return parts.length === 2 && isFinite(parts[0]) && isFinite(parts[1]) ? parts : null;
    }).filter(Boolean);
  }
  function writeCorners() {
    field('exclusion_polygon').value = corners.map(function (c) {
      return c[0].toFixed(6) + ', ' + c[1].toFixed(6);
    }).join('\n');
  }
  function shape() { return form.querySelector('[name="exclusion_shape"]:checked').value; }

  function redraw(fit) {
    drawn.clearLayers();
    var buffer = num('exclusion_buffer') || 0;
    var zones = [];
    if (shape() === 'polygon' && corners.length >= 3) {
      var ring = corners.map(function (c) { return [c[1], c[0]]; });
      ring.push(ring[0]);
      zones.push({ type: 'exclusion_zone', label: 'Exclusion zone',
                   geometry: { type: 'Polygon', coordinates: [ring] } });
    } else if (shape() === 'polygon') {
      corners.forEach(function (c) { L.circleMarker(c, { radius: 4, color: '#d4351c', vigil: 'corner' }).addTo(drawn); });
    } else if (num('exclusion_lat') !== null && num('exclusion_lon') !== null) {
      zones.push({ type: 'exclusion_zone', label: 'Exclusion zone', radius_m: num('exclusion_radius') || 0,
                   buffer_m: buffer, geometry: { type: 'Point',
                   coordinates: [num('exclusion_lon'), num('exclusion_lat')] } });
    }
    if (num('curfew_lat') !== null && num('curfew_lon') !== null) {
      zones.push({ type: 'curfew', label: 'Curfew address', radius_m: num('curfew_radius') || 0,
                   geometry: { type: 'Point', coordinates: [num('curfew_lon'), num('curfew_lat')] } });
    }
    var layers = [];
    zones.forEach(function (zone) {
      layers = layers.concat(window.VigilMap.zoneLayers(zone, false));
    });
    /* The view is set before the layers are drawn: a circle has no bounds on a map without one. */
    if (fit) {
      var bounds = L.latLngBounds([]);
      layers.forEach(function (layer) { bounds.extend(window.VigilMap.boundsOf(layer)); });
      window.VigilMap.fitOrDefault(map, bounds, 0.3);
    }
    layers.forEach(function (layer) { layer.addTo(drawn); });
  }

  map.on('click', function (event) {
    var lat = event.latlng.lat, lon = event.latlng.lng;
    if (shape() === 'polygon') {
      corners.push([lat, lon]);
      writeCorners();
    } else {
      field('exclusion_lat').value = lat.toFixed(6);
      field('exclusion_lon').value = lon.toFixed(6);
    }
    redraw(false);
  });
  form.querySelectorAll('[data-polygon]').forEach(function (button) {
    button.addEventListener('click', function () {
      if (button.getAttribute('data-polygon') === 'undo') { corners.pop(); } else { corners = []; }
      writeCorners();
      redraw(false);
    });
  });
  ['exclusion_lat', 'exclusion_lon', 'exclusion_radius', 'exclusion_buffer', 'curfew_lat',
   'curfew_lon', 'curfew_radius'].forEach(function (name) {
    field(name).addEventListener('change', function () { redraw(true); });
  });
  field('exclusion_polygon').addEventListener('change', function () { readCorners(); redraw(true); });
  form.querySelectorAll('[name="exclusion_shape"]').forEach(function (radio) {
    radio.addEventListener('change', function () { redraw(true); });
  });

  /* Postcode look-up in place; on any problem fall back to the server round trip. */
  form.querySelectorAll('button[data-find]').forEach(function (button) {
    button.addEventListener('click', function (event) {
      var prefix = button.getAttribute('data-find');
      var postcode = field(prefix + '_postcode').value.trim();
      if (!postcode) { return; }
      event.preventDefault();
      fetch('/monitoring/postcodes/' + encodeURIComponent(postcode), { credentials: 'same-origin' })
        .then(function (response) {
          if (!response.ok) { throw new Error('lookup'); }
          return response.json();
        })
        .then(function (found) {
          field(prefix + '_postcode').value = found.postcode;
          field(prefix + '_lat').value = found.lat.toFixed(6);
          field(prefix + '_lon').value = found.lon.toFixed(6);
          if (prefix === 'exclusion') { form.querySelector('#exclusion').checked = true; }
          redraw(true);
        })
        .catch(function () {
          field(prefix + '_lat').value = '';
          field(prefix + '_lon').value = '';
          form.requestSubmit(button); // the server shows the reason in the error summary
        });
    });
  });

  readCorners();
  redraw(true);
})();
