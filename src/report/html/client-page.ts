// The report page's script, continued: a clicked page's scan beside its output. Spliced into CLIENT_JS
// (client.ts) in its scope: it uses that script's D (the data), S (its strings), esc and fmt. A page's
// details are embedded for some pages (a thumbnail as a data URL, the output's text, in the
// `ocrmake-pages` element, parsed on the first click) and linked for the others (media.ts decides).
// Plain ES2020 with no template literals, as client.ts.
export const CLIENT_PAGE_JS = String.raw`
  // ---- the page itself: its scan beside its output (embedded for some pages, linked for the others) ----------
  var MEDIA = null, SHOWABLE = /\.(png|jpe?g|gif|webp|avif|bmp)$/i;
  function mediaOf(key) {
    if (!MEDIA) MEDIA = JSON.parse(document.getElementById('ocrmake-pages').textContent);
    return MEDIA[key] || null;
  }
  /** A project file as seen from the report's folder. */
  function href(rel) { return D.base + rel.split('/').map(encodeURIComponent).join('/'); }
  function pageHtml(key, img, out, x) {
    var m = mediaOf(key), linked = img && SHOWABLE.test(img);
    var cmp = D.media.variant && m;
    var h = '<div class="sec page' + (cmp ? ' cmp' : '') + '" id="d-page"><div class="scan" id="d-scan">';
    if (m && m.t) h += '<img id="d-thumb" alt="the scan of this page (thumbnail)" src="' + esc(m.t) + '">';
    else if (linked) h += '<img id="d-thumb" alt="the scan of this page" loading="lazy" src="' + esc(href(img)) + '">';
    else h += '<div class="noimg">' + esc(m && m.n ? m.n : img ? 'no preview for this type of image' : 'no image for this page') + '</div>';
    if (img) h += '<div class="cap">' + (m && m.t ? 'thumbnail' : 'the image file') + (linked ? ' · <a href="' + esc(href(img)) + '" target="_blank" rel="noopener">open the scan</a>' : '') + '</div>';
    h += '</div><div class="out"><div class="oh"><h3>Output</h3><span class="seg"><button class="sb" data-view="text" aria-pressed="true">Text</button>' +
      '<button class="sb" data-view="json" aria-pressed="false">JSON</button></span></div>';
    if (m && m.o !== undefined) h += shown(m.o, 'd-text', 'd-json');
    else {
      // Embedded details without an output: there is no output file. Otherwise the reasons may say so.
      var none = m || (x.r && x.r.some(function (r) { return S[r[0]] === 'new' || S[r[0]] === 'output-missing'; }));
      var note = none || !out ? 'No output yet.' :
        'Not embedded in this report (it embeds the details of ' + fmt(D.media.embedded) + ' pages; <span class="mono">ocrmake report --thumbnails N</span> embeds more): <a href="' + esc(href(out)) + '" target="_blank" rel="noopener">open the output file</a>.';
      h += '<div class="otext muted" id="d-text">' + note + '</div><pre class="ojson" id="d-json" hidden></pre>';
    }
    h += '</div>';
    // ocrmake report --variant NAME: that variant's output of the page beside the page's own.
    if (cmp) {
      h += '<div class="out var" id="d-variant"><div class="oh"><h3>' + esc(D.media.variant) + '</h3></div>';
      h += m.v !== undefined ? shown(m.v, 'd-vtext', 'd-vjson') :
        '<div class="otext muted" id="d-vtext">' + esc(D.media.variant) + ' was not tried on this page (<span class="mono">ocrmake try ' + esc(D.media.variant) + ' &lt;page&gt;</span> tries it).</div><pre class="ojson" id="d-vjson" hidden></pre>';
      h += '</div>';
    }
    return h + '</div>';
  }
  /** An output as readable text, and as JSON (hidden until asked for). */
  function shown(raw, textId, jsonId) {
    var value;
    try { value = JSON.parse(raw); } catch (e) { value = undefined; }
    return '<div class="otext" id="' + textId + '">' + (value === undefined ? '<pre class="raw">' + esc(raw) + '</pre>' : outline(value)) + '</div>' +
      '<pre class="ojson" id="' + jsonId + '" hidden>' + esc(value === undefined ? raw : JSON.stringify(value, null, 2)) + '</pre>';
  }
  function scalar(v) { return v === null || typeof v !== 'object'; }
  function label(k) { return esc(String(k).replace(/_/g, ' ')); }
  var PROSE = /text|description|content|body|transcri|note|summary|comment/i;
  /** Any JSON as something to read: short fields on one line, text as paragraphs, nested parts indented. */
  function outline(v) {
    if (v === null || v === undefined) return '<span class="muted">–</span>';
    if (typeof v !== 'object') return '<span class="sv">' + esc(String(v)) + '</span>';
    if (Array.isArray(v)) {
      if (!v.length) return '<span class="muted">none</span>';
      if (v.every(scalar)) return '<span class="sv">' + v.map(function (y) { return esc(String(y)); }).join(', ') + '</span>';
      return '<ol class="ol">' + v.map(function (y) { return '<li>' + outline(y) + '</li>'; }).join('') + '</ol>';
    }
    var meta = '', prose = '', nested = '';
    Object.keys(v).forEach(function (k) {
      var y = v[k];
      if (typeof y === 'string' && (PROSE.test(k) || y.length > 60 || y.indexOf('\n') >= 0)) prose += '<div class="prose"><div class="pl">' + label(k) + '</div><div class="pt">' + esc(y) + '</div></div>';
      else if (scalar(y) || (Array.isArray(y) && y.every(scalar))) meta += '<span class="mi"><b>' + label(k) + '</b> ' + outline(y) + '</span>';
      else nested += '<details open><summary>' + label(k) + (Array.isArray(y) ? ' <span class="muted">' + y.length + '</span>' : '') + '</summary>' + outline(y) + '</details>';
    });
    return (meta ? '<div class="meta">' + meta + '</div>' : '') + prose + nested;
  }

`;
