// The report page's script, inlined into the HTML. It reads the embedded data (see data.ts), renders only the
// rows in view (fixed-pitch cells, row heights from a prefix sum, binary search on scroll), handles every
// cell through event delegation on the row container, and builds a page's details only when it is opened.
// Plain ES2020 with no template literals, so it can live in this TS string unescaped. A page's scan and
// output (client-page.ts) are spliced in, in the same scope.
import { CLIENT_PAGE_JS } from './client-page.js';

export const CLIENT_JS = String.raw`
'use strict';
(function () {
  var D = JSON.parse(document.getElementById('ocrmake-data').textContent);
  var S = D.strings, ST = D.states, NS = ST.length, books = D.books, NB = books.length;
  var CELL = 13, GAP = 2, PITCH = CELL + GAP, BRK = 4, PADTOP = 8, PADBOT = 8, MINH = 32;
  var PROBLEM = { failed: 1, dead: 1, blocked: 1, 'missing-input': 1 };
  var MEANING = JSON.parse(document.getElementById('ocrmake-meaning').textContent);
  var REASON = {
    'new': 'never built', 'output-missing': 'the output file is gone', 'image-changed': 'the image changed',
    'prompt-changed': 'the rendered prompt changed', 'context-changed': 'the previous page\'s context changed',
    'config-changed': 'engine, model, generation config or rule version changed', 'schema-changed': 'the output schema changed',
    'prepare-changed': 'the image preparation settings changed', 'forced': 'rebuild forced'
  };
  var $ = function (id) { return document.getElementById(id); };
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  var esc = function (s) { return String(s).replace(/[&<>"']/g, function (c) { return ESC[c]; }); };
  var fmt = function (n) { return n.toLocaleString('en-US'); };
  var sw = function (v) { return '<i class="sw s' + v + '"></i>'; };
  var pill = function (v) { return '<span class="pill st' + v + '">' + sw(v) + esc(ST[v]) + '</span>'; };
  var when = function (iso) { var d = new Date(iso); return isNaN(d) ? iso : d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }); };
  var stateIdx = {}; ST.forEach(function (s, i) { stateIdx[s] = i; });

  // ---- the model ------------------------------------------------------------------------------
  var counts = new Int32Array(NB * NS), totals = new Array(NS).fill(0), nPages = 0, bookById = new Map();
  for (var b = 0; b < NB; b++) {
    var s = books[b].s;
    for (var i = 0; i < s.length; i++) counts[b * NS + s.charCodeAt(i) - 48]++;
    for (var v = 0; v < NS; v++) totals[v] += counts[b * NS + v];
    nPages += s.length;
    bookById.set(books[b].id, b);
  }
  function pageNo(B, i) { return typeof B.p === 'number' ? B.p + i : B.p[i]; }
  function keyOf(B, i) {
    if (B.keys) return S[B.keys[i]];
    var n = pageNo(B, i);
    return B.k ? B.k[0] + n + B.k[1] : B.id + ':' + n;
  }
  function pathOf(col, B, i) {
    var rest = col[1];
    if (typeof rest === 'string') return col[0] + pageNo(B, i) + rest;
    return rest[i] == null ? null : col[0] + rest[i];
  }
  function stateOf(b, i) { return books[b].s.charCodeAt(i) - 48; }
  function isBreak(B, i) { return !!B.br && B.br.indexOf(i) >= 0; }
  function hasPred(B, i) { return i > 0 && !isBreak(B, i); }
  function problems(b) { var n = 0; for (var v = 0; v < NS; v++) if (PROBLEM[ST[v]]) n += counts[b * NS + v]; return n; }
  var keyIndex = null;
  /** Where a key is: [book, page index], or null. Common keys are "book:page"; others use a full index. */
  function locate(key) {
    var at = key.lastIndexOf(':');
    var b = bookById.get(key.slice(0, at));
    if (b !== undefined) {
      var B = books[b], n = Number(key.slice(at + 1));
      var i = typeof B.p === 'number' ? n - B.p : B.p.indexOf(n);
      if (i >= 0 && i < B.s.length && keyOf(B, i) === key) return [b, i];
    }
    if (!keyIndex) {
      keyIndex = new Map();
      for (var bb = 0; bb < NB; bb++) for (var ii = 0; ii < books[bb].s.length; ii++) keyIndex.set(keyOf(books[bb], ii), [bb, ii]);
    }
    return keyIndex.get(key) || null;
  }

  // ---- filters: enabled states and search terms decide which cells match; a row shows if any does ----
  var enabled = new Array(NS).fill(true), terms = [], sortBy = 'key';
  var rows = [], qmask = new Array(NB).fill(null), lowIds = books.map(function (B) { return B.id.toLowerCase(); });
  function matchesAll(text) { for (var t = 0; t < terms.length; t++) if (text.indexOf(terms[t]) < 0) return false; return true; }
  function applyFilters() {
    rows = [];
    for (var b = 0; b < NB; b++) {
      var B = books[b], m = null;
      if (terms.length && !matchesAll(lowIds[b])) {
        m = new Uint8Array(B.s.length);
        for (var i = 0; i < B.s.length; i++) m[i] = matchesAll(keyOf(B, i).toLowerCase()) ? 1 : 0;
      }
      qmask[b] = m;
      var show = false;
      if (m === null) { for (var v = 0; v < NS && !show; v++) show = enabled[v] && counts[b * NS + v] > 0; }
      else { for (var j = 0; j < m.length && !show; j++) show = m[j] === 1 && enabled[stateOf(b, j)]; }
      if (show) rows.push(b);
    }
    if (sortBy === 'problems') {
      var score = function (b) { return problems(b) * 1e6 + unfinished(b); };
      rows.sort(function (a, c) { return score(c) - score(a) || a - c; });
    }
    $('shown').textContent = rows.length === NB ? fmt(NB) + ' books' : fmt(rows.length) + ' of ' + fmt(NB) + ' books';
    $('empty').hidden = rows.length > 0;
    layout();
    renderFailures();
  }
  function unfinished(b) { return books[b].s.length - counts[b * NS + stateIdx.fresh] - counts[b * NS + stateIdx.edited]; }

  // ---- virtual rows ----------------------------------------------------------------------------------
  var grid = $('grid'), canvas = $('canvas'), avail = 600, tops = new Float64Array(1), first = -1, last = -1;
  var labelChars = 0;
  for (var lb = 0; lb < NB; lb++) labelChars = Math.max(labelChars, books[lb].id.length + 2 * (books[lb].id.split(':').length - 1));
  function lines(B) {
    var n = B.s.length;
    if (!B.br) return Math.max(1, Math.ceil(n / Math.max(1, Math.floor((avail + GAP) / PITCH))));
    var x = 0, l = 1;
    for (var i = 0; i < n; i++) {
      var w = CELL + (isBreak(B, i) ? BRK : 0);
      if (x > 0 && x + GAP + w > avail) { l++; x = w; } else x += (x > 0 ? GAP : 0) + w;
    }
    return l;
  }
  function layout() {
    var gw = grid.clientWidth;
    var lbl = Math.round(Math.min(gw * 0.42, Math.max(170, labelChars * 7.5 + 100)));
    grid.style.setProperty('--lbl', lbl + 'px');
    avail = Math.max(CELL, gw - lbl - 14);
    tops = new Float64Array(rows.length + 1);
    for (var r = 0; r < rows.length; r++) tops[r + 1] = tops[r] + Math.max(MINH, PADTOP + PADBOT + lines(books[rows[r]]) * PITCH - GAP);
    canvas.style.height = tops[rows.length] + 'px';
    // The grid is as tall as its rows, up to the space there is (then it scrolls).
    grid.style.height = (rows.length ? tops[rows.length] : 140) + 'px';
    render(true);
  }
  function render(force) {
    var top = grid.scrollTop, h = grid.clientHeight, lo = 0, hi = rows.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (tops[mid + 1] <= top) lo = mid + 1; else hi = mid; }
    var a = Math.max(0, lo - 3), z = lo;
    while (z < rows.length && tops[z] < top + h) z++;
    z = Math.min(rows.length, z + 3);
    if (!force && a === first && z === last) return;
    first = a; last = z;
    var out = [];
    for (var r = a; r < z; r++) out.push(rowHtml(r));
    canvas.innerHTML = out.join('');
  }
  function labelHtml(B) {
    var parts = B.id.split(':');
    if (parts.length !== D.bookWildcards.length) return '<b>' + esc(B.id) + '</b>';
    return parts.map(function (p, i) { return i === 0 ? '<b>' + esc(p) + '</b>' : esc(p); }).join('<span class="sep">/</span>');
  }
  function rowHtml(r) {
    var b = rows[r], B = books[b], s = B.s, m = qmask[b], cells = '';
    for (var i = 0; i < s.length; i++) {
      var v = s.charCodeAt(i) - 48;
      var cls = 'c s' + v;
      if (!(enabled[v] && (m === null || m[i] === 1))) cls += ' g';
      if (b === selB && i === selI) cls += ' sel';
      if (B.br && isBreak(B, i)) cls += ' brk';
      cells += '<i class="' + cls + '" data-i="' + i + '"></i>';
    }
    var title = D.bookWildcards.length === B.id.split(':').length ? B.id.split(':').map(function (p, i) { return D.bookWildcards[i] + '=' + p; }).join('  ') : B.id;
    var np = problems(b);
    return '<div class="row" data-b="' + b + '" style="top:' + tops[r] + 'px;height:' + (tops[r + 1] - tops[r]) + 'px">' +
      '<div class="lbl" title="' + esc(title + ' (' + s.length + ' pages)') + '"><span class="nm">' + labelHtml(B) + '</span>' +
      (np ? '<span class="pb" title="failed, dead, blocked or missing input">' + np + '</span>' : '') +
      '<span class="ct">' + s.length + '</span></div><div class="cells">' + cells + '</div></div>';
  }
  var pending = false;
  grid.addEventListener('scroll', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(false); });
  }, { passive: true });
  new ResizeObserver(function () { layout(); }).observe(grid);

  // ---- hover and click, delegated ----------------------------------------------------------------------
  var tip = $('tip');
  function cellAt(el) {
    if (!el || !el.classList || !el.classList.contains('c')) return null;
    var row = el.parentNode.parentNode;
    return [Number(row.getAttribute('data-b')), Number(el.getAttribute('data-i'))];
  }
  canvas.addEventListener('mouseover', function (e) {
    var at = cellAt(e.target);
    if (!at) { tip.style.display = 'none'; return; }
    var B = books[at[0]], v = stateOf(at[0], at[1]), x = B.x && B.x[at[1]], why = '';
    if (x && x.r) why = x.r.map(function (r) { return S[r[0]]; }).join(', ');
    else if (x && x.d !== undefined) why = S[x.d];
    tip.innerHTML = '<div class="k">' + esc(keyOf(B, at[1])) + '</div><div class="s">' + sw(v) + '<span>' + esc(ST[v]) + (why ? ' · ' + esc(why) : '') + '</span></div>';
    tip.style.display = 'block';
    moveTip(e);
  });
  canvas.addEventListener('mousemove', function (e) { if (tip.style.display === 'block') moveTip(e); });
  grid.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  function moveTip(e) {
    var w = tip.offsetWidth, h = tip.offsetHeight, x = e.clientX + 14, y = e.clientY + 16;
    if (x + w > innerWidth - 8) x = e.clientX - w - 10;
    if (y + h > innerHeight - 8) y = e.clientY - h - 12;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  canvas.addEventListener('click', function (e) {
    var at = cellAt(e.target);
    if (at) select(at[0], at[1], false);
  });

  // ---- the details panel: explain, built on demand ----------------------------------------------------------
  var selB = -1, selI = -1, panel = $('panel');
  function select(b, i, reveal) {
    selB = b; selI = i;
    panel.hidden = false;
    panel.classList.add('wide');
    panel.innerHTML = detailHtml(b, i);
    panel.scrollTop = 0;
    if (reveal) revealRow(b); else render(true);
  }
  function closePanel() { selB = selI = -1; panel.hidden = true; render(true); }
  function revealRow(b) {
    var r = rows.indexOf(b);
    if (r < 0) { render(true); return; }
    if (tops[r] < grid.scrollTop || tops[r + 1] > grid.scrollTop + grid.clientHeight) grid.scrollTop = Math.max(0, tops[r] - grid.clientHeight / 3);
    render(true);
  }
  function link(key) {
    var at = locate(key);
    if (!at) return '<span class="mono">' + esc(key) + '</span>';
    return '<a class="key" data-key="' + esc(key) + '">' + esc(key) + '</a> ' + pill(stateOf(at[0], at[1]));
  }
  function hashCell(h) { return h < 0 ? '<span class="muted">–</span>' : '<span class="mono">' + esc(S[h]) + '</span>'; }
  function why(state, x) {
    if (state === 'fresh') return 'The output is what ocrmake wrote and the request (' + esc(D.engine) + ') is unchanged.';
    if (state === 'edited') return 'The output differs from what ocrmake wrote: a person edited it. It is kept as is (<span class="mono">build --force</span> regenerates it).';
    return esc(MEANING[state] || '') + (x && x.d !== undefined ? '<div class="muted" style="margin-top:4px">' + esc(S[x.d]) + '</div>' : '');
  }
  function detailHtml(b, i) {
    var B = books[b], key = keyOf(B, i), v = stateOf(b, i), state = ST[v], x = (B.x && B.x[i]) || {};
    var h = '<div class="ph"><div style="flex:1;min-width:0"><div class="k" id="d-key">' + esc(key) + '</div>' +
      '<div style="margin-top:6px" id="d-state">' + pill(v) + '</div></div><button class="x" id="d-close" title="Close (Esc)" aria-label="Close">×</button></div>';
    h += '<div class="sec"><div class="why" id="d-why">' + why(state, x) + '</div></div>';
    h += pageHtml(key, pathOf(B.i, B, i), pathOf(B.o, B, i), x);
    h += '<div class="sec"><h3>Reasons</h3><div id="d-reasons">';
    if (x.r && x.r.length) {
      h += '<table class="t rs"><tr><th>reason</th><th>recorded</th><th>current</th></tr>';
      x.r.forEach(function (r) {
        var code = S[r[0]];
        h += '<tr><td><div class="code">' + esc(code) + '</div><div class="muted">' + esc(REASON[code] || '') + '</div></td>' +
          (r.length > 1 ? '<td>' + hashCell(r[1]) + '</td><td>' + hashCell(r[2]) + '</td>' : '<td></td><td></td>') + '</tr>';
      });
      h += '</table>';
    } else h += '<span class="muted">none</span>';
    h += '</div></div>';
    var out = pathOf(B.o, B, i), img = pathOf(B.i, B, i);
    h += '<div class="sec"><h3>Files</h3><dl class="kv"><dt>output</dt><dd class="mono" id="d-output">' + esc(out || '') + '</dd>' +
      '<dt>image</dt><dd class="mono" id="d-image">' + (img ? esc(img) : '<span class="muted">(none)</span>') + '</dd></dl></div>';
    h += '<div class="sec"><h3>Chain</h3><dl class="kv"><dt>predecessor</dt><dd id="d-pred">' +
      (hasPred(B, i) ? link(keyOf(B, i - 1)) : '<span class="muted">none (first page of its chain)</span>') + '</dd>';
    if (i + 1 < B.s.length && hasPred(B, i + 1)) h += '<dt>successor</dt><dd>' + link(keyOf(B, i + 1)) + '</dd>';
    if (x.b !== undefined) h += '<dt>blocked by</dt><dd id="d-blocked">' + link(S[x.b]) + '</dd>';
    if (!D.dependent) h += '<dt></dt><dd class="muted">the ' + esc(D.engine) + ' engine sends no context: pages do not wait for their predecessor</dd>';
    h += '</dl></div>';
    var hist = D.failures.rows.filter(function (f) { return S[f[0]] === key; });
    h += '<div class="sec"><h3>Attempts</h3><dl class="kv"><dt>attempts</dt><dd id="d-attempts">' + (x.a || 0) + ' of ' + D.maxAttempts + ' (current request)</dd></dl>';
    if (x.e) h += '<div class="err" id="d-error" style="margin-top:10px"><span class="cl">' + esc(S[x.e[0]]) + '</span> <span class="muted">' + esc(when(S[x.e[2]])) + '</span><div style="margin-top:4px">' + esc(S[x.e[1]]) + '</div></div>';
    if (hist.length > 1) {
      h += '<table class="t rs" style="margin-top:10px"><tr><th>time</th><th>class</th><th>#</th></tr>';
      hist.slice(0, 20).forEach(function (f) { h += '<tr><td class="when">' + esc(when(S[f[5]])) + '</td><td><span class="cls">' + esc(S[f[1]]) + '</span></td><td>' + f[4] + '</td></tr>'; });
      h += '</table>';
    }
    h += '</div>';
    var cmd = "ocrmake explain '" + key.replace(/'/g, "'\\''") + "'";
    h += '<div class="sec"><h3>In a terminal</h3><div class="cmd"><span>' + esc(cmd) + '</span><button data-copy="' + esc(cmd) + '">copy</button></div></div>';
    h += '<div class="foot"><kbd>←</kbd> <kbd>→</kbd> page · <kbd>↑</kbd> <kbd>↓</kbd> book · <kbd>Esc</kbd> close</div>';
    return h;
  }
  panel.addEventListener('click', function (e) {
    var t = e.target;
    if (t.id === 'd-close') return closePanel();
    if (t.getAttribute('data-copy') !== null) {
      var text = t.getAttribute('data-copy');
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { t.textContent = 'copied'; }, function () {});
      return;
    }
    if (t.getAttribute('data-view') !== null) {
      var view = t.getAttribute('data-view');
      panel.querySelectorAll('.otext').forEach(function (el) { el.hidden = view !== 'text'; });
      panel.querySelectorAll('.ojson').forEach(function (el) { el.hidden = view !== 'json'; });
      panel.querySelectorAll('[data-view]').forEach(function (bt) { bt.setAttribute('aria-pressed', String(bt.getAttribute('data-view') === view)); });
      return;
    }
    if (t.classList.contains('key')) { var at = locate(t.getAttribute('data-key')); if (at) select(at[0], at[1], true); }
  });

` + CLIENT_PAGE_JS + String.raw`
  // ---- failures tab --------------------------------------------------------------------------------------
  var failuresShown = false;
  function renderFailures() {
    if (!failuresShown) return;
    var F = D.failures, body = '';
    var n = 0;
    for (var r = 0; r < F.rows.length; r++) {
      var f = F.rows[r], key = S[f[0]];
      if (terms.length && !matchesAll(key.toLowerCase())) continue;
      n++;
      body += '<tr class="r" data-key="' + esc(key) + '"><td class="when">' + esc(when(S[f[5]])) + '</td><td>' + keyCell(key) + '</td>' +
        '<td><span class="cls">' + esc(S[f[1]]) + (f[2] >= 0 ? ' ' + esc(S[f[2]]) : '') + '</span></td><td class="msg">' + esc(S[f[3]]) + '</td><td>' + f[4] + '</td></tr>';
    }
    var note = F.total === 0 ? 'No failures recorded. ' : (F.rows.length < F.total ? 'Showing the newest ' + fmt(F.rows.length) + ' of ' + fmt(F.total) + ' failed attempts' : fmt(F.total) + ' failed attempts, newest first') + (terms.length ? '; ' + fmt(n) + ' match the search' : '') + '.';
    $('failures').innerHTML = '<div class="note">' + note + ' The full log: <span class="mono">ocrmake failures</span>.</div>' +
      (n ? '<table class="t"><thead><tr><th>time</th><th>key</th><th>class</th><th>message</th><th>attempt</th></tr></thead><tbody>' + body + '</tbody></table>' : '');
  }
  function keyCell(key) {
    var at = locate(key);
    return (at ? '<span title="' + esc(ST[stateOf(at[0], at[1])]) + ' now">' + sw(stateOf(at[0], at[1])) + '</span> ' : '') + '<a class="key">' + esc(key) + '</a>';
  }
  $('failures').addEventListener('click', function (e) {
    var tr = e.target.closest('tr.r');
    if (!tr) return;
    var at = locate(tr.getAttribute('data-key'));
    if (at) select(at[0], at[1], false);
  });
  function showTab(name) {
    $('tab-books').setAttribute('aria-selected', String(name === 'books'));
    $('tab-failures').setAttribute('aria-selected', String(name === 'failures'));
    $('books-view').hidden = name !== 'books';
    $('failures').hidden = name !== 'failures';
    $('books-tools').style.visibility = name === 'books' ? '' : 'hidden';
    if (name === 'failures') { failuresShown = true; renderFailures(); } else layout();
  }
  $('tab-books').addEventListener('click', function () { showTab('books'); });
  $('tab-failures').addEventListener('click', function () { showTab('failures'); });

  // ---- header, legend chips, toolbar ------------------------------------------------------------------------
  // The headline counts what needs attention now; the failure log (history) has its own tab.
  var upToDate = totals[stateIdx.fresh] + totals[stateIdx.edited], bad = 0, parts = [];
  ['stale', 'failed', 'dead', 'blocked', 'missing-input'].forEach(function (s) {
    var n = totals[stateIdx[s]];
    bad += n;
    if (n) parts.push(fmt(n) + ' ' + (s === 'missing-input' ? 'missing input' : s));
  });
  $('h-project').textContent = D.project;
  var by = D.bookWildcards.length ? ' by ' + D.bookWildcards.map(esc).join(' / ') : '';
  $('h-meta').innerHTML = 'engine <b>' + esc(D.engine) + '</b> · <span title="when this report was made">' + esc(when(D.generatedAt)) + '</span> · ' + fmt(NB) + (NB === 1 ? ' book' : ' books') + by;
  $('k-pages').textContent = fmt(nPages);
  $('k-done').textContent = nPages ? (Math.floor(1000 * upToDate / nPages) / 10) + '%' : '–';
  $('k-bad').textContent = fmt(bad);
  $('k-bad-l').textContent = bad ? 'need attention: ' + parts.join(' · ') : 'need attention now';
  $('k-bad').parentNode.title = 'pages that are stale, failed, dead, blocked or missing their input now' + (bad ? ': ' + parts.join(', ') : '');
  if (bad) $('k-bad').parentNode.classList.add('bad');
  $('bar').innerHTML = ST.map(function (s, v) { return totals[v] ? '<span class="st' + v + '" style="width:' + (100 * totals[v] / nPages) + '%" title="' + esc(s + ': ' + fmt(totals[v])) + '"></span>' : ''; }).join('');
  $('chips').innerHTML = ST.map(function (s, v) {
    return '<button class="chip' + (totals[v] ? '' : ' zero') + '" aria-pressed="true" data-v="' + v + '" data-state="' + esc(s) + '" title="' + esc(s + ': ' + (MEANING[s] || '') + ' — click to hide or show; double-click to show only this state') + '">' +
      sw(v) + '<span>' + esc(s) + '</span><span class="cnt">' + fmt(totals[v]) + '</span></button>';
  }).join('');
  function setChips() { document.querySelectorAll('#chips .chip').forEach(function (c) { c.setAttribute('aria-pressed', String(enabled[Number(c.getAttribute('data-v'))])); }); applyFilters(); }
  $('chips').addEventListener('click', function (e) {
    var c = e.target.closest('.chip');
    if (!c) return;
    var v = Number(c.getAttribute('data-v'));
    if (e.detail === 2) { for (var k = 0; k < NS; k++) enabled[k] = k === v; setChips(); return; }
    enabled[v] = !enabled[v];
    setChips();
  });
  $('only-problems').addEventListener('click', function () { for (var k = 0; k < NS; k++) enabled[k] = !!PROBLEM[ST[k]]; setChips(); });
  $('show-all').addEventListener('click', function () { enabled.fill(true); $('q').value = ''; terms = []; setChips(); });
  $('sort').addEventListener('change', function (e) { sortBy = e.target.value; applyFilters(); grid.scrollTop = 0; });
  var searchTimer = 0;
  $('q').addEventListener('input', function (e) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { terms = e.target.value.toLowerCase().split(/\s+/).filter(Boolean); applyFilters(); grid.scrollTop = 0; }, 120);
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== $('q')) { e.preventDefault(); $('q').focus(); return; }
    if (e.key === 'Escape') { if (document.activeElement === $('q')) $('q').blur(); else if (selB >= 0) closePanel(); return; }
    if (selB < 0 || document.activeElement === $('q')) return;
    var B = books[selB];
    if (e.key === 'ArrowRight' && selI + 1 < B.s.length) select(selB, selI + 1, true);
    else if (e.key === 'ArrowLeft' && selI > 0) select(selB, selI - 1, true);
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      var r = rows.indexOf(selB) + (e.key === 'ArrowDown' ? 1 : -1);
      if (r >= 0 && r < rows.length) select(rows[r], Math.min(selI, books[rows[r]].s.length - 1), true);
    } else return;
    e.preventDefault();
  });

  $('tab-count-books').textContent = fmt(NB);
  $('tab-count-failures').textContent = fmt(D.failures.total);
  applyFilters();
  document.documentElement.setAttribute('data-ready', 'true');
  window.__ocrmakeReport = { readyMs: performance.now(), pages: nPages, books: NB, rendered: function () { return canvas.children.length; } };
})();
`;
