/* Vigil maps: zones, warning buffers, curfew addresses, trails, fixes with accuracy circles and
   trail playback, drawn with Leaflet over street tiles when the settings name a tile server (the
   layout carries it in <script id="vigil-map-tiles">), else over a 100 m grid; a scale bar on
   both. If the tile server fails, the map falls back to the grid and says so.

   A map is a <div class="vigil-map" data-map="ID"> with its data in <script id="ID"
   type="application/json">: {zones: [...], trail: {points: [[lat, lon, acc, t, inZone, flagged]]},
   alert: {lat, lon}}. data-accuracy draws every fix's accuracy circle; data-playback adds a
   slider and a play button. Every layer drawn from the data carries its part in options.vigil
   ('zone', 'buffer', 'trail', 'fix', 'accuracy', 'alert', 'playback', 'tiles', 'grid'), and the
   Leaflet map is kept on the element as el.vigilMap, so a test can see what the map really
   drew. */
(function () {
  'use strict';
  var COLOURS = { zone: '#d4351c', buffer: '#f47738', curfew: '#1d70b8', inclusion: '#00703c',
                  wearer: '#4c2c92', trail: '#0b0c0c' };

  function zoneLayers(zone, highlight) {
    var layers = [];
    var kind = zone.type === 'curfew' ? 'curfew' : zone.type === 'inclusion_zone' ? 'inclusion'
      : zone.type === 'wearer' ? 'wearer' : 'zone';
    var colour = COLOURS[kind];
    var weight = highlight ? 4 : 2;
    var g = zone.geometry || {};
    var label = zone.label || kind;
    if (g.type === 'Point') {
      var centre = [g.coordinates[1], g.coordinates[0]];
      layers.push(L.circle(centre, { radius: zone.radius_m || 0, color: colour, weight: weight,
                                     fillOpacity: 0.2, vigil: 'zone' }).bindTooltip(label));
      if (zone.buffer_m) {
        layers.push(L.circle(centre, { radius: (zone.radius_m || 0) + zone.buffer_m,
                                       color: COLOURS.buffer, weight: 2, dashArray: '6 6',
                                       fill: false, vigil: 'buffer' }));
      }
    } else if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
      if (zone.buffer_m) {
        var outlines = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
        var pieces = [];
        outlines.forEach(function (rings) {
          pieces = pieces.concat(polygonBuffer(rings[0], zone.buffer_m));
        });
        layers.push(L.polygon(pieces, { stroke: false, fillColor: COLOURS.buffer,
                                        fillOpacity: 0.18, fillRule: 'nonzero',
                                        interactive: false, vigil: 'buffer' }));
      }
      layers.push(L.geoJSON(g, { style: { color: colour, weight: weight, fillOpacity: 0.2 },
                                 vigil: 'zone' })
        .bindTooltip(label));
    }
    return layers;
  }

  function polygonBuffer(outer, metres) {
    /* The warning buffer round a polygon: the zone grown by `metres` every way, as the zone, a
       band along each edge and a disc at each corner, all wound the same way, so a nonzero fill
       paints their union once. Flat metres round the first corner are true to well under a
       metre at the size of a zone. */
    var lon0 = outer[0][0], lat0 = outer[0][1];
    var ky = 111320, kx = 111320 * Math.cos(lat0 * Math.PI / 180);
    function anticlockwise(ring) {
      var twice = 0;
      ring.forEach(function (a, i) { var b = ring[(i + 1) % ring.length]; twice += a[0] * b[1] - b[0] * a[1]; });
      return twice < 0 ? ring.reverse() : ring;
    }
    var corners = outer.slice(0, -1).map(function (p) { return [(p[0] - lon0) * kx, (p[1] - lat0) * ky]; });
    var pieces = [anticlockwise(corners.slice())];
    corners.forEach(function (a, i) {
      var b = corners[(i + 1) % corners.length];
      var length = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
      var nx = -(b[1] - a[1]) / length * metres, ny = (b[0] - a[0]) / length * metres;
      pieces.push(anticlockwise([[a[0] + nx, a[1] + ny], [b[0] + nx, b[1] + ny],
                                 [b[0] - nx, b[1] - ny], [a[0] - nx, a[1] - ny]]));
      var disc = [];
      for (var k = 0; k < 24; k += 1) {
        disc.push([a[0] + metres * Math.cos(k * Math.PI / 12), a[1] + metres * Math.sin(k * Math.PI / 12)]);
      }
      pieces.push(disc);
    });
    return pieces.map(function (ring) {
      return ring.map(function (q) { return [lat0 + q[1] / ky, lon0 + q[0] / kx]; });
    });
  }

  function boundsOf(layer) {
    /* A circle works out its bounds from its projected position, which exists only once the map
       has a view; computed from its centre and radius it needs no map, so the view can be fitted
       to the zones before anything is drawn. */
    if (layer instanceof L.Circle) { return layer.getLatLng().toBounds(2 * layer.getRadius()); }
    if (layer.getBounds) { return layer.getBounds(); }
    if (layer.getLatLng) { var p = layer.getLatLng(); return L.latLngBounds(p, p); }
    return L.latLngBounds([]);
  }

  function fitOrDefault(map, bounds, pad) {
    if (bounds.isValid()) { map.fitBounds(bounds.pad(pad), { animate: false }); }
    else { map.setView([52.5, -1.9], 12, { animate: false }); }
  }

  function metresGrid(map, group) {
    /* Faint lines every 100 m (or 1 km when zoomed out): without tiles they show distance. */
    group.clearLayers();
    if (!map.getPane('vigil-grid')) { map.createPane('vigil-grid').style.zIndex = 350; }
    var b = map.getBounds();
    var lat = b.getCenter().lat;
    var widthM = map.distance([lat, b.getWest()], [lat, b.getEast()]);
    var step = widthM > 8000 ? 1000 : widthM > 2500 ? 500 : 100;
    var dLat = step / 111320;
    var dLon = step / (111320 * Math.cos(lat * Math.PI / 180));
    var style = { color: '#b1b4b6', weight: 1, interactive: false, pane: 'vigil-grid',
                  vigil: 'grid' };
    for (var y = Math.floor(b.getSouth() / dLat) * dLat; y < b.getNorth(); y += dLat) {
      group.addLayer(L.polyline([[y, b.getWest()], [y, b.getEast()]], style));
    }
    for (var x = Math.floor(b.getWest() / dLon) * dLon; x < b.getEast(); x += dLon) {
      group.addLayer(L.polyline([[b.getSouth(), x], [b.getNorth(), x]], style));
    }
  }

  function tileSource() {
    var config = document.getElementById('vigil-map-tiles');
    return config ? JSON.parse(config.textContent) : null;
  }

  function escapeHtml(text) {
    /* Leaflet writes attributions as HTML; the settings' text is shown as text. */
    var holder = document.createElement('span');
    holder.textContent = text;
    return holder.innerHTML;
  }

  function gridBackground(map) {
    var grid = L.layerGroup().addTo(map);
    map.whenReady(function () { metresGrid(map, grid); });
    map.on('moveend', function () { metresGrid(map, grid); });
  }

  function tilesUnavailable(map, layer) {
    map.removeLayer(layer);
    gridBackground(map);
    var note = L.control({ position: 'topright' });
    note.onAdd = function () {
      var div = L.DomUtil.create('div', 'vigil-map-note');
      div.setAttribute('role', 'status');
      div.textContent = 'Street map unavailable: the tile server did not answer. The grid and the scale bar show distance.';
      return div;
    };
    note.addTo(map);
  }

  function background(map) {
    /* Street tiles when configured (tiles past the server's deepest zoom are enlarged from it),
       the grid otherwise; either way the scale bar. */
    L.control.scale({ metric: true, imperial: false, maxWidth: 200 }).addTo(map);
    var tiles = tileSource();
    if (!tiles) { gridBackground(map); return; }
    L.control.attribution({ prefix: false }).addTo(map);
    var layer = L.tileLayer(tiles.url, { attribution: escapeHtml(tiles.attribution), maxZoom: 22,
                                         maxNativeZoom: tiles.maxZoom, vigil: 'tiles' });
    /* A server that answers nothing gives way to the grid; once tiles have come, one that fails
       later (panning, a moment's outage) leaves a gap rather than taking the streets away. */
    var loaded = false;
    layer.once('tileload', function () { loaded = true; });
    layer.on('tileerror', function () {
      if (!loaded && map.hasLayer(layer)) { tilesUnavailable(map, layer); }
    });
    layer.addTo(map);
  }

  function formatTime(seconds) {
    return new Date(seconds * 1000).toLocaleString('en-GB', { timeZone: 'Europe/London',
      weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  }

  function playback(el, map, points) {
    var wrap = document.createElement('div');
    wrap.className = 'vigil-playback';
    var id = el.id + '-slider';
    wrap.innerHTML =
      '<button type="button" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" data-play>Play</button>' +
      '<label class="govuk-label govuk-!-margin-bottom-0" for="' + id + '">Position in trail</label>' +
      '<input type="range" id="' + id + '" min="0" max="' + (points.length - 1) + '" value="0" step="1">' +
      '<span class="govuk-body-s govuk-!-margin-bottom-0" aria-live="off" data-time></span>';
    el.parentNode.insertBefore(wrap, el.nextSibling);
    var slider = wrap.querySelector('input');
    var label = wrap.querySelector('[data-time]');
    var button = wrap.querySelector('[data-play]');
    var marker = L.circleMarker([points[0][0], points[0][1]], { radius: 7, color: '#0b0c0c',
      fillColor: '#ffdd00', fillOpacity: 1, weight: 2, vigil: 'playback' }).addTo(map);
    var done = L.polyline([], { color: '#1d70b8', weight: 4 }).addTo(map);
    var timer = null;
    function show(i) {
      var p = points[i];
      marker.setLatLng([p[0], p[1]]);
      done.setLatLngs(points.slice(0, i + 1).map(function (q) { return [q[0], q[1]]; }));
      label.textContent = formatTime(p[3]) + (p[4] ? ' – inside a zone' : '');
      slider.setAttribute('aria-valuetext', label.textContent);
    }
    slider.addEventListener('input', function () { show(Number(slider.value)); });
    button.addEventListener('click', function () {
      if (timer) { clearInterval(timer); timer = null; button.textContent = 'Play'; return; }
      button.textContent = 'Pause';
      var step = Math.max(1, Math.round(points.length / 300));
      timer = setInterval(function () {
        var next = Math.min(points.length - 1, Number(slider.value) + step);
        slider.value = String(next);
        show(next);
        if (next >= points.length - 1) { clearInterval(timer); timer = null; button.textContent = 'Play'; }
      }, 50);
    });
    show(0);
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute('data-map'));
    if (!source || typeof L === 'undefined') { return; }
    var data = JSON.parse(source.textContent);
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false, keyboard: true });
    el.vigilMap = map;
    var fixes = L.layerGroup();
    var layers = [];
    (data.zones || []).forEach(function (zone) {
      zoneLayers(zone, data.highlight && zone.id === data.highlight).forEach(function (layer) {
        layers.push(layer);
      });
    });
    var points = (data.trail && data.trail.points) || [];
    if (points.length) {
      layers.push(L.polyline(points.map(function (p) { return [p[0], p[1]]; }),
                             { color: COLOURS.trail, weight: 2, opacity: 0.8, vigil: 'trail' }));
      var accuracy = el.hasAttribute('data-accuracy');
      points.forEach(function (p) {
        if (accuracy && p[2] > 0) {
          L.circle([p[0], p[1]], { radius: p[2], color: p[4] ? COLOURS.zone : '#505a5f',
                                   weight: 1, fillOpacity: 0.05, interactive: false,
                                   vigil: 'accuracy' })
            .addTo(fixes);
        }
        if (accuracy || p[4]) {
          L.circleMarker([p[0], p[1]], { radius: 3, color: p[4] ? COLOURS.zone : '#0b0c0c',
                                         fillOpacity: 1, weight: 1, vigil: 'fix' })
            .bindTooltip(formatTime(p[3]) + ', ±' + p[2] + ' m' + (p[5] ? ' (flagged)' : ''))
            .addTo(fixes);
        }
      });
    }
    if (data.alert && data.alert.lat !== null && data.alert.lat !== undefined) {
      layers.push(L.circleMarker([data.alert.lat, data.alert.lon],
                                 { radius: 8, color: '#d4351c', weight: 3, fill: false,
                                   vigil: 'alert' }));
    }
    /* The view first, from the layers' own geometry; then the layers go on the map. */
    var bounds = L.latLngBounds([]);
    layers.forEach(function (layer) { bounds.extend(boundsOf(layer)); });
    fitOrDefault(map, bounds, 0.15);
    layers.forEach(function (layer) { layer.addTo(map); });
    fixes.addTo(map);
    background(map);
    if (el.hasAttribute('data-playback') && points.length > 1) { playback(el, map, points); }
  }

  window.VigilMap = { zoneLayers: zoneLayers, background: background, boundsOf: boundsOf,
                     fitOrDefault: fitOrDefault };
  function start() { document.querySelectorAll('.vigil-map[data-map]').forEach(draw); }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); }
  else { start(); }
})();
