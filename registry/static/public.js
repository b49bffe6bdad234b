/* Registre LTC — public pages, progressive enhancement only: every page works without
 * this file. It adds suggestions as you type, the "Autour de moi" button, sharing, the
 * list/map switch on phones and three maps: the results (the same search as the list,
 * markers in their theme's colour, linked to the list's cards), the map of France of the
 * home page (places grouped by the server, /carte.json) and the place page's small map.
 * Harvested text only ever reaches the page through textContent, never as markup; styles
 * are set through the CSSOM (the Content-Security-Policy forbids inline ones). */
(function () {
  "use strict";

  // -- suggestions as you type: an ARIA 1.2 combobox with a listbox popup --------------
  function setupSuggestions(input) {
    var source = input.getAttribute("data-suggestions");
    if (!source) return;
    var list = document.createElement("ul");
    list.id = "q-suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    var items = [];
    var active = -1;
    var timer = null;
    var lastAsked = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      if (item.url) {
        // a place: straight to its page; from the widget, outside the iframe (place pages
        // may not be framed by other sites)
        if (document.body.classList.contains("widget")) {
          window.open(item.url, "_blank", "noopener");
          close();
        } else {
          window.location.href = item.url;
        }
        return;
      }
      input.value = item.value;
      close();
      input.form.submit();
    }

    function show(suggestions) {
      items = suggestions;
      list.textContent = "";
      suggestions.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = "q-suggestion-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.textContent = item.label;
        var kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = item.kind;
        option.appendChild(name);
        option.appendChild(kind);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the field
          choose(i);
        });
        list.appendChild(option);
      });
      var open = suggestions.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
    }

    function ask() {
      var text = input.value.trim();
      if (text.length < 2) { close(); return; }
      if (text === lastAsked) return;
      lastAsked = text;
      fetch(source + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value.trim() === text) show(data.suggestions || []);
        })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        if (!open) { lastAsked = ""; ask(); return; }
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  // -- "Autour de moi": the browser's position fills the coordinates, then searches ----
  function setupGeolocation(form) {
    var button = document.getElementById("autour");
    var status = document.getElementById("geo-etat");
    if (!button || !("geolocation" in navigator)) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "Recherche de votre position…";
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.lat.value = position.coords.latitude.toFixed(5);
          form.elements.lon.value = position.coords.longitude.toFixed(5);
          form.elements.q.value = "";  // the position, not the commune typed, is the centre
          if (form.elements.commune) form.elements.commune.value = "";
          status.textContent = "Position trouvée : recherche en cours…";
          form.submit();
        },
        function () {
          button.disabled = false;
          status.textContent = "Position indisponible : autorisez la géolocalisation ou tapez une commune.";
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
      );
    });
  }

  // -- sharing: the page's URL reproduces the search or the place ------------------------
  function setupSharing() {
    var canCopy = navigator.clipboard && window.isSecureContext;
    Array.prototype.forEach.call(document.querySelectorAll("button.partage"), function (button) {
      if (!navigator.share && !canCopy) return;
      button.hidden = false;
      var status = button.parentNode.querySelector(".partage-etat");
      button.addEventListener("click", function () {
        var url = button.getAttribute("data-url") || window.location.href;
        if (navigator.share) {
          navigator.share({ title: document.title, url: url }).catch(function () {});
          return;
        }
        navigator.clipboard.writeText(url).then(
          function () { if (status) status.textContent = "Lien copié : collez-le dans un message."; },
          function () { if (status) status.textContent = url; }
        );
      });
    });
  }

  // -- what every map shares -----------------------------------------------------------
  var SVG = "http://www.w3.org/2000/svg";

  function themesOf(container) {
    try {
      return JSON.parse(container.getAttribute("data-themes") || "{}");
    } catch (error) {
      return {};
    }
  }

  function icon(base, name) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "icone");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var use = document.createElementNS(SVG, "use");
    use.setAttribute("href", base + "#i-" + name);
    svg.appendChild(use);
    return svg;
  }

  function baseMap(container, options) {
    var map = L.map(container, options || { scrollWheelZoom: false });
    L.tileLayer(container.getAttribute("data-tiles"), { attribution: "", maxZoom: 19 }).addTo(map);
    // the attribution is plain text from the settings: set it as text, not markup
    map.attributionControl.setPrefix(false);
    var credit = document.createElement("span");
    credit.textContent = container.getAttribute("data-attribution") || "";
    map.attributionControl.getContainer().appendChild(credit);
    return map;
  }

  // A place's marker: a round badge in its theme's colour with the theme's icon, and a
  // star for a Lieu de Convergence.
  function placeIcon(themes, base, theme, convergence) {
    var look = themes[theme] || themes.autre || { icon: "map-pin" };
    var body = document.createElement("div");
    body.className = "marqueur-corps t-" + (themes[theme] ? theme : "autre");
    if (base) body.appendChild(icon(base, look.icon));
    if (convergence) {
      var star = document.createElement("span");
      star.className = "marqueur-etoile";
      if (base) star.appendChild(icon(base, "star"));
      body.appendChild(star);
    }
    return L.divIcon({
      html: body,
      className: "marqueur" + (convergence ? " marqueur-convergence" : ""),
      iconSize: [32, 32],
      iconAnchor: [16, 16],
      popupAnchor: [0, -16]
    });
  }

  // A group's marker: a ring of its themes' colours (largest share first) around the count.
  function groupIcon(themes, shares, count, convergences) {
    var total = 0;
    shares.forEach(function (share) { total += share[1]; });
    var stops = [];
    var at = 0;
    shares.forEach(function (share) {
      var colour = (themes[share[0]] || themes.autre || { colour: "#4b5563" }).colour;
      var end = at + (100 * share[1]) / total;
      stops.push(colour + " " + at.toFixed(2) + "% " + end.toFixed(2) + "%");
      at = end;
    });
    var size = count < 10 ? 36 : count < 100 ? 42 : count < 1000 ? 48 : 56;
    var body = document.createElement("div");
    body.className = "grappe-corps";
    body.style.background = stops.length > 1 ? "conic-gradient(" + stops.join(", ") + ")" :
      (stops.length ? stops[0].split(" ")[0] : "#4b5563");
    var number = document.createElement("span");
    number.textContent = String(count);
    body.appendChild(number);
    if (convergences) {
      var star = document.createElement("b");
      star.className = "grappe-etoile";
      star.textContent = "★";
      body.appendChild(star);
    }
    return L.divIcon({ html: body, className: "marker-cluster grappe", iconSize: L.point(size, size) });
  }

  function placeLink(url, iri, name, newTab) {
    var link = document.createElement("a");
    link.href = url + "?iri=" + encodeURIComponent(iri);
    link.textContent = name;
    if (newTab) { link.target = "_blank"; link.rel = "noopener"; }
    return link;
  }

  // -- phones: the results as a list or as a map -----------------------------------------
  var wide = window.matchMedia ? window.matchMedia("(min-width: 60rem)") : { matches: true };
  var onShowMap = [];

  function setupViews() {
    var group = document.querySelector(".vues");
    if (!group || !document.getElementById("carte") || !window.L || !L.markerClusterGroup) return;
    var buttons = group.querySelectorAll("button[data-vue]");
    group.hidden = false;
    function choose(view) {
      document.body.setAttribute("data-vue", view);
      Array.prototype.forEach.call(buttons, function (button) {
        button.setAttribute("aria-pressed", button.getAttribute("data-vue") === view ? "true" : "false");
      });
      if (view === "carte") onShowMap.forEach(function (run) { run(); });
    }
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () { choose(button.getAttribute("data-vue")); });
    });
    choose("liste");
  }

  function visible(element) {
    return element.offsetWidth > 0 && element.offsetHeight > 0;
  }

  // -- the results map: the same search as the list, from /api/places.geojson ----------
  function setupResultsMap(container) {
    if (!container || !window.L || !L.markerClusterGroup) return;
    var status = document.getElementById("carte-etat");
    container.hidden = false;
    var themes = themesOf(container);
    var byLabel = {};
    Object.keys(themes).forEach(function (id) { byLabel[themes[id].label] = id; });
    var base = container.getAttribute("data-icons");
    var placeUrl = container.getAttribute("data-place-url");
    var newTab = container.getAttribute("data-new-tab") === "1";
    var cards = {};
    Array.prototype.forEach.call(document.querySelectorAll("li.hit[data-iri]"), function (card) {
      cards[card.getAttribute("data-iri")] = card;
    });
    var map = null;
    var data = null;
    var bounds = [];
    var markers = {};
    var cluster = null;
    var lit = [];

    function unlight() {
      lit.forEach(function (element) { element.classList.remove("actif"); });
      lit = [];
    }

    function light(element) {
      if (!element) return;
      element.classList.add("actif");
      lit.push(element);
    }

    // a card under the pointer or the focus: its marker (or the group holding it) lights up
    function lightMarker(iri) {
      unlight();
      var marker = markers[iri];
      if (!marker || !cluster) return;
      var shown = cluster.getVisibleParent(marker);
      if (!shown) return;
      light(shown.getElement ? shown.getElement() : null);
      if (shown === marker) marker.setZIndexOffset(1000);
    }

    function lightCard(iri, scroll) {
      unlight();
      var card = cards[iri];
      if (!card) return;
      light(card);
      if (scroll && wide.matches) card.scrollIntoView({ block: "nearest" });
    }

    Object.keys(cards).forEach(function (iri) {
      var card = cards[iri];
      card.addEventListener("mouseenter", function () { lightMarker(iri); });
      card.addEventListener("focusin", function () { lightMarker(iri); });
      card.addEventListener("mouseleave", function () {
        unlight();
        if (markers[iri]) markers[iri].setZIndexOffset(0);
      });
      card.addEventListener("focusout", function () {
        unlight();
        if (markers[iri]) markers[iri].setZIndexOffset(0);
      });
    });

    function themeOf(feature) {
      var labels = feature.properties.themes || [];
      for (var i = 0; i < labels.length; i++) {
        if (byLabel[labels[i]]) return byLabel[labels[i]];
      }
      return "autre";
    }

    function popup(feature) {
      var box = document.createElement("div");
      box.appendChild(placeLink(placeUrl, feature.id, feature.properties.name, newTab));
      var line = document.createElement("p");
      var parts = [feature.properties.locality, (feature.properties.networks || []).join(", ")];
      line.textContent = parts.filter(Boolean).join(" · ");
      box.appendChild(line);
      return box;
    }

    function draw() {
      if (map || !data || !visible(container)) return;
      map = baseMap(container);
      var lat = parseFloat(container.getAttribute("data-lat"));
      var lon = parseFloat(container.getAttribute("data-lon"));
      if (!isNaN(lat) && !isNaN(lon)) map.setView([lat, lon], 12);
      else map.setView([46.6, 2.4], 5);
      cluster = L.markerClusterGroup({
        chunkedLoading: true,
        showCoverageOnHover: false,
        iconCreateFunction: function (group) {
          var counts = {};
          var convergences = 0;
          group.getAllChildMarkers().forEach(function (marker) {
            counts[marker.theme] = (counts[marker.theme] || 0) + 1;
            if (marker.convergence) convergences += 1;
          });
          var shares = Object.keys(counts).map(function (theme) { return [theme, counts[theme]]; });
          shares.sort(function (a, b) { return b[1] - a[1]; });
          return groupIcon(themes, shares, group.getChildCount(), convergences);
        }
      });
      data.features.forEach(function (feature) {
        var point = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
        var theme = themeOf(feature);
        var card = cards[feature.id];
        var convergence = card ? card.classList.contains("convergence") :
          (feature.properties.networks || []).length >= 2;
        var marker = L.marker(point, {
          icon: placeIcon(themes, base, theme, convergence),
          title: feature.properties.name,
          alt: feature.properties.name,
          keyboard: true
        });
        marker.theme = theme;
        marker.convergence = convergence;
        marker.on("add", function () {
          var element = marker.getElement();
          if (!element) return;
          element.setAttribute("data-iri", feature.id);
          element.setAttribute("data-theme", theme);
          element.addEventListener("focus", function () { lightCard(feature.id, true); });
        });
        marker.on("mouseover", function () { lightCard(feature.id, false); });
        marker.on("mouseout", unlight);
        marker.on("click", function () { lightCard(feature.id, true); });
        marker.bindPopup(function () { return popup(feature); });
        markers[feature.id] = marker;
        cluster.addLayer(marker);
        bounds.push(point);
      });
      map.addLayer(cluster);
      if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
      container.setAttribute("data-places", String(data.features.length));
      if (status) {
        status.textContent = data.features.length + " lieu" + (data.features.length > 1 ? "x" : "") +
          " sur la carte" + (data.truncated ? " (les " + data.features.length + " premiers)" : "") + ".";
      }
    }

    function shown() {
      if (map) {
        map.invalidateSize();
        return;
      }
      draw();
    }
    onShowMap.push(shown);
    if (wide.addEventListener) wide.addEventListener("change", shown);

    fetch(container.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        data = answer;
        draw();
      })
      .catch(function () {
        if (status) status.textContent = "La carte n’a pas pu être chargée ; la liste donne les mêmes lieux.";
      });
  }

  // -- the home page's map of France: places grouped by the server ---------------------
  var FRANCE = [[41.3, -5.2], [51.1, 9.6]];

  function setupFranceMap(container) {
    if (!container || !window.L) return;
    var status = document.getElementById("carte-etat");
    container.hidden = false;
    var themes = themesOf(container);
    var base = container.getAttribute("data-icons");
    var placeUrl = container.getAttribute("data-place-url");
    var source = container.getAttribute("data-clusters");
    var map = baseMap(container, { scrollWheelZoom: false, minZoom: 3 });
    map.fitBounds(FRANCE);
    var layer = L.layerGroup().addTo(map);
    var asked = 0;

    function edge(value, down) {
      var factor = 100;
      return (down ? Math.floor(value * factor) : Math.ceil(value * factor)) / factor;
    }

    function draw(data) {
      layer.clearLayers();
      var names = data.themes;
      data.groups.forEach(function (group) {
        var theme = names[group[3]];
        var label = themes[theme] ? themes[theme].label : "divers";
        var title = group[2] + " lieux (surtout : " + label + ")" +
          (group[4] ? ", dont " + group[4] + " Lieu" + (group[4] > 1 ? "x" : "") + " de Convergence" : "") +
          " : zoomer";
        var marker = L.marker([group[0], group[1]], {
          icon: groupIcon(themes, [[theme, 1]], group[2], group[4]),
          title: title,
          alt: title,
          keyboard: true
        });
        marker.on("click", function () {
          map.setView([group[0], group[1]], Math.min(map.getZoom() + 2, 18));
        });
        layer.addLayer(marker);
      });
      data.places.forEach(function (place) {
        var theme = names[place[2]];
        var marker = L.marker([place[0], place[1]], {
          icon: placeIcon(themes, base, theme, place[3] === 1),
          title: place[5],
          alt: place[5],
          keyboard: true
        });
        marker.on("add", function () {
          var element = marker.getElement();
          if (element) element.setAttribute("data-iri", place[4]);
        });
        marker.bindPopup(function () {
          var box = document.createElement("div");
          box.appendChild(placeLink(placeUrl, place[4], place[5], false));
          if (place[3] === 1) {
            var line = document.createElement("p");
            line.textContent = "Lieu de Convergence";
            box.appendChild(line);
          }
          return box;
        });
        layer.addLayer(marker);
      });
      var total = data.places.length;
      data.groups.forEach(function (group) { total += group[2]; });
      container.setAttribute("data-places", String(total));
      container.setAttribute("data-groups", String(data.groups.length));
      container.setAttribute("data-zoom", String(data.zoom));
      if (status) {
        status.textContent = total.toLocaleString("fr-FR") + " lieu" + (total > 1 ? "x" : "") + " dans cette vue de la carte.";
      }
    }

    function load() {
      var box = map.getBounds().pad(0.15);
      var bbox = [
        Math.max(-90, edge(box.getSouth(), true)),
        Math.max(-180, edge(box.getWest(), true)),
        Math.min(90, edge(box.getNorth(), false)),
        Math.min(180, edge(box.getEast(), false))
      ];
      var number = ++asked;
      fetch(source + "?zoom=" + map.getZoom() + "&bbox=" + bbox.join(","), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) { if (number === asked) draw(data); })
        .catch(function () {
          if (status) status.textContent = "La carte n’a pas pu être chargée : cherchez une commune pour avoir la liste des lieux.";
        });
    }
    map.on("moveend", load);
    load();
  }

  // -- the place page's small map ------------------------------------------------------
  function setupPlaceMap(container) {
    if (!container || !window.L) return;
    var lat = parseFloat(container.getAttribute("data-lat"));
    var lon = parseFloat(container.getAttribute("data-lon"));
    if (isNaN(lat) || isNaN(lon)) return;
    container.hidden = false;
    var approximate = container.getAttribute("data-approximate") === "1";
    var map = baseMap(container, { scrollWheelZoom: false });
    map.setView([lat, lon], approximate ? 13 : 16);
    var theme = container.getAttribute("data-theme") || "autre";
    L.marker([lat, lon], {
      icon: placeIcon(themesOf(container), container.getAttribute("data-icons"), theme, false),
      title: container.getAttribute("data-name") || "",
      keyboard: false
    }).addTo(map);
    if (approximate) {
      L.circle([lat, lon], { radius: 1500, weight: 1, fillOpacity: 0.08 }).addTo(map);
    }
  }

  function start() {
    var input = document.getElementById("q");
    if (input) setupSuggestions(input);
    if (input && input.form) setupGeolocation(input.form);
    setupSharing();
    setupViews();
    setupResultsMap(document.getElementById("carte"));
    setupFranceMap(document.getElementById("carte-france"));
    setupPlaceMap(document.getElementById("carte-lieu"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
