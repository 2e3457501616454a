/* The what-if page: draws the region, sends each edit to the server, redraws what it answers.
 * Text from the data only ever reaches the page through textContent. */
(function () {
  'use strict';
  var FC = window.FC;
  var W = FC.words;
  var token = new URLSearchParams(location.search).get('token') || '';
  var region = null;
  var view = null;
  var suggestions = [];
  var otherTargets = null;
  var markers = {};
  var suggestionMarkers = [];
  var villageLayers = [];
  var roadLayers = [];
  var roadsProfile = null;
  var roads = null;
  window.fcTimings = [];

  // ------------------------------------------------------------------ helpers

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function people(n) { return Math.round(n).toLocaleString(FC.lang === 'zh' ? 'zh-CN' : 'en'); }
  function pct(x) { return x === null || x === undefined ? '–' : (100 * x).toFixed(1) + '%'; }
  function minutesText(m) {
    if (m === null || m === undefined) {
      return view && view.horizon_minutes ? fmt(W.more_than, {m: view.horizon_minutes}) : W.no_route;
    }
    return m.toFixed(1) + ' ' + W.minutes;
  }
  function withToken(path) { return token ? path + (path.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token) : path; }
  function message(text, kind) {
    var box = document.getElementById('message');
    box.textContent = text || '';
    box.className = kind || '';
  }
  function api(method, path, body) {
    var headers = {'X-Requested-With': 'facility-coverage'};
    if (token) { headers['X-Token'] = token; }
    var init = {method: method, headers: headers};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || (response.status + ' ' + response.statusText)); }
        return data;
      });
    });
  }
  function afterPaint(callback) {
    requestAnimationFrame(function () { requestAnimationFrame(callback); });
  }

  // An edit: time from the user's action to the redrawn page, kept in window.fcTimings.
  function edit(action, method, path, body) {
    var started = performance.now();
    message(W.working, 'busy');
    return api(method, path, body).then(function (data) {
      var received = performance.now();
      apply(data.view);
      afterPaint(function () {
        window.fcTimings.push({action: action, ms: performance.now() - started, server_ms: data.server_ms,
                               network_ms: received - started, version: data.view.version});
        document.body.dataset.version = String(data.view.version);
      });
      message('');
      refreshOtherTargets();
      return data;
    }).catch(function (error) { message(error.message, 'error'); throw error; });
  }

  // ------------------------------------------------------------------ the map

  var map = L.map('map', {preferCanvas: true, zoomControl: true});
  window.fcMap = map;
  var canvas = L.canvas({padding: 0.3});
  if (FC.basemap === 'osm') {
    L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
      maxZoom: 19, attribution: 'Basemap &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    }).addTo(map);
  } else if (FC.basemap !== 'none') {
    var credit = FC.basemapAttribution.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    L.tileLayer(FC.basemap, {maxZoom: 19, attribution: credit}).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);
  map.on('click', function (e) {
    edit('add', 'POST', '/api/stations', {lon: e.latlng.lng, lat: e.latlng.lat}).catch(function () {});
  });

  function stationIcon(station) {
    var cls, text, colour, size = 20;
    if (station.origin === 'new') {
      cls = 'fc-icon fc-new'; text = '+'; colour = FC.siteColour; size = 22;
    } else {
      var icon = FC.icons[station.kind] || ['•', '#636363', 'circle'];
      text = icon[0]; colour = icon[1]; cls = 'fc-icon fc-' + icon[2];
    }
    if (!station.open) { cls += ' fc-closed'; }
    var span = el('span', text);
    var div = L.divIcon({className: cls, html: span, iconSize: [size, size]});
    div.options.html.style.background = colour;
    return div;
  }

  function stationPopup(station) {
    var box = el('div', null, 'fc-popup');
    box.appendChild(el('b', station.name));
    var table = el('table');
    [[W.kind, station.kind], [W.station, station.id],
     [W.status, (station.open ? W.open : W.closed) + (station.moved ? ', ' + W.moved : '') + ', ' +
      (station.origin === 'new' ? W['new'] : W.existing)]].forEach(function (row) {
      var tr = table.insertRow();
      tr.insertCell().textContent = row[0];
      tr.insertCell().textContent = row[1];
    });
    box.appendChild(table);
    var button;
    if (!station.open) {
      button = el('button', W.reopen);
      button.onclick = function () {
        map.closePopup();
        edit('reopen', 'POST', '/api/reopen/' + encodeURIComponent(station.id)).catch(function () {});
      };
    } else {
      button = el('button', station.origin === 'new' ? W.remove : W.close);
      button.className = 'fc-remove';
      button.onclick = function () {
        map.closePopup();
        edit('remove', 'DELETE', '/api/stations/' + encodeURIComponent(station.id)).catch(function () {});
      };
    }
    box.appendChild(button);
    return box;
  }

  function drawStations() {
    var seen = {};
    view.stations.forEach(function (station) {
      seen[station.id] = true;
      var marker = markers[station.id];
      var key = JSON.stringify(station);
      if (marker && marker.fcKey === key) { return; }
      if (marker) { map.removeLayer(marker); }
      marker = L.marker([station.lat, station.lon], {
        icon: stationIcon(station), draggable: station.open, title: station.name, keyboard: false,
        zIndexOffset: station.origin === 'new' ? 1000 : 0
      });
      marker.fcKey = key;
      marker.fcStation = station;
      marker.bindPopup(function () { return stationPopup(station); });
      marker.on('dragend', function () {
        var at = marker.getLatLng();
        edit('move', 'PATCH', '/api/stations/' + encodeURIComponent(station.id), {lon: at.lng, lat: at.lat})
          .catch(function () { marker.setLatLng([station.lat, station.lon]); });
      });
      marker.addTo(map);
      markers[station.id] = marker;
    });
    Object.keys(markers).forEach(function (id) {
      if (!seen[id]) { map.removeLayer(markers[id]); delete markers[id]; }
    });
    window.fcMarkers = markers;
  }

  // One canvas line per road piece, created once per profile; an edit restyles only the pieces whose band changed.
  var shownBands = '';
  function bandStyle(band) {
    if (band === '-') { return {color: '#9e9e9e', weight: 1, opacity: 0.6}; }
    return {color: FC.bandColours[Math.min(Number(band), FC.bandColours.length - 1)], weight: 2.5, opacity: 0.95};
  }
  function drawRoads() {
    if (!roads) { return; }
    var bands = view.road_bands;
    if (roadLayers.length !== roads.length) {
      roadLayers.forEach(function (layer) { map.removeLayer(layer); });
      roadLayers = roads.map(function (line, i) {
        var style = bandStyle(bands.charAt(i));
        style.renderer = canvas;
        style.interactive = false;
        return L.polyline(line, style).addTo(map);
      });
      shownBands = bands;
      return;
    }
    for (var i = 0; i < bands.length; i++) {
      if (bands.charCodeAt(i) !== shownBands.charCodeAt(i)) { roadLayers[i].setStyle(bandStyle(bands.charAt(i))); }
    }
    shownBands = bands;
  }

  function drawVillages() {
    var circle = view.settings.minutes;
    if (!villageLayers.length) {
      region.villages.forEach(function (v, i) {
        var layer = L.circleMarker([v.lat, v.lon], {renderer: canvas, radius: 5, weight: 1, color: '#333',
                                                    fillOpacity: 0.9, bubblingMouseEvents: false});
        layer.bindTooltip(function () { return el('span', v.name); }, {sticky: true});
        layer.bindPopup(function () { return villagePopup(v, i); });
        layer.addTo(map);
        villageLayers.push(layer);
      });
    }
    view.village_minutes.forEach(function (m, i) {
      var covered = m !== null && m <= circle;
      villageLayers[i].setStyle({fillColor: covered ? FC.coveredColour : FC.uncoveredColour});
      villageLayers[i].fcCovered = covered;
    });
    window.fcVillages = villageLayers;
  }

  function villagePopup(v, i) {
    var box = el('div', null, 'fc-popup');
    box.appendChild(el('b', v.name));
    var table = el('table');
    var nearest = view.village_station[i];
    var names = {};
    view.stations.forEach(function (s) { names[s.id] = s.name; });
    [[W.population, v.population === null ? '–' : people(v.population)],
     [W.nearest, nearest ? names[nearest] || nearest : '–'],
     [W.minutes, minutesText(view.village_minutes[i])]].forEach(function (row) {
      var tr = table.insertRow();
      tr.insertCell().textContent = row[0];
      tr.insertCell().textContent = row[1];
    });
    box.appendChild(table);
    return box;
  }

  function drawSuggestions() {
    suggestionMarkers.forEach(function (m) { map.removeLayer(m); });
    suggestionMarkers = suggestions.map(function (s, n) {
      var icon = L.divIcon({className: 'fc-icon fc-suggested', html: el('span', String(s.order)), iconSize: [24, 24]});
      icon.options.html.style.background = '#ffffff';
      var marker = L.marker([s.lat, s.lon], {icon: icon, title: fmt(W.suggested, {n: s.order}), keyboard: false});
      marker.bindPopup(function () {
        var box = el('div', null, 'fc-popup');
        box.appendChild(el('b', fmt(W.suggested, {n: s.order})));
        box.appendChild(el('div', fmt(W.gain, {p: people(s.population_gain), v: s.villages_gain})));
        box.appendChild(suggestionButtons(s));
        return box;
      });
      marker.addTo(map);
      return marker;
    });
  }

  // ------------------------------------------------------------------ the panel

  function section(title) {
    var box = el('section');
    box.appendChild(el('h2', title));
    return box;
  }

  function select(id, label, options, value, onchange) {
    var wrap = el('label', label);
    var s = el('select');
    s.id = id;
    options.forEach(function (o) {
      var option = el('option', o[1]);
      option.value = o[0];
      if (String(o[0]) === String(value)) { option.selected = true; }
      s.appendChild(option);
    });
    s.onchange = function () { onchange(s.value); };
    wrap.appendChild(s);
    return wrap;
  }

  function settingsSection() {
    var box = section(W.settings);
    var s = view.settings;
    function put(change) { edit('settings', 'PUT', '/api/settings', change).catch(function () { render(); }); }
    box.appendChild(select('profile', W.profile, region.profiles.map(function (p) { return [p, p]; }), s.profile,
                           function (v) { put({profile: v}); }));
    box.appendChild(select('direction', W.direction, [['to_facility', W.to_facility], ['from_facility', W.from_facility]],
                           s.direction, function (v) { put({direction: v}); }));
    var circle = el('label', W.circle);
    var input = el('input');
    input.id = 'minutes';
    input.type = 'number'; input.min = '1'; input.max = '240'; input.step = '1'; input.value = String(s.minutes);
    input.onchange = function () { put({minutes: Number(input.value)}); };
    circle.appendChild(input);
    box.appendChild(circle);
    box.appendChild(select('standard', W.standard,
                           [['', W.no_standard]].concat(region.standards.map(function (t) {
                             return [t.name, (FC.lang === 'zh' ? t.title_zh : t.title_en) + ' (' + t.name + ')'];
                           })), s.standard || '', function (v) { put({standard: v || null}); }));
    var kinds = region.kinds.slice();
    if (kinds.indexOf(s.new_kind) < 0) { kinds.push(s.new_kind); }
    box.appendChild(select('new-kind', W.new_kind, kinds.map(function (k) { return [k, k]; }), s.new_kind,
                           function (v) { put({new_kind: v}); }));
    var open = view.stations.filter(function (x) { return x.open; }).length;
    var added = view.stations.filter(function (x) { return x.origin === 'new'; }).length;
    var closed = view.stations.length - open;
    box.appendChild(el('div', fmt(W.stations_summary, {open: open, 'new': added, closed: closed}), 'small'));
    var legend = el('div', null, 'legend small');
    view.band_minutes.forEach(function (m, i) {
      var item = el('span');
      var swatch = el('span', null, 'swatch');
      swatch.style.background = FC.bandColours[Math.min(i, FC.bandColours.length - 1)];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode('≤ ' + m + ' ' + W.minutes));
      legend.appendChild(item);
    });
    [[FC.coveredColour, W.covered], [FC.uncoveredColour, W.not_covered]].forEach(function (pair) {
      var item = el('span');
      var dot = el('span', null, 'dot');
      dot.style.background = pair[0];
      item.appendChild(dot);
      item.appendChild(document.createTextNode(pair[1]));
      legend.appendChild(item);
    });
    box.appendChild(legend);
    return box;
  }

  function coverageSection() {
    var box = section(W.coverage);
    var table = el('table');
    table.id = 'coverage';
    var head = table.insertRow();
    [W.within, W.people, W.villages].forEach(function (t) { head.appendChild(el('th', t)); });
    view.thresholds.forEach(function (row) {
      var tr = table.insertRow();
      tr.dataset.minutes = String(row.minutes);
      tr.insertCell().textContent = '≤ ' + row.minutes + ' ' + W.minutes;
      var cell = tr.insertCell();
      cell.className = 'num share';
      if (row.population_share !== undefined && row.population_share !== null) {
        cell.textContent = people(row.population_covered) + ' (' + pct(row.population_share) + ')';
        cell.dataset.value = String(row.population_share);
      } else {
        cell.textContent = people(row.village_population_covered);
      }
      var v = tr.insertCell();
      v.className = 'num villages';
      v.textContent = row.villages_covered + ' / ' + row.villages_total;
      v.dataset.value = String(row.villages_covered);
    });
    box.appendChild(table);
    return box;
  }

  function targetLabel(id) {
    var labels = (region.targetLabels[view.settings.standard] || {})[id];
    return labels ? labels[FC.lang] || labels.en : id;
  }

  function targetRow(table, t) {
    var label = targetLabel(t.target);
    var tr = table.insertRow();
    tr.dataset.target = t.target;
    tr.dataset.status = t.status;
    if (t.measured !== null && t.measured !== undefined) { tr.dataset.measured = String(t.measured); }
    var detail = FC.lang === 'zh' && t.detail_zh ? t.detail_zh : t.detail;
    var assumption = FC.lang === 'zh' && t.assumption_zh ? t.assumption_zh : t.assumption;
    tr.title = (assumption ? assumption + (FC.lang === 'zh' ? '；' : '; ') : '') + (detail || '');
    var status = tr.insertCell();
    status.textContent = W[t.status] || t.status;
    status.className = t.status;
    tr.insertCell().textContent = label;
    var fig = tr.insertCell();
    fig.className = 'num';
    if (t.unit === 'share') {
      fig.textContent = t.measured === null ? '–' : pct(t.measured) + ' / ' + pct(t.required);
    } else {
      fig.textContent = t.measured === null ? '–' : Number(t.measured).toFixed(2) + ' / ' + (t.required === null ? '–' : Number(t.required).toFixed(2)) + ' ' + t.unit;
    }
  }

  function targetsSection() {
    var box = section(W.targets);
    if (!view.settings.standard) {
      box.appendChild(el('p', W.no_targets, 'small'));
      return box;
    }
    var table = el('table');
    table.id = 'targets';
    view.targets.forEach(function (t) { targetRow(table, t); });
    if (otherTargets && otherTargets.version === view.version) {
      otherTargets.targets.forEach(function (t) { targetRow(table, t); });
    } else if (region.otherTargets[view.settings.standard]) {
      box.appendChild(el('div', W.other_targets_pending, 'small'));
    }
    box.appendChild(table);
    return box;
  }

  function uncoveredSection() {
    var box = section(W.uncovered + ' (' + view.uncovered_total + ')');
    if (!view.uncovered.length) {
      box.appendChild(el('p', W.none_uncovered, 'small'));
      return box;
    }
    var table = el('table');
    table.id = 'uncovered';
    view.uncovered.slice(0, 25).forEach(function (v) {
      var tr = table.insertRow();
      tr.dataset.id = v.id;
      tr.insertCell().textContent = v.name;
      var p = tr.insertCell();
      p.className = 'num';
      p.textContent = v.population === null ? '–' : people(v.population);
      var m = tr.insertCell();
      m.className = 'num';
      m.textContent = minutesText(v.minutes);
    });
    box.appendChild(table);
    return box;
  }

  function suggestionButtons(s) {
    var row = el('span');
    var accept = el('button', W.accept);
    accept.className = 'accept';
    accept.onclick = function () {
      map.closePopup();
      edit('accept', 'POST', '/api/suggestions/' + s.order + '/accept').then(function (data) {
        suggestions = data.suggestions; drawSuggestions(); render();
      }).catch(function () {});
    };
    var reject = el('button', W.reject);
    reject.className = 'reject';
    reject.onclick = function () {
      map.closePopup();
      api('POST', '/api/suggestions/' + s.order + '/reject').then(function (data) {
        suggestions = data.suggestions; drawSuggestions(); render();
      }).catch(function (error) { message(error.message, 'error'); });
    };
    row.appendChild(accept);
    row.appendChild(reject);
    return row;
  }

  function suggestSection() {
    var box = section(W.suggest);
    var row = el('div', null, 'row');
    row.appendChild(el('span', W.suggest_k));
    var k = el('input');
    k.id = 'suggest-k';
    k.type = 'number'; k.min = '1'; k.max = '20'; k.value = '2'; k.style.width = '50px';
    var run = el('button', W.suggest_run);
    run.id = 'suggest';
    run.onclick = function () {
      message(W.suggesting, 'busy');
      run.disabled = true;
      api('POST', '/api/suggest', {k: Number(k.value)}).then(function (data) {
        suggestions = data.suggestions;
        message('');
        drawSuggestions();
        render();
      }).catch(function (error) { message(error.message, 'error'); }).then(function () { run.disabled = false; });
    };
    row.appendChild(k);
    row.appendChild(run);
    box.appendChild(row);
    var table = el('table');
    table.id = 'suggestions';
    suggestions.forEach(function (s) {
      var tr = table.insertRow();
      tr.dataset.order = String(s.order);
      tr.insertCell().textContent = fmt(W.suggested, {n: s.order});
      tr.insertCell().textContent = fmt(W.gain, {p: people(s.population_gain), v: s.villages_gain});
      tr.insertCell().appendChild(suggestionButtons(s));
    });
    box.appendChild(table);
    return box;
  }

  function scenariosSection() {
    var box = section(W.scenarios);
    var row = el('div', null, 'row');
    var name = el('input');
    name.type = 'text'; name.id = 'scenario-name'; name.value = view.scenario; name.placeholder = W.name;
    var save = el('button', W.save);
    save.id = 'save';
    save.onclick = function () {
      api('POST', '/api/scenarios', {name: name.value}).then(function (data) {
        region.scenarios = data.scenarios;
        view.scenario = data.name;
        message(fmt(W.saved, {name: data.name}));
        render();
      }).catch(function (error) { message(error.message, 'error'); });
    };
    row.appendChild(name);
    row.appendChild(save);
    box.appendChild(row);
    var list = el('table');
    list.id = 'saved';
    region.scenarios.forEach(function (saved) {
      var tr = list.insertRow();
      tr.dataset.name = saved;
      var pick = el('input');
      pick.type = 'checkbox'; pick.value = saved; pick.className = 'compare-pick';
      tr.insertCell().appendChild(pick);
      tr.insertCell().textContent = saved;
      var load = el('button', W.load);
      load.className = 'load';
      load.onclick = function () {
        edit('load', 'POST', '/api/scenarios/' + encodeURIComponent(saved) + '/load').then(function () {
          message(fmt(W.loaded, {name: saved}));
        }).catch(function () {});
      };
      tr.insertCell().appendChild(load);
    });
    box.appendChild(list);
    var actions = el('div', null, 'row');
    var compare = el('button', W.compare);
    compare.id = 'compare-button';
    compare.onclick = function () {
      var names = Array.prototype.map.call(document.querySelectorAll('.compare-pick:checked'), function (c) { return c.value; });
      var query = names.map(function (n) { return 'name=' + encodeURIComponent(n); }).join('&');
      api('GET', '/api/compare?' + query).then(showComparison).catch(function (error) { message(error.message, 'error'); });
    };
    actions.appendChild(compare);
    var file = el('input');
    file.type = 'file'; file.accept = '.geojson,.json'; file.id = 'import';
    file.title = W['import'];
    file.onchange = function () {
      if (!file.files.length) { return; }
      file.files[0].text().then(function (text) {
        return edit('import', 'POST', '/api/scenarios/import', text);
      }).then(function (data) { message(fmt(W.loaded, {name: data.view.scenario})); }).catch(function () {});
    };
    actions.appendChild(file);
    box.appendChild(actions);
    var comparison = el('div');
    comparison.id = 'compare';
    box.appendChild(comparison);
    var exports = el('div', null, 'exports');
    exports.appendChild(el('b', W['export'] + ': '));
    [['report', '/api/export/report.html?lang=' + FC.lang], ['villages_csv', '/api/export/villages.csv'],
     ['stations_csv', '/api/export/stations.csv'], ['gpkg', '/api/export/scenario.gpkg'],
     ['geojson', '/api/export/scenario.geojson']].forEach(function (pair) {
      var a = el('a', W[pair[0]]);
      a.href = withToken(pair[1]);
      a.className = 'export-' + pair[0];
      a.target = '_blank';
      exports.appendChild(a);
    });
    box.appendChild(exports);
    return box;
  }

  function showComparison(data) {
    var box = document.getElementById('compare');
    box.textContent = '';
    var table = el('table');
    var head = table.insertRow();
    head.appendChild(el('th', ''));
    data.scenarios.forEach(function (s) { head.appendChild(el('th', s.name)); });
    var stations = table.insertRow();
    stations.insertCell().textContent = W.station;
    data.scenarios.forEach(function (s) {
      stations.insertCell().textContent = '+' + s['new'] + ' ' + W.new_sites + ', −' + s.closed + ' ' + W.closed_sites;
    });
    data.scenarios[0].thresholds.forEach(function (row, i) {
      var tr = table.insertRow();
      tr.insertCell().textContent = '≤ ' + row.minutes + ' ' + W.minutes;
      data.scenarios.forEach(function (s) {
        var r = s.thresholds[i];
        var cell = tr.insertCell();
        cell.className = 'num';
        cell.textContent = r.population_share !== undefined && r.population_share !== null ? pct(r.population_share) : r.villages_covered + ' / ' + r.villages_total;
      });
    });
    data.scenarios[0].targets.forEach(function (t, i) {
      var tr = table.insertRow();
      tr.insertCell().textContent = targetLabel(t.target);
      data.scenarios.forEach(function (s) {
        var v = s.targets[i];
        var cell = tr.insertCell();
        cell.className = v.status;
        cell.textContent = (W[v.status] || v.status) + (v.measured === null ? '' : ' ' + pct(v.measured));
      });
    });
    box.appendChild(table);
    box.appendChild(el('div', W.compare_note, 'small'));
  }

  function render() {
    var content = document.getElementById('content');
    content.textContent = '';
    [settingsSection(), coverageSection(), targetsSection(), uncoveredSection(), suggestSection(), scenariosSection()]
      .forEach(function (box) { content.appendChild(box); });
  }

  // ------------------------------------------------------------------ updates

  function apply(next) {
    view = next;
    var profile = view.settings.profile;
    if (profile !== roadsProfile) {
      roadsProfile = profile;
      return api('GET', '/api/roads?profile=' + encodeURIComponent(profile)).then(function (data) {
        roads = data.roads;
        drawAll();
      });
    }
    drawAll();
    return Promise.resolve();
  }

  function drawAll() {
    drawRoads();
    drawVillages();
    drawStations();
    render();
  }

  // The other targets (counts, ratios, radii) take the full assessment: asked for once the edits pause.
  var pendingOthers = 0;
  var othersTimer = null;
  function refreshOtherTargets() {
    if (!view.settings.standard || !region.otherTargets[view.settings.standard]) { return; }
    var ticket = ++pendingOthers;
    clearTimeout(othersTimer);
    othersTimer = setTimeout(function () {
      api('GET', '/api/targets/others').then(function (data) {
        if (ticket !== pendingOthers || data.version !== view.version) { return; }
        otherTargets = data;
        render();
      }).catch(function (error) { message(error.message, 'error'); });
    }, 1200);
  }

  api('GET', '/api/region').then(function (data) {
    region = data;
    var outline = L.geoJSON(region.outline, {style: {color: '#57606a', weight: 1, fill: true, fillOpacity: 0.04},
                                             interactive: false});
    outline.addTo(map);
    map.attributionControl.addAttribution(region.attribution.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    map.fitBounds([[region.bounds[1], region.bounds[0]], [region.bounds[3], region.bounds[2]]]);
    return api('GET', '/api/state');
  }).then(function (data) {
    suggestions = data.suggestions || [];
    return apply(data.view).then(function () {
      drawSuggestions();
      document.body.dataset.version = String(view.version);
      document.body.dataset.ready = '1';
      refreshOtherTargets();
    });
  }).catch(function (error) { message(error.message, 'error'); });
})();
