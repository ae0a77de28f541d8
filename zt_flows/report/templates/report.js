/* ztflows report: the filter, the collapsible groups and the security-group graph.
   Inlined into report.html and admitted by the page's Content-Security-Policy by its hash.
   Every string shown comes from the page's text or its JSON and is set as text, never as
   markup: names and tags from AWS are untrusted. */
(function () {
  "use strict";
  var SEVERITIES = ["info", "low", "medium", "high", "critical"];

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function rank(severity) {
    return SEVERITIES.indexOf(severity || "");
  }

  function matches(element, query) {
    return !query || element.textContent.toLowerCase().indexOf(query) >= 0;
  }

  function show(element, visible) {
    element.hidden = !visible;
  }

  /* ------------------------------------------------------------------ the filter */

  var input = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var counter = document.getElementById("filter-count");
  var graph = null; // the cytoscape instance, once drawn

  function applyFilter() {
    var query = input.value.trim().toLowerCase();
    var least = severity.value ? rank(severity.value) : -1;
    var findings = all("tr[data-severity]");
    var shownFindings = 0;
    findings.forEach(function (row) {
      var visible = rank(row.getAttribute("data-severity")) >= least && matches(row, query);
      show(row, visible);
      if (visible) shownFindings += 1;
    });
    all(".sev-block").forEach(function (block) {
      show(block, all("tr[data-severity]", block).some(function (row) { return !row.hidden; }));
    });
    var groups = all("details.group");
    var shownGroups = 0;
    var visibleGroups = {};
    groups.forEach(function (group) {
      var worst = group.getAttribute("data-severity");
      var visible = (least < 0 || (worst && rank(worst) >= least)) && matches(group, query);
      show(group, visible);
      if (visible) {
        shownGroups += 1;
        visibleGroups[group.id] = true;
        if (query) group.open = true;
      }
    });
    all("tr[data-group]").forEach(function (row) {
      show(row, visibleGroups[row.getAttribute("data-group")] === true);
    });
    var filtered = Boolean(query) || least >= 0;
    counter.textContent = filtered
      ? "showing " + shownFindings + " of " + findings.length + " findings, " +
        shownGroups + " of " + groups.length + " security groups"
      : findings.length + " findings, " + groups.length + " security groups";
    highlightGraph(query);
  }

  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") {
      target.hidden = false;
      target.open = true;
      target.scrollIntoView();
    }
  }

  if (input && severity && counter) {
    document.getElementById("filter").hidden = false;
    input.addEventListener("input", applyFilter);
    severity.addEventListener("change", applyFilter);
    document.getElementById("expand-all").addEventListener("click", function () {
      all("details.group").forEach(function (d) { d.open = true; });
    });
    document.getElementById("collapse-all").addEventListener("click", function () {
      all("details.group").forEach(function (d) { d.open = false; });
    });
    window.addEventListener("hashchange", openTarget);
    applyFilter();
    openTarget();
  }

  /* ------------------------------------------------------------------ the graph */

  function highlightGraph(query) {
    if (!graph) return;
    graph.batch(function () {
      graph.elements().removeClass("faded hit");
      if (!query) return;
      var hits = graph.nodes().filter(function (node) {
        var text = (node.data("label") + " " + node.data("detail")).toLowerCase();
        return text.indexOf(query) >= 0;
      });
      var near = hits.closedNeighborhood();
      graph.elements().not(near).addClass("faded");
      hits.addClass("hit");
    });
  }

  var TIER_COLOURS = {
    external: "#e5e7eb",
    entry: "#dbeafe",
    app: "#dcfce7",
    data: "#fef3c7"
  };

  function tipLines(element) {
    var d = element.data();
    if (element.isNode()) {
      return [
        d.label,
        d.detail,
        d.members ? d.members + (d.members === 1 ? " member" : " members") : "",
        "tier: " + d.tier
      ];
    }
    return [
      element.source().data("label") + " \u2192 " + element.target().data("label"),
      "ports: " + d.ports,
      d.rejected_ports ? "also rejected: " + d.rejected_ports : "",
      d.flows.toLocaleString("en-US") + " flows, " + d.connections.toLocaleString("en-US") +
        " connections, " + d.bytes,
      "seen " + d.first_seen + " to " + d.last_seen + " (" + d.days +
        (d.days === 1 ? " day)" : " days)"),
      "clients: " + d.clients,
      "servers: " + d.servers
    ];
  }

  function drawGraph() {
    var holder = document.getElementById("graph-data");
    var box = document.getElementById("graph-canvas");
    var tip = document.getElementById("graph-tip");
    if (!holder || !box || !tip || typeof window.cytoscape !== "function") return;
    var data = JSON.parse(holder.textContent);
    var elements = [];
    data.nodes.forEach(function (n) {
      elements.push({ group: "nodes", data: n, position: { x: n.x, y: n.y } });
    });
    data.edges.forEach(function (e) {
      elements.push({ group: "edges", data: e });
    });
    box.hidden = false;
    graph = window.cytoscape({
      container: box,
      elements: elements,
      layout: { name: "preset" },
      minZoom: 0.05,
      maxZoom: 3,
      style: [
        {
          selector: "node",
          style: {
            shape: "round-rectangle",
            width: function (node) {
              return Math.max(36, String(node.data("label")).length * 6.6 + 16);
            },
            height: 28,
            label: "data(label)",
            "text-valign": "center",
            "text-halign": "center",
            "font-size": 11,
            "font-family": "system-ui, sans-serif",
            color: "#111827",
            "background-color": function (node) {
              return TIER_COLOURS[node.data("tier")] || "#f3f4f6";
            },
            "border-width": 1,
            "border-color": "#6b7280",
            "min-zoomed-font-size": 7
          }
        },
        {
          selector: "edge",
          style: {
            width: "data(width)",
            "curve-style": "bezier",
            "control-point-step-size": 24,
            "line-color": "#94a3b8",
            "target-arrow-color": "#94a3b8",
            "target-arrow-shape": "triangle",
            "arrow-scale": 0.8,
            opacity: 0.8
          }
        },
        { selector: "node.hit", style: { "border-width": 3, "border-color": "#1d4ed8" } },
        { selector: ".faded", style: { opacity: 0.12 } },
        {
          selector: "edge:selected, edge.hover",
          style: { "line-color": "#1d4ed8", "target-arrow-color": "#1d4ed8", opacity: 1 }
        }
      ]
    });
    // The positions come with the data (networkx's spring layout); a small graph is not
    // blown up past its natural size.
    graph.fit(undefined, 24);
    if (graph.zoom() > 1.5) {
      graph.zoom(1.5);
      graph.center();
    }

    function showTip(event) {
      while (tip.firstChild) tip.removeChild(tip.firstChild);
      tipLines(event.target).forEach(function (line) {
        if (!line) return;
        var div = document.createElement("div");
        div.textContent = line;
        tip.appendChild(div);
      });
      var at = event.renderedPosition || event.target.renderedPosition();
      var left = Math.min(at.x + 14, box.clientWidth - 340);
      tip.style.left = Math.max(left, 4) + "px";
      tip.style.top = at.y + 14 + "px";
      tip.hidden = false;
      if (event.target.isEdge()) event.target.addClass("hover");
    }
    function hideTip(event) {
      tip.hidden = true;
      if (event.target.isEdge()) event.target.removeClass("hover");
    }
    graph.on("mouseover", "node, edge", showTip);
    graph.on("mouseout", "node, edge", hideTip);
    graph.on("tap", "node, edge", showTip);
    var fit = document.getElementById("graph-fit");
    if (fit) {
      fit.hidden = false;
      fit.addEventListener("click", function () { graph.fit(undefined, 24); });
    }
    window.ztflowsGraph = graph; // for a console, and for the report's browser test
    if (input) highlightGraph(input.value.trim().toLowerCase());
  }

  drawGraph();
})();
