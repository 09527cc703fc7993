// The report as one self-contained HTML file: inline CSS and script, the data as a JSON script element, and
// a content security policy that forbids loading anything, so the page works offline and leaks nothing.
import { STATES } from '../../plan/types.js';
import { LOOK } from '../palette.js';
import { CLIENT_JS } from './client.js';
import type { ReportData } from './data.js';
import type { PageMedia } from './media.js';
import { reportCss } from './style.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that is safe inside a script element: no `</script>`, no `<!--`, no JS line terminators. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** A search example from the collection itself: the first book's outer and inner wildcard values. */
function searchHint(data: ReportData): string {
  const parts = data.books[0]?.id.split(':') ?? [];
  if (parts.length === 0) return 'Search keys';
  return `Search keys, e.g. ${parts.length > 1 ? `${parts[0]} ${parts.at(-1)}` : parts[0]}`;
}

const SEARCH_ICON =
  '<svg viewBox="0 0 16 16" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true"><circle cx="7" cy="7" r="5"/><path d="m11 11 3.5 3.5"/></svg>';

/**
 * `pages` holds the embedded details (thumbnails, outputs) by key, in an element of its own: the page parses
 * it only when a page is first opened, so a large one does not delay the first paint.
 */
export function renderReportHtml(data: ReportData, pages: Record<string, PageMedia> = {}): string {
  const meaning = Object.fromEntries(STATES.map((s) => [s, LOOK[s].meaning]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data: 'self' file:">
<meta name="generator" content="ocrmake report">
<title>${escapeHtml(data.project)} · ocrmake report</title>
<style>${reportCss()}</style>
</head>
<body>
<header class="top">
  <div class="brand"><div class="logo" aria-hidden="true">${'<i></i>'.repeat(9)}</div>
    <div class="title"><h1><span id="h-project"></span><small>ocrmake report</small></h1><div class="meta" id="h-meta"></div></div></div>
  <label class="search">${SEARCH_ICON}<input id="q" type="search" placeholder="${escapeHtml(searchHint(data))}" autocomplete="off" spellcheck="false" aria-label="Search keys"><kbd>/</kbd></label>
  <div class="kpis">
    <div class="kpi"><div class="n" id="k-pages"></div><div class="l">pages</div></div>
    <div class="kpi"><div class="n" id="k-done"></div><div class="l">up to date</div></div>
    <div class="kpi wide"><div class="n" id="k-bad"></div><div class="l" id="k-bad-l">need attention now</div></div>
  </div>
</header>
<div class="bar" id="bar" aria-hidden="true"></div>
<nav class="toolbar">
  <div class="chips" id="chips" role="group" aria-label="Show pages by state (legend)"></div>
  <div class="tb-right">
    <button class="btn" id="only-problems" title="show failed, dead, blocked and missing-input pages only">Problems only</button>
    <button class="btn" id="show-all" title="clear the search and show every state">Show all</button>
  </div>
</nav>
<main>
  <section class="card view">
    <div class="tabs" role="tablist">
      <button class="tab" id="tab-books" role="tab" aria-selected="true">Books<span class="cnt" id="tab-count-books"></span></button>
      <button class="tab" id="tab-failures" role="tab" aria-selected="false" title="every failed attempt recorded, also of pages built since">Failure log<span class="cnt" id="tab-count-failures"></span></button>
      <span class="hint" id="books-tools"><span><span id="shown"></span> · click a page for details</span>
        <select class="btn sm" id="sort" aria-label="Sort books"><option value="key">Key order</option><option value="problems">Most problems first</option></select></span>
    </div>
    <div id="books-view" style="flex:0 1 auto;display:flex;flex-direction:column;min-height:0">
      <div id="grid" aria-label="Pages by book"><div id="canvas"></div><div class="empty" id="empty" hidden>No page matches the filters.</div></div>
    </div>
    <div id="failures" hidden></div>
  </section>
  <aside class="card" id="panel" hidden aria-label="Page details"></aside>
</main>
<div id="tip" role="tooltip"></div>
<noscript><p style="padding:20px">This report needs JavaScript to show its pages.</p></noscript>
<script type="application/json" id="ocrmake-meaning">${scriptJson(meaning)}</script>
<script type="application/json" id="ocrmake-data">${scriptJson(data)}</script>
<script type="application/json" id="ocrmake-pages">${scriptJson(pages)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
