// Triage's status page: fetches ui/data every refresh_s seconds and draws it with plain DOM.
// The master key (auth.mode: keys) is asked for once per tab, kept in sessionStorage and sent
// only as an Authorization header; it never goes into a URL. Text is set with textContent only.
"use strict";

(() => {
  const STORAGE_KEY = "triage.ui.key";
  const $ = (id) => document.getElementById(id);
  let refreshMs = 5000;
  let timer = null;
  let colours = new Map();

  const usd = (v) => (v === null || v === undefined ? "–" : "$" + (v >= 1 ? v.toFixed(2) : v.toFixed(4)));
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%");
  const seconds = (v) => {
    if (v === null || v === undefined) return "–";
    return v < 1 ? (1000 * v).toFixed(v < 0.01 ? 2 : 0) + " ms" : v.toFixed(2) + " s";
  };
  const duration = (s) => {
    if (s === null || s === undefined) return "–";
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    return m ? `${m}m ${Math.floor(s % 60)}s` : `${Math.floor(s)}s`;
  };

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(tbody, cells, attrs) {
    const tr = document.createElement("tr");
    for (const [name, value] of Object.entries(attrs || {})) tr.dataset[name] = value;
    for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el("td", cell));
    tbody.appendChild(tr);
    return tr;
  }

  // A bar of segments [fraction, colour class]; widths set through the CSSOM (allowed by the CSP).
  function bar(segments) {
    const outer = el("div", null, "bar");
    for (const [fraction, colour] of segments) {
      const part = el("span", null, colour);
      part.style.width = Math.max(0, Math.min(1, fraction)) * 100 + "%";
      outer.appendChild(part);
    }
    const td = el("td", null, "wide");
    td.appendChild(outer);
    return td;
  }

  function colour(tier) {
    if (!colours.has(tier)) colours.set(tier, "c" + (colours.size % 6));
    return colours.get(tier);
  }

  function fill(tableId, rows) {
    const tbody = $(tableId).querySelector("tbody");
    tbody.replaceChildren();
    rows(tbody);
  }

  function renderMix(mix) {
    colours = new Map();
    mix.tiers.forEach((t) => colour(t.tier));
    fill("tiers", (tbody) => {
      for (const t of mix.tiers) {
        row(tbody, [el("td", t.tier), el("td", t.requests, "num requests"), el("td", pct(t.share), "num"),
          bar([[t.share, colour(t.tier)]])], { tier: t.tier });
      }
    });
    fill("profiles", (tbody) => {
      if (!mix.profiles.length) row(tbody, [el("td", "no requests yet", "muted"), el("td"), el("td")]);
      for (const p of mix.profiles) {
        const split = Object.entries(p.tiers);
        const cell = bar(split.map(([tier, n]) => [n / p.requests, colour(tier)]));
        cell.appendChild(el("span", split.map(([tier, n]) => `${tier} ${n}`).join(" · "), "legend"));
        row(tbody, [el("td", p.profile), el("td", p.requests, "num requests"), cell], { profile: p.profile });
      }
    });
  }

  function renderSpend(spend) {
    const top = Math.max(spend.frontier_usd, spend.spent_usd, 1e-12);
    fill("spend", (tbody) => {
      row(tbody, [el("td", "Triage spent"), el("td", usd(spend.spent_usd), "num"),
        bar([[spend.spent_usd / top, "c0"]])], { line: "spent" });
      row(tbody, [el("td", "all-frontier"), el("td", usd(spend.frontier_usd), "num"),
        bar([[spend.frontier_usd / top, "c1"]])], { line: "frontier" });
    });
    $("spent").textContent = usd(spend.spent_usd);
    $("frontier").textContent = "all-frontier " + usd(spend.frontier_usd);
    $("saved").textContent = pct(spend.saved_share);
    $("saved-detail").textContent = usd(spend.saved_usd) + " against the frontier";
  }

  function renderLatency(latency) {
    fill("latency", (tbody) => {
      for (const [name, label] of [["request", "request"], ["overhead", "gateway overhead"]]) {
        const h = latency[name];
        row(tbody, [el("td", label), el("td", seconds(h.p50_s), "num"), el("td", seconds(h.p95_s), "num"),
          el("td", seconds(h.p99_s), "num"), el("td", h.count, "num")], { latency: name });
      }
    });
    $("p50").textContent = seconds(latency.request.p50_s);
    $("p99").textContent = "p99 " + seconds(latency.request.p99_s);
  }

  function render(data) {
    const req = data.requests;
    $("requests-total").textContent = req.total;
    const errors = (req.by_status["4xx"] || 0) + (req.by_status["5xx"] || 0);
    const hits = (req.cache.hit || 0) + (req.cache.semantic_hit || 0);
    $("requests-detail").textContent = `${errors} errors · ${hits} cache hits`;
    renderMix(data.route_mix);
    renderSpend(data.spend);
    renderLatency(data.latency);
    fill("breakers", (tbody) => {
      for (const b of data.breakers) {
        const state = el("td");
        state.appendChild(el("span", b.state.replace("_", "-"), "badge " + b.state));
        row(tbody, [el("td", b.tier), state], { tier: b.tier, state: b.state });
      }
    });
    $("uptime").textContent = duration(data.uptime_s);
    $("updated").textContent = new Date().toLocaleTimeString();
    $("refresh").textContent = data.refresh_s;
    refreshMs = Math.max(1000, data.refresh_s * 1000);
    $("message").hidden = true;
    $("login").hidden = true;
    $("status").hidden = false;
    document.body.dataset.state = "ok";
  }

  function showMessage(text) {
    $("message").textContent = text;
    $("message").hidden = false;
    document.body.dataset.state = "error";
  }

  function askKey(reason) {
    clearTimeout(timer);
    $("status").hidden = true;
    $("login-error").textContent = reason;
    $("login").hidden = false;
    document.body.dataset.state = "login";
    $("key").focus();
  }

  async function load() {
    clearTimeout(timer);
    const key = sessionStorage.getItem(STORAGE_KEY);
    const headers = key ? { Authorization: "Bearer " + key } : {};
    let response;
    try {
      response = await fetch("ui/data", { headers, cache: "no-store", credentials: "omit", redirect: "error" });
    } catch (err) {
      showMessage("The gateway did not answer; retrying.");
      timer = setTimeout(load, refreshMs);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(STORAGE_KEY);
      askKey(key ? "That key was refused: the status page needs the master key." : "");
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      showMessage((body.error && body.error.message) || `The gateway answered ${response.status}; retrying.`);
    } else {
      render(await response.json());
    }
    timer = setTimeout(load, refreshMs);
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("key").value.trim();
    $("key").value = "";
    if (!value) return;
    sessionStorage.setItem(STORAGE_KEY, value);
    $("login").hidden = true;
    load();
  });
  load();
})();
