/* Registre LTC — public pages, progressive enhancement only: every page works without
 * this file. It adds suggestions as you type, the "Autour de moi" button and the map.
 * Harvested text only ever reaches the page through textContent, never as markup. */
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

  // -- the map: the same search as the list, from /api/places.geojson ------------------
  function setupMap(container) {
    if (!container || !window.L || !L.markerClusterGroup) return;
    var status = document.getElementById("carte-etat");
    container.hidden = false;
    var map = L.map(container, { scrollWheelZoom: false });
    L.tileLayer(container.getAttribute("data-tiles"), {
      attribution: "",
      maxZoom: 19
    }).addTo(map);
    // the attribution is plain text from the settings: set it as text, not markup
    map.attributionControl.setPrefix(false);
    var credit = document.createElement("span");
    credit.textContent = container.getAttribute("data-attribution") || "";
    map.attributionControl.getContainer().appendChild(credit);

    var lat = parseFloat(container.getAttribute("data-lat"));
    var lon = parseFloat(container.getAttribute("data-lon"));
    if (!isNaN(lat) && !isNaN(lon)) {
      map.setView([lat, lon], 12);
    } else {
      map.setView([46.6, 2.4], 5);
    }
    var placeUrl = container.getAttribute("data-place-url");
    var newTab = container.getAttribute("data-new-tab") === "1";

    function popup(feature) {
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = placeUrl + "?iri=" + encodeURIComponent(feature.id);
      link.textContent = feature.properties.name;
      if (newTab) { link.target = "_blank"; link.rel = "noopener"; }
      var line = document.createElement("p");
      var parts = [feature.properties.locality, (feature.properties.networks || []).join(", ")];
      line.textContent = parts.filter(Boolean).join(" · ");
      box.appendChild(link);
      box.appendChild(line);
      return box;
    }

    fetch(container.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        var cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
        var bounds = [];
        data.features.forEach(function (feature) {
          var point = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
          var marker = L.marker(point, {
            title: feature.properties.name,
            alt: feature.properties.name,
            keyboard: true
          });
          marker.feature = feature;
          marker.bindPopup(function () { return popup(feature); });
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
      })
      .catch(function () {
        if (status) status.textContent = "La carte n’a pas pu être chargée ; la liste donne les mêmes lieux.";
      });
  }

  function start() {
    var input = document.getElementById("q");
    if (input) setupSuggestions(input);
    if (input && input.form) setupGeolocation(input.form);
    setupMap(document.getElementById("carte"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
