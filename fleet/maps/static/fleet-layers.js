/* fleet maps: the data layers of a map, drawn from the JSON payload in #fleet-map-data.
 *
 * Terminals and white spots are indexed with Supercluster and only what is in view is drawn
 * (cluster bubbles, or canvas circles once zoomed in), so 100,000 points stay smooth.
 * Popups are built when opened. Coordinates arrive already in the base map's datum.
 * window.FleetMap.state says when the map is drawn (ready, drawnMs) and what is on it.
 */
(function () {
  "use strict";
  var F = (window.FleetMap = window.FleetMap || {});
  F.state = { ready: false, counts: {}, byStatus: {}, layers: {} };
  var payload = null;

  function data() {
    if (!payload) payload = JSON.parse(document.getElementById("fleet-map-data").textContent);
    return payload;
  }
  F.data = data;

  function t(key, n) {
    var texts = data().text;
    if (n === 1 && texts[key + "_1"] !== undefined) key = key + "_1";
    var text = texts[key] !== undefined ? texts[key] : key;
    return n === undefined ? text : text.replace("{n}", n);
  }
  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function pct(active, deployed) {
    return deployed ? ((100 * active) / deployed).toFixed(1) + "%" : "–";
  }
  function rateColor(active, deployed) {
    var s = data().style;
    if (!deployed) return s.no_data_color;
    var r = active / deployed;
    for (var i = 0; i < s.rate_breaks.length; i++) if (r < s.rate_breaks[i]) return s.rate_colors[i];
    return s.rate_colors[s.rate_colors.length - 1];
  }
  function dot(color) {
    return '<span class="fm-dot" style="background:' + esc(color) + '"></span>';
  }
  function zh() {
    return data().lang === "zh";
  }
  function paren(text) {
    return zh() ? "（" + text + "）" : " (" + text + ")";
  }
  function row(label, value) {
    return esc(label) + (zh() ? "：" : ": ") + value + "<br>";
  }
  function lastUse(days) {
    if (days === null || days === undefined) return esc(t("never_used"));
    var asOf = data().as_of;
    if (!asOf) return esc(t("days_ago", days));
    var d = new Date(asOf + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - days);
    return d.toISOString().slice(0, 10) + paren(esc(t("days_ago", days)));
  }
  function canvas() {
    if (!F._canvas) F._canvas = L.canvas({ padding: 0.3 });
    return F._canvas;
  }

  /* A point layer over column-wise data: clusters from Supercluster, canvas circles when close. */
  var ClusterLayer = L.Layer.extend({
    initialize: function (cols, opts) {
      this._cols = cols;
      this._opts = opts;
      var n = cols.lat.length, kinds = opts.kinds.length, points = new Array(n);
      for (var i = 0; i < n; i++) {
        points[i] = { type: "Feature", properties: { i: i }, geometry: { type: "Point", coordinates: [cols.lng[i], cols.lat[i]] } };
      }
      var kindOf = opts.kindOf;
      // Per-kind counts ride along with each cluster, so a bubble can show its mix of statuses.
      this._index = new Supercluster({
        radius: opts.radius,
        maxZoom: opts.maxZoom,
        map: function (p) {
          var o = {}, k = kindOf(p.i);
          for (var j = 0; j < kinds; j++) o["k" + j] = j === k ? 1 : 0;
          return o;
        },
        reduce: function (acc, p) {
          for (var j = 0; j < kinds; j++) acc["k" + j] += p["k" + j];
        },
      }).load(points);
      this._count = n;
      this._group = L.layerGroup();
      this.drawn = { clusters: 0, points: 0, total: 0 };
    },
    onAdd: function (map) {
      this._group.addTo(map);
      map.on("moveend", this._update, this);
      this._update();
    },
    onRemove: function (map) {
      map.off("moveend", this._update, this);
      this._group.remove();
    },
    _update: function () {
      var map = this._map;
      if (!map) return;
      var b = map.getBounds().pad(0.25);
      var box = [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())];
      var items = this._index.getClusters(box, Math.round(map.getZoom()));
      var layers = [], clusters = 0, points = 0, total = 0;
      for (var i = 0; i < items.length; i++) {
        var it = items[i], ll = [it.geometry.coordinates[1], it.geometry.coordinates[0]];
        if (it.properties.cluster) {
          clusters++;
          total += it.properties.point_count;
          layers.push(this._bubble(it, ll));
        } else {
          points++;
          total++;
          layers.push(this._circle(it.properties.i, ll));
        }
      }
      this._group.clearLayers();
      for (var j = 0; j < layers.length; j++) this._group.addLayer(layers[j]);
      this.drawn = { clusters: clusters, points: points, total: total, zoom: map.getZoom(), box: box };
    },
    _bubble: function (it, ll) {
      var p = it.properties, kinds = this._opts.kinds, stops = [], at = 0;
      for (var j = 0; j < kinds.length; j++) {
        var share = (100 * p["k" + j]) / p.point_count;
        if (share > 0) stops.push(kinds[j].color + " " + at + "% " + (at + share) + "%");
        at += share;
      }
      var size = Math.round(26 + 8 * Math.log10(p.point_count));
      var icon = L.divIcon({
        className: "fm-cluster-icon",
        iconSize: [size, size],
        html: '<div class="fm-cluster" style="width:' + size + "px;height:" + size + "px;background:conic-gradient(" + stops.join(",") + ')"><span>' + p.point_count_abbreviated + "</span></div>",
      });
      var marker = L.marker(ll, { icon: icon }), self = this;
      marker.on("click", function () { self._expand(it, ll); });
      return marker;
    },
    _expand: function (it, ll) {
      var map = this._map, zoom = this._index.getClusterExpansionZoom(it.properties.cluster_id);
      if (zoom <= map.getMaxZoom()) {
        map.setView(ll, zoom);
        return;
      }
      // Points that stay together at the deepest zoom (one shop, one address): list them.
      var leaves = this._index.getLeaves(it.properties.cluster_id, 25), html = [];
      for (var i = 0; i < leaves.length; i++) html.push("<li>" + this._opts.line(leaves[i].properties.i) + "</li>");
      var more = it.properties.point_count - leaves.length;
      if (more > 0) html.push("<li>" + esc(t("more", more)) + "</li>");
      L.popup({ maxWidth: 360 }).setLatLng(ll)
        .setContent('<div class="fm-pop"><b>' + esc(t("terminals_here", it.properties.point_count)) + "</b><ul>" + html.join("") + "</ul></div>")
        .openOn(map);
    },
    _circle: function (i, ll) {
      var opts = this._opts, color = opts.kinds[opts.kindOf(i)].color;
      var style = opts.hollow
        ? { radius: 5, color: color, weight: 2, fillColor: "#fff", fillOpacity: 0.8 }
        : { radius: 6, color: "#fff", weight: 1.5, fillColor: color, fillOpacity: 0.95 };
      style.renderer = canvas();
      return L.circleMarker(ll, style).bindPopup(function () { return opts.popup(i); }, { maxWidth: 320 });
    },
  });

  function terminalsLayer() {
    var d = data(), c = d.terminals, statuses = d.statuses, states = d.states;
    function popup(i) {
      var st = statuses[c.s[i]], state = c.st[i] ? " · " + esc(states[c.st[i]]) : "";
      return '<div class="fm-pop"><b>' + esc(c.name[i]) + "</b><br>" +
        row(t("sn"), esc(c.sn[i])) +
        row(t("phone"), c.phone[i] ? '<a href="tel:' + esc(c.phone[i]) + '">' + esc(c.phone[i]) + "</a>" : "–") +
        row(t("status"), dot(st.color) + esc(st.label) + state) +
        row(t("last_use"), lastUse(c.days[i])) +
        row(t("txn_30"), (c.c30[i] || 0) + " " + esc(t("txn_unit"))) +
        '<a href="' + esc(d.api) + "/terminals/" + c.id[i] + '" target="_blank">' + esc(t("api_link")) + "</a></div>";
    }
    function line(i) {
      return dot(statuses[c.s[i]].color) + esc(c.sn[i]) + " · " + esc(c.name[i]) + " · " + esc(statuses[c.s[i]].label) +
        ' · <a href="' + esc(d.api) + "/terminals/" + c.id[i] + '" target="_blank">API</a>';
    }
    var layer = new ClusterLayer(c, {
      kinds: statuses, kindOf: function (i) { return c.s[i]; }, popup: popup, line: line,
      radius: d.style.cluster_radius_px, maxZoom: d.max_zoom,
    });
    F.state.counts.terminals = layer._count;
    return layer;
  }

  function whiteSpotsLayer() {
    var d = data(), c = d.white, color = d.style.white_spot_color;
    function popup(i) {
      return '<div class="fm-pop"><b>' + esc(c.name[i]) + "</b><br>" + row(t("code"), esc(c.code[i])) +
        row(t("phone"), c.phone[i] ? '<a href="tel:' + esc(c.phone[i]) + '">' + esc(c.phone[i]) + "</a>" : "–") +
        '<span class="fm-warn">' + esc(t("white_merchant")) + "</span></div>";
    }
    function line(i) { return esc(c.code[i]) + " · " + esc(c.name[i]) + " · " + esc(c.phone[i]); }
    var spots = new ClusterLayer(c, {
      kinds: [{ color: color }], kindOf: function () { return 0; }, popup: popup, line: line,
      radius: d.style.cluster_radius_px, maxZoom: d.max_zoom, hollow: true,
    });
    var group = L.featureGroup([spots]), whiteMarkets = 0;
    d.markets.forEach(function (m) {
      if (m.deployed > 0) return;
      whiteMarkets++;
      var style = { color: color, weight: 3, dashArray: "8 6", fill: false, renderer: canvas() };
      group.addLayer(shape(m, style).bindPopup(marketPopup(m)));
    });
    F.state.counts.white_spots = spots._count;
    F.state.counts.white_markets = whiteMarkets;
    group.points = spots;
    return group;
  }

  function shape(m, style) {
    return m.polygon ? L.polygon(m.polygon, style) : L.circle([m.lat, m.lng], L.extend({ radius: m.radius }, style));
  }

  function marketPopup(m) {
    var white = m.deployed === 0 ? '<span class="fm-warn">' + esc(t("white_market")) + "</span><br>" : "";
    return '<div class="fm-pop"><b>' + esc(m.name) + "</b>" + (m.approximate ? paren(esc(t("approximate"))) : "") + "<br>" +
      row(t("trade"), '<span class="fm-dot" style="background:' + esc(m.color) + '"></span>' + esc(m.trade)) +
      (m.stalls ? row(t("stalls"), m.stalls) : "") +
      row(t("merchants"), m.merchants) +
      row(t("with_terminal"), m.with_terminal + paren(esc(t("coverage")) + " " + pct(m.with_terminal, m.merchants))) +
      row(t("deployed"), m.deployed) +
      row(t("active"), m.active) +
      row(t("active_rate"), "<b>" + pct(m.active, m.deployed) + "</b>") + white + "</div>";
  }

  function marketsLayer() {
    var d = data(), group = L.featureGroup();
    d.markets.forEach(function (m) {
      var style = { color: m.color, weight: 2, fillColor: m.color, fillOpacity: 0.12, renderer: canvas() };
      group.addLayer(shape(m, style).bindPopup(marketPopup(m)));
      var icon = L.divIcon({
        className: "fm-market-icon", iconSize: null,
        html: '<span class="fm-market"><b style="background:' + esc(m.color) + '">' + esc(m.trade) + '</b><span class="fm-market-name">' + esc(m.name) + "</span></span>",
      });
      group.addLayer(L.marker([m.lat, m.lng], { icon: icon, keyboard: false }).bindPopup(marketPopup(m)));
    });
    F.state.counts.markets = d.markets.length;
    return group;
  }

  function branchesLayer() {
    var d = data(), group = L.featureGroup(), color = d.style.branch_color;
    d.branches.forEach(function (b) {
      var html = '<div class="fm-pop"><b>' + esc(b.name) + "</b><br>" + row(t("code"), esc(b.code)) + row(t("level"), esc(b.level)) +
        (b.radius ? row(t("service_radius"), (b.radius / 1000).toFixed(1) + " " + esc(t("km"))) : "") +
        row(t("deployed"), b.deployed) + row(t("active"), b.active) + row(t("active_rate"), "<b>" + pct(b.active, b.deployed) + "</b>") + "</div>";
      if (b.radius) {
        group.addLayer(L.circle([b.lat, b.lng], { radius: b.radius, color: color, weight: 1.5, dashArray: "4 4", fillColor: color, fillOpacity: 0.04, renderer: canvas(), interactive: false }));
      }
      var icon = L.divIcon({ className: "fm-branch-icon", iconSize: [18, 18], html: '<div class="fm-branch" style="background:' + esc(color) + '"></div>' });
      group.addLayer(L.marker([b.lat, b.lng], { icon: icon, title: b.name, zIndexOffset: -1000 }).bindPopup(html));
    });
    F.state.counts.branches = d.branches.length;
    return group;
  }

  /* Live fault tickets at their shops, coloured by their SLA clock (late, soon, on time, paused). */
  function ticketsLayer() {
    var d = data(), group = L.featureGroup();
    (d.tickets || []).forEach(function (k) {
      var html = '<div class="fm-pop"><b>' + esc(k.shop) + "</b><br>" + row(t("ticket"), esc(k.id) + " · " + esc(k.sn)) +
        row(t("status"), esc(k.state)) + "<div>" + esc(k.symptom) + "</div><div><b>" + esc(k.left) + "</b></div></div>";
      group.addLayer(L.circleMarker([k.lat, k.lng], { radius: 9, color: "#222", weight: 1.5, fillColor: k.color, fillOpacity: 0.9, renderer: canvas() })
        .bindPopup(html));
    });
    F.state.counts.tickets = (d.tickets || []).length;
    return group;
  }

  /* Hexagons are built on first show: the layer is off by default and costs nothing until then. */
  var HexLayer = L.FeatureGroup.extend({
    onAdd: function (map) {
      if (!this._built) this._build();
      L.FeatureGroup.prototype.onAdd.call(this, map);
    },
    _build: function () {
      var d = data(), h = d.hexes, ky = 111320, opacity = d.style.hex_opacity;
      for (var i = 0; i < h.lat.length; i++) {
        var ring = [];
        for (var k = 0; k < 6; k++) {
          var angle = (Math.PI / 180) * (60 * k - 30);
          ring.push([h.lat[i] + (h.radius_m * Math.sin(angle)) / ky, h.lng[i] + (h.radius_m * Math.cos(angle)) / h.kx]);
        }
        var html = '<div class="fm-pop"><b>' + esc(t("hex")) + "</b><br>" + row(t("deployed"), h.n[i]) + row(t("active"), h.a[i]) +
          row(t("active_rate"), "<b>" + pct(h.a[i], h.n[i]) + "</b>") + row(t("txn_30"), h.v[i] + " " + esc(t("txn_unit"))) + "</div>";
        this.addLayer(L.polygon(ring, { stroke: false, fillColor: rateColor(h.a[i], h.n[i]), fillOpacity: opacity, renderer: canvas() }).bindPopup(html));
      }
      this._built = true;
    },
  });

  var FACTORIES = {
    terminals: terminalsLayer,
    white_spots: whiteSpotsLayer,
    markets: marketsLayer,
    branches: branchesLayer,
    tickets: ticketsLayer,
    density: function () {
      F.state.counts.hexes = data().hexes.lat.length;
      return new HexLayer();
    },
  };

  /* Route maps: one layer per staff member, numbered stops in order, lines from the home
   * branch through every stop and back. */
  function numberIcon(n, color) {
    return L.divIcon({
      className: "fm-stop-icon", iconSize: [24, 24], iconAnchor: [12, 12],
      html: '<div class="fm-stop" style="background:' + esc(color) + '">' + esc(n) + "</div>",
    });
  }

  function stopPopup(r, s) {
    return '<div class="fm-pop"><b>' + esc(t("stop", s.seq)) + " · " + esc(s.name) + "</b><br>" +
      row(t("staff"), esc(r.name)) +
      row(t("arrival"), "<b>" + esc(s.arrival) + "</b>") +
      row(t("departure"), esc(s.departure)) +
      row(t("phone"), s.phone ? '<a href="tel:' + esc(s.phone) + '">' + esc(s.phone) + "</a>" : "–") +
      row(t("sn"), esc(s.sn || "–")) +
      row(t("reason"), esc(s.reason)) +
      (s.address ? esc(s.address) + "<br>" : "") +
      (s.nav ? '<a href="' + esc(s.nav) + '" target="_blank">' + esc(t("navigate")) + "</a>" : "") + "</div>";
  }

  /* A distance as a person reads it on a phone: metres under 1 km, else km to one decimal. */
  function distance(km) {
    if (km === null || km === undefined) return "–";
    return km < 1 ? Math.round(km * 1000) + " " + esc(t("m")) : (Math.round(km * 10) / 10) + " " + esc(t("km"));
  }
  F.distance = distance;

  function routeLayer(n) {
    var r = data().routes[+n], group = L.featureGroup(), path = [];
    if (r.home) {
      path.push([r.home.lat, r.home.lng]);
      var html = '<div class="fm-pop"><b>' + esc(r.name) + " · " + esc(t("start_end")) + "</b><br>" +
        row(t("branch"), esc(r.home.code)) + row(t("depart"), esc(r.depart || "–")) + row(t("back"), esc(r.back || "–")) +
        row(t("distance"), distance(r.distance_km)) + "</div>";
      var icon = L.divIcon({ className: "fm-branch-icon", iconSize: [18, 18], html: '<div class="fm-branch" style="background:' + esc(r.color) + '"></div>' });
      group.addLayer(L.marker([r.home.lat, r.home.lng], { icon: icon, title: r.home.code, zIndexOffset: -1000 }).bindPopup(html));
    }
    r.stops.forEach(function (s) { path.push([s.lat, s.lng]); });
    if (r.home && r.stops.length) path.push([r.home.lat, r.home.lng]);
    if (path.length > 1) group.addLayer(L.polyline(path, { color: r.color, weight: 4, opacity: 0.75, interactive: false }));
    var markers = [];
    r.stops.forEach(function (s) {
      var marker = L.marker([s.lat, s.lng], { icon: numberIcon(s.seq, r.color), title: s.seq + ". " + s.name });
      marker.bindPopup(stopPopup(r, s), { maxWidth: Math.min(340, window.innerWidth - 80) });
      markers.push(marker);
      group.addLayer(marker);
    });
    group.stops = markers;
    F.state.counts.stops = (F.state.counts.stops || 0) + r.stops.length;
    F.state.counts.routes = (F.state.counts.routes || 0) + 1;
    return group;
  }

  /* Campaign maps: the market, prospects by outcome, units placed, set-aside units' branches. */
  function campaignMarketLayer() {
    var group = L.featureGroup();
    data().markets.forEach(function (m) {
      var style = { color: m.color, weight: 3, fillColor: m.color, fillOpacity: 0.1 };
      group.addLayer(shape(m, style).bindPopup('<div class="fm-pop"><b>' + esc(m.name) + "</b><br>" + row(t("trade"), esc(m.trade)) + "</div>"));
    });
    return group;
  }

  function prospectsLayer() {
    var d = data(), group = L.featureGroup(), colors = {}, names = {};
    d.prospect_statuses.forEach(function (s) { colors[s.key] = s.color; names[s.key] = s.label; });
    d.prospects.forEach(function (p) {
      var html = '<div class="fm-pop"><b>' + esc(p.name) + "</b><br>" + row(t("code"), esc(p.code)) +
        row(t("status"), dot(colors[p.status]) + esc(names[p.status])) + row(t("priority"), p.priority) +
        row(t("staff"), esc(p.staff || "–")) + (p.reason ? esc(p.reason) + "<br>" : "") + (p.address ? esc(p.address) : "") + "</div>";
      group.addLayer(L.circleMarker([p.lat, p.lng], { radius: 8, color: "#fff", weight: 2, fillColor: colors[p.status], fillOpacity: 0.95 }).bindPopup(html));
    });
    F.state.counts.prospects = d.prospects.length;
    return group;
  }

  function placedLayer() {
    var d = data(), group = L.featureGroup();
    d.placed.forEach(function (u) {
      var html = '<div class="fm-pop"><b>' + esc(u.name) + "</b><br>" + row(t("sn"), esc(u.sn)) + row(t("placed_on"), esc(u.placed_on)) +
        row(t("state"), esc(u.state)) + row(t("status"), dot(u.color) + esc(u.status)) + "</div>";
      var icon = L.divIcon({ className: "fm-unit-icon", iconSize: [16, 16], iconAnchor: [8, 8], html: '<div class="fm-unit" style="background:' + esc(u.color) + '"></div>' });
      group.addLayer(L.marker([u.lat, u.lng], { icon: icon, title: u.sn }).bindPopup(html));
    });
    F.state.counts.placed = d.placed.length;
    return group;
  }

  function setAsideLayer() {
    var d = data(), group = L.featureGroup(), color = d.style.branch_color;
    d.set_aside.forEach(function (b) {
      var html = '<div class="fm-pop"><b>' + esc(b.name) + "</b><br>" + row(t("code"), esc(b.code)) +
        row(t("units_set_aside"), b.units) + row(t("in_stock"), b.in_stock) + "</div>";
      var icon = L.divIcon({ className: "fm-branch-icon", iconSize: [18, 18], html: '<div class="fm-branch" style="background:' + esc(color) + '"></div>' });
      group.addLayer(L.marker([b.lat, b.lng], { icon: icon, title: b.name }).bindPopup(html));
    });
    F.state.counts.set_aside_branches = d.set_aside.length;
    return group;
  }

  FACTORIES.route = routeLayer;
  FACTORIES.market = campaignMarketLayer;
  FACTORIES.prospects = prospectsLayer;
  FACTORIES.placed = placedLayer;
  FACTORIES.set_aside = setAsideLayer;

  F.layer = function (map, kind) {
    var at = kind.indexOf(":");
    var layer = at < 0 ? FACTORIES[kind]() : FACTORIES[kind.slice(0, at)](kind.slice(at + 1));
    F.state.layers[kind] = layer;
    return layer;
  };

  /* How many terminals (or white spots) the drawn bubbles and circles stand for. */
  F.drawnCount = function (kind) {
    var layer = F.state.layers[kind];
    if (!layer) return null;
    return (layer.points || layer).drawn.total;
  };

  function legend() {
    var d = data(), html = ['<div class="fm-box fm-legend"><h2>' + esc(t("layer_terminals")) + "</h2>"];
    d.statuses.forEach(function (s) {
      var n = d.terminals.by_status[s.key] || 0;
      if (n) html.push('<div class="fm-row">' + dot(s.color) + esc(s.label) + '<span class="fm-count">' + n + "</span></div>");
    });
    html.push("<h2>" + esc(t("active_rate")) + "</h2>");
    var s = d.style, lo = 0;
    s.rate_colors.forEach(function (c, i) {
      var hi = i < s.rate_breaks.length ? s.rate_breaks[i] : 1;
      html.push('<div class="fm-row"><span class="fm-sq" style="background:' + c + ";opacity:" + s.hex_opacity + '"></span>' + Math.round(lo * 100) + "–" + Math.round(hi * 100) + "%</div>");
      lo = hi;
    });
    html.push("<h2>" + esc(t("layer_white_spots")) + "</h2>");
    html.push('<div class="fm-row"><span class="fm-dot" style="border:2px solid ' + s.white_spot_color + ';background:#fff"></span>' + esc(t("white_spots")) + '<span class="fm-count">' + d.white.id.length + "</span></div>");
    html.push('<div class="fm-row"><span class="fm-sq" style="border:2px dashed ' + s.white_spot_color + '"></span>' + esc(t("white_markets")) + "</div>");
    html.push('<div class="fm-row"><span class="fm-sq" style="border:2px dashed ' + s.branch_color + '"></span>' + esc(t("service_radius")) + "</div>");
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div");
      div.innerHTML = html.join("") + "</div>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return control;
  }

  function titleBox() {
    var d = data(), n = d.terminals.id.length, active = 0;
    d.statuses.forEach(function (s) { if (s.active) active += d.terminals.by_status[s.key] || 0; });
    var bases = d.bases.map(function (b) {
      return b.current ? "<b>" + esc(b.label) + "</b>" : b.href ? '<a href="' + esc(b.href) + '">' + esc(b.label) + "</a>" : esc(b.label);
    });
    var html = '<div class="fm-box"><h1>' + esc(d.title) + "</h1>" +
      row(t("as_of"), esc(d.as_of || t("not_scored"))) +
      esc(t("terminals")) + " " + n + " · " + esc(t("active_rate")) + " <b>" + pct(active, n) + "</b>" +
      " · " + esc(t("white_spots")) + " " + d.white.id.length + "<br>" +
      (d.terminals.unplaced ? '<span class="fm-warn">' + esc(t("no_coordinates", d.terminals.unplaced)) + "</span><br>" : "") +
      row(t("base_map"), bases.join(" · ")) + "</div>";
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return control;
  }

  function box(html, position) {
    var control = L.control({ position: position });
    control.onAdd = function () {
      var div = L.DomUtil.create("div");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return control;
  }

  function baseLinks() {
    return row(t("base_map"), data().bases.map(function (b) {
      return b.current ? "<b>" + esc(b.label) + "</b>" : b.href ? '<a href="' + esc(b.href) + '">' + esc(b.label) + "</a>" : esc(b.label);
    }).join(" · "));
  }

  function routesBoxes(map) {
    var d = data(), stops = 0, legendHtml = ['<div class="fm-box fm-legend"><h2>' + esc(t("legend")) + "</h2>"];
    d.routes.forEach(function (r) {
      stops += r.stops.length;
      legendHtml.push('<div class="fm-row"><span class="fm-sq" style="background:' + esc(r.color) + '"></span>' + esc(r.name) +
        '<span class="fm-count">' + r.stops.length + " " + esc(t("stops", r.stops.length)) + (r.depart ? " · " + esc(r.depart) + "–" + esc(r.back || "") : "") + "</span></div>");
    });
    if (!d.routes.length) legendHtml.push("<div>" + esc(t("no_stops")) + "</div>");
    legendHtml.push('<div class="fm-row"><span class="fm-branch fm-inline"></span>' + esc(t("start_end")) + "</div></div>");
    var back = d.back ? '<a class="fm-back" href="' + esc(d.back.href) + '">' + esc(d.back.label) + "</a><br>" : "";
    box('<div class="fm-box">' + back + "<h1>" + esc(d.title) + "</h1>" + esc(t("people", d.routes.length)) + " · " + stops + " " + esc(t("stops", stops)) + "<br>" + baseLinks() + "</div>", "topright").addTo(map);
    box(legendHtml.join(""), "bottomright").addTo(map);
  }

  function campaignBoxes(map) {
    var d = data(), c = d.campaign, html = ['<div class="fm-box fm-legend"><h2>' + esc(t("prospects")) + "</h2>"];
    d.prospect_statuses.forEach(function (s) {
      html.push('<div class="fm-row">' + dot(s.color) + esc(s.label) + '<span class="fm-count">' + s.count + "</span></div>");
    });
    html.push("<h2>" + esc(t("layer_c_placed")) + '</h2><div class="fm-row"><span class="fm-unit fm-inline"></span>' + esc(t("placed")) + '<span class="fm-count">' + d.placed.length + "</span></div>");
    html.push('<div class="fm-row"><span class="fm-branch fm-inline" style="background:' + esc(d.style.branch_color) + '"></span>' + esc(t("layer_c_set_aside")) + "</div></div>");
    box('<div class="fm-box"><h1>' + esc(d.title) + "</h1>" + row(t("market"), esc(c.market)) + row(t("period"), esc(c.starts_on) + " – " + esc(c.ends_on)) +
      row(t("placed"), d.placed.length + " / " + esc(t("target")) + " " + c.target) +
      (d.unplaced ? '<span class="fm-warn">' + esc(t("no_coordinates", d.unplaced)) + "</span><br>" : "") + baseLinks() + "</div>", "topright").addTo(map);
    box(html.join(""), "bottomright").addTo(map);
  }

  /* A phone's width (under NARROW px) holds the boxes only when they take turns: the layer
   * list folds into its button (tap to open, tap the map to close), the tiles note joins the
   * title in its corner instead of sitting under the legend, and a popup opens clear of them. */
  var NARROW = 600;
  function fitPhone(map, layers) {
    if (layers) {
      layers.options.collapsed = true;
      layers.collapse();
      map.on("click", layers.collapse, layers);
    }
    var corner = map.getContainer().querySelector(".leaflet-top.leaflet-right");
    var below = corner ? corner.getBoundingClientRect().bottom - map.getContainer().getBoundingClientRect().top : 0;
    L.Popup.mergeOptions({
      maxWidth: map.getSize().x - 80,  // the content; the popup adds its 44 px of margins
      autoPanPaddingTopLeft: L.point(10, below + 10),
      autoPanPaddingBottomRight: L.point(10, 30),
    });
  }

  /* Legend, title, view; then, once the browser has painted, the flag tests wait for. */
  F.finish = function (map, layers) {
    var d = data(), narrow = map.getSize().x < NARROW;
    if (d.kind === "routes") routesBoxes(map);
    else if (d.kind === "campaign") campaignBoxes(map);
    else {
      titleBox().addTo(map);
      legend().addTo(map);
      F.state.byStatus = d.terminals.by_status;
    }
    if (d.tiles_note) box('<div class="fm-box fm-tiles-note" role="note">' + esc(d.tiles_note) + "</div>", narrow ? "topright" : "bottomleft").addTo(map);
    if (narrow) fitPhone(map, layers);
    if (d.bounds) map.fitBounds(d.bounds, { padding: [30, 30], maxZoom: 16, animate: false });
    function zoomClass() {
      L.DomUtil[map.getZoom() < 13 ? "addClass" : "removeClass"](map.getContainer(), "fm-low-zoom");
    }
    map.on("zoomend", zoomClass);
    zoomClass();
    F.map = map;
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        var el = map.getContainer();
        Object.keys(F.state.counts).forEach(function (k) { el.dataset[k.replace(/_(\w)/g, function (_, c) { return c.toUpperCase(); })] = F.state.counts[k]; });
        F.state.drawnMs = performance.now();
        F.state.ready = true;
        el.dataset.fleetReady = "1";
      });
    });
  };
})();
