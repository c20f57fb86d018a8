/* The order editor's enhancements: a map to draw and edit the exclusion zone (a circle: click
   to place the centre, drag its centre and radius handles; a polygon: click to add corners, drag
   them), with its warning buffer and the curfew address shown, postcode look-up without leaving
   the page, and "copy to all days" in place. What is drawn is written into the form's own fields
   (centre, radius, corners), which the server checks like any other input; every one of these
   also works without JavaScript, by typing into those fields. */
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
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  el.vigilMap = map;
  window.VigilMap.background(map);
  var drawn = L.layerGroup().addTo(map);    // the zones as they will be stored
  var handles = L.layerGroup().addTo(map);  // what the officer drags to change them
  var corners = [];
  var viewSet = false;

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
  function centre() {
    var lat = num('exclusion_lat'), lon = num('exclusion_lon');
    return lat === null || lon === null ? null : L.latLng(lat, lon);
  }
  function setCentre(latlng) {
    field('exclusion_lat').value = latlng.lat.toFixed(6);
    field('exclusion_lon').value = latlng.lng.toFixed(6);
  }
  function edge() {
    /* The radius handle sits due east of the centre, on the circle's edge. */
    var c = centre(), r = num('exclusion_radius') || 0;
    return L.latLng(c.lat, c.lng + r / (111320 * Math.cos(c.lat * Math.PI / 180)));
  }

  function zones() {
    var buffer = num('exclusion_buffer') || 0;
    var out = [];
    if (shape() === 'polygon' && corners.length >= 3) {
      var ring = corners.map(function (c) { return [c[1], c[0]]; });
      ring.push(ring[0]);
      out.push({ type: 'exclusion_zone', label: 'Exclusion zone', buffer_m: buffer,
                 geometry: { type: 'Polygon', coordinates: [ring] } });
    } else if (shape() === 'circle' && centre()) {
      out.push({ type: 'exclusion_zone', label: 'Exclusion zone', radius_m: num('exclusion_radius') || 0,
                 buffer_m: buffer, geometry: { type: 'Point',
                 coordinates: [num('exclusion_lon'), num('exclusion_lat')] } });
    }
    if (num('curfew_lat') !== null && num('curfew_lon') !== null) {
      out.push({ type: 'curfew', label: 'Curfew address', radius_m: num('curfew_radius') || 0,
                 geometry: { type: 'Point', coordinates: [num('curfew_lon'), num('curfew_lat')] } });
    }
    return out;
  }

  function handle(latlng, label, onDrag) {
    /* A square the officer drags (the fields below the map do the same from the keyboard). */
    var marker = L.marker(latlng, { draggable: true, title: label, alt: label, vigil: 'handle',
      icon: L.divIcon({ className: 'vigil-handle', iconSize: [14, 14] }), autoPan: true });
    marker.on('drag', function () { onDrag(marker.getLatLng()); drawZones(false); });
    marker.on('dragend', function () { redraw(false); });
    return marker.addTo(handles);
  }

  function placeHandles() {
    handles.clearLayers();
    if (shape() === 'polygon') {
      corners.forEach(function (c, i) {
        handle(c, 'Corner ' + (i + 1), function (p) { corners[i] = [p.lat, p.lng]; writeCorners(); });
      });
    } else if (centre()) {
      var radius = handle(edge(), 'Radius', function (p) {
        field('exclusion_radius').value = String(Math.round(map.distance(centre(), p)));
      });
      handle(centre(), 'Centre', function (p) { setCentre(p); radius.setLatLng(edge()); });
    }
  }

  function drawZones(fit) {
    drawn.clearLayers();
    var layers = [];
    zones().forEach(function (zone) {
      layers = layers.concat(window.VigilMap.zoneLayers(zone, false));
    });
    /* The view is set before the layers are drawn: a circle has no bounds on a map without one.
       With nothing to show (a polygon not yet begun) the view stays where the officer was. */
    var bounds = L.latLngBounds([]);
    layers.forEach(function (layer) { bounds.extend(window.VigilMap.boundsOf(layer)); });
    if (fit && (bounds.isValid() || !viewSet)) {
      window.VigilMap.fitOrDefault(map, bounds, 0.3);
      viewSet = true;
    }
    layers.forEach(function (layer) { layer.addTo(drawn); });
  }

  function redraw(fit) {
    drawZones(fit);
    placeHandles();
  }

  map.on('click', function (event) {
    if (shape() === 'polygon') {
      corners.push([event.latlng.lat, event.latlng.lng]);
      writeCorners();
    } else {
      setCentre(event.latlng);
    }
    form.querySelector('#exclusion').checked = true;
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
      fetch('/postcodes/' + encodeURIComponent(postcode), { credentials: 'same-origin' })
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
          if (prefix === 'exclusion' && shape() === 'polygon' && corners.length < 3) {
            map.setView([found.lat, found.lon], 16, { animate: false }); // corners go round it
          }
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
