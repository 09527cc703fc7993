// The report's stylesheet. State looks come from the shared palette, so cells, legend chips, the DOT and
// the Mermaid output agree. System fonts only: the page loads nothing.
import { STATES, type State } from '../../plan/types.js';
import { LOOK } from '../palette.js';

/** Background of a cell (and legend swatch) of `state`: the colour plus its non-colour mark. */
function cellBackground(s: State): string {
  const l = LOOK[s];
  switch (l.mark) {
    case 'corner':
      return `background:linear-gradient(225deg,${l.text} 0 28%,${l.fill} 28%)`;
    case 'outline':
      return `background:${l.fill};box-shadow:inset 0 0 0 1.2px ${l.stroke}`;
    case 'dot':
      return `background:radial-gradient(circle,#fff 0 2px,${l.fill} 2.6px)`;
    case 'hatch':
      return `background:repeating-linear-gradient(135deg,${l.fill} 0 2.2px,#f7e3ee 2.2px 4px);box-shadow:inset 0 0 0 1px ${l.stroke}`;
    case 'letter':
    case 'none':
      return `background:${l.fill}`;
  }
}

function stateRules(): string {
  return STATES.map((s, i) => {
    const l = LOOK[s];
    const letter = l.mark === 'letter' ? `.s${i}::after{content:"${l.letter}";color:${l.text}}` : '';
    return `.s${i}{${cellBackground(s)}}${letter}.st${i}{--st:${l.fill};--st-ink:${l.text}}`;
  }).join('\n');
}

export function reportCss(): string {
  return `
:root{--bg:#f4f5f7;--card:#fff;--ink:#111827;--ink2:#374151;--muted:#6b7280;--faint:#9ca3af;--line:#e5e7eb;--line2:#eef0f3;
--accent:#2563eb;--bad:#b42318;--bad-bg:#fef3f2;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans","DejaVu Sans",Arial,sans-serif;
--cell:13px;--gap:2px;--lbl:300px}
*{box-sizing:border-box}
[hidden]{display:none!important}
html,body{margin:0;height:100%}
body{font:13px/1.45 var(--sans);color:var(--ink);background:var(--bg);display:flex;flex-direction:column;overflow:hidden;-webkit-font-smoothing:antialiased}
button,input,select{font:inherit;color:inherit}
.mono{font-family:var(--mono);font-size:12px}
header.top{display:flex;align-items:center;gap:20px;flex-wrap:wrap;padding:14px 22px;background:var(--card);border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:center;gap:12px;min-width:0;flex:1 1 240px}
.logo{width:34px;height:34px;border-radius:8px;background:#111827;display:grid;grid-template-columns:repeat(3,7px);gap:2px;place-content:center;flex:none}
.logo i{width:7px;height:7px;border-radius:1.5px;background:#009E73}.logo i:nth-child(5){background:#E69F00}.logo i:nth-child(9){background:#D55E00}.logo i:nth-child(3){background:#56B4E9}
.title{min-width:0}
.title h1{margin:0;font-size:17px;font-weight:650;letter-spacing:-.01em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.title h1 small{font-weight:500;color:var(--muted);font-size:13px;margin-left:8px}
.meta{color:var(--muted);font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.meta b{color:var(--ink2);font-weight:600}
.kpis{display:flex;gap:8px}
.kpi{padding:6px 14px;border:1px solid var(--line);border-radius:10px;min-width:92px;background:#fafbfc}
.kpi .n{font-size:18px;font-weight:650;font-variant-numeric:tabular-nums;letter-spacing:-.02em}
.kpi .l{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.kpi.bad .n{color:var(--bad)}
.kpi.wide{min-width:150px;max-width:300px}
.kpi.wide .l{text-transform:none;letter-spacing:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bar{display:flex;height:6px;background:var(--line2)}
.bar span{display:block;height:100%;background:var(--st)}
.toolbar{display:flex;align-items:center;gap:10px;padding:10px 22px;background:var(--card);border-bottom:1px solid var(--line);flex-wrap:wrap}
.search{position:relative;flex:1 1 200px;max-width:320px;min-width:160px}
.search kbd{position:absolute;right:8px;top:8px}
.search input{width:100%;height:34px;padding:0 30px 0 30px;border:1px solid var(--line);border-radius:8px;background:#fafbfc;outline:none}
.search input:focus{border-color:var(--accent);box-shadow:0 0 0 3px #2563eb22;background:#fff}
.search svg{position:absolute;left:10px;top:10px;width:14px;height:14px;color:var(--faint)}
.chips{display:flex;gap:5px;flex-wrap:wrap}
.chip{display:inline-flex;align-items:center;gap:6px;height:28px;padding:0 9px 0 7px;font-size:12.5px;border:1px solid var(--line);border-radius:999px;background:#fff;cursor:pointer;user-select:none;white-space:nowrap}
.chip:hover{border-color:#cbd0d8}
.chip[aria-pressed=false]{background:#f3f4f6;color:var(--faint)}
.chip[aria-pressed=false] .sw{opacity:.3}
.chip[aria-pressed=false] .cnt{color:var(--faint)}
.chip .cnt{font-variant-numeric:tabular-nums;color:var(--muted);font-size:12px}
.chip.zero{opacity:.55}
.sw{width:13px;height:13px;border-radius:3px;position:relative;display:inline-block;flex:none;font:700 9px/13px var(--mono);text-align:center}
.sw::after{position:absolute;inset:0}
.tb-right{margin-left:auto;display:flex;gap:6px;align-items:center}
.btn{height:30px;padding:0 11px;border:1px solid var(--line);border-radius:8px;background:#fff;cursor:pointer;white-space:nowrap}
.btn:hover{border-color:#cbd0d8;background:#fafbfc}
select.btn{padding-right:6px}
main{flex:1;display:flex;gap:14px;padding:14px 22px 18px;min-height:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;box-shadow:0 1px 2px #1018280d}
.view{flex:1;display:flex;flex-direction:column;min-width:0;overflow:hidden;align-self:flex-start;max-height:100%}
.tabs{display:flex;align-items:center;gap:2px;padding:6px 10px 0;border-bottom:1px solid var(--line)}
.tab{border:0;background:none;padding:8px 12px 9px;cursor:pointer;color:var(--muted);font-weight:550;border-bottom:2px solid transparent;margin-bottom:-1px}
.tab[aria-selected=true]{color:var(--ink);border-bottom-color:var(--ink)}
.tab .cnt{font-weight:500;color:var(--faint);margin-left:4px;font-variant-numeric:tabular-nums}
.tabs .hint{margin-left:auto;color:var(--faint);font-size:12px;display:flex;align-items:center;gap:12px;padding-bottom:5px}
.btn.sm{height:26px;font-size:12px;color:var(--ink2)}
#grid{flex:0 1 auto;overflow:auto;position:relative;min-height:0;contain:strict}
#canvas{position:relative}
.row{position:absolute;left:0;right:0;display:flex;border-bottom:1px solid var(--line2)}
.row:hover{background:#fafbfd}
.lbl{width:var(--lbl);flex:none;display:flex;align-items:flex-start;gap:8px;padding:7px 12px 0 16px;min-width:0}
.nm{flex:1;min-width:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:var(--ink2)}
.nm b{font-weight:600;color:var(--ink)}
.nm .sep{color:#c4c9d1;margin:0 5px}
.ct{color:var(--faint);font-size:11.5px;font-variant-numeric:tabular-nums}
.pb{font-size:11px;font-weight:600;color:var(--bad);background:var(--bad-bg);border-radius:999px;padding:0 6px;line-height:17px}
.cells{flex:1;display:flex;flex-wrap:wrap;gap:var(--gap);align-content:flex-start;padding:8px 14px 0 0;min-width:0}
.c{width:var(--cell);height:var(--cell);border-radius:2.5px;display:block;position:relative;cursor:pointer;font:700 9px/13px var(--mono);text-align:center;font-style:normal}
.c::after{position:absolute;inset:0}
.c:hover{transform:scale(1.45);z-index:3;box-shadow:0 1px 4px #0006}
.c.g{opacity:.13}
.c.brk{margin-left:4px}
.c.sel{outline:2px solid var(--ink);outline-offset:1.5px;z-index:2}
.empty{padding:60px 20px;text-align:center;color:var(--muted)}
#panel{width:clamp(320px,34vw,420px);flex:none;overflow:auto;display:flex;flex-direction:column;align-self:flex-start;max-height:100%}
#panel[hidden]{display:none}
#panel.wide{width:clamp(540px,52vw,1100px)}
.page{display:grid;grid-template-columns:minmax(0,42%) minmax(0,1fr);gap:16px;align-items:start}
.scan img{display:block;width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff;box-shadow:0 1px 3px #1018281a}
.scan .cap{font-size:11.5px;color:var(--muted);margin-top:6px}
.scan .cap a,.otext a{color:var(--accent)}
.noimg{display:grid;place-items:center;aspect-ratio:3/4;border:1px dashed var(--line);border-radius:6px;color:var(--muted);text-align:center;padding:12px}
.out{min-width:0}
.page.cmp{grid-template-columns:minmax(0,28%) minmax(0,1fr) minmax(0,1fr)}
.page.cmp .out.var .oh h3::after{content:' (variant)';font-weight:400;color:var(--muted)}
.oh{display:flex;align-items:center;gap:8px;margin-bottom:6px}
.oh h3{margin:0;flex:1}
.seg{display:inline-flex;border:1px solid var(--line);border-radius:7px;overflow:hidden}
.sb{border:0;background:#fff;padding:2px 10px;font-size:12px;cursor:pointer;color:var(--muted)}
.sb[aria-pressed=true]{background:var(--ink);color:#fff}
.otext,.ojson{max-height:72vh;overflow:auto;border:1px solid var(--line2);border-radius:8px;padding:10px 12px;background:#fcfcfd}
.ojson{margin:0;font:12px/1.45 var(--mono);white-space:pre-wrap;overflow-wrap:anywhere}
.otext{font-size:13px}
.otext .meta{display:flex;flex-wrap:wrap;gap:2px 12px;margin:2px 0 6px;color:var(--ink2)}
.otext .mi b{font-weight:600;color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.03em;margin-right:3px}
.otext .prose{margin:4px 0 10px}
.otext .pl{font-size:11px;color:var(--faint);text-transform:uppercase;letter-spacing:.04em}
.otext .pt{font:14px/1.55 Georgia,"DejaVu Serif","Liberation Serif",serif;white-space:pre-wrap;overflow-wrap:anywhere;color:var(--ink)}
.otext details{margin:6px 0 4px}
.otext summary{cursor:pointer;font-weight:600;color:var(--ink2);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.otext ol.ol{margin:4px 0 4px;padding-left:22px}
.otext ol.ol>li{margin:2px 0 8px}
.otext pre.raw{margin:0;white-space:pre-wrap;font:12px var(--mono)}
.ph{display:flex;align-items:flex-start;gap:10px;padding:16px 16px 12px;border-bottom:1px solid var(--line)}
.ph .k{flex:1;font:600 13px/1.4 var(--mono);word-break:break-word}
.x{border:0;background:none;cursor:pointer;color:var(--muted);font-size:18px;line-height:1;padding:2px 4px;border-radius:6px}
.x:hover{background:var(--line2);color:var(--ink)}
.pill{display:inline-flex;align-items:center;gap:6px;padding:1px 9px 1px 6px;border-radius:999px;font-size:12px;font-weight:600;background:color-mix(in srgb,var(--st) 16%,#fff);color:var(--ink);border:1px solid color-mix(in srgb,var(--st) 45%,#fff);white-space:nowrap}
.pill .sw{width:11px;height:11px;font-size:8px;line-height:11px}
.sec{padding:12px 16px;border-bottom:1px solid var(--line2)}
.sec h3{margin:0 0 8px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600}
.why{color:var(--ink2)}
dl.kv{display:grid;grid-template-columns:92px 1fr;gap:6px 10px;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;min-width:0;overflow-wrap:anywhere}
.foot{padding:10px 16px;color:var(--faint);font-size:11.5px;margin-top:auto}
table.t{width:100%;border-collapse:collapse}
table.t th{text-align:left;font-weight:600;color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.04em;padding:6px 8px;border-bottom:1px solid var(--line);position:sticky;top:0;background:#fff;z-index:1}
table.t td{padding:6px 8px;border-bottom:1px solid var(--line2);vertical-align:top}
table.t.rs td{padding:4px 6px}
.code{font:600 12px var(--mono)}
.chg{color:var(--bad)}
.arrow{color:var(--faint);margin:0 4px}
a.key{color:var(--accent);text-decoration:none;cursor:pointer;font-family:var(--mono);font-size:12px;overflow-wrap:anywhere}
a.key:hover{text-decoration:underline}
.err{background:var(--bad-bg);border:1px solid #fecdca;border-radius:8px;padding:8px 10px;color:#7a271a}
.err .cl{font:600 12px var(--mono);color:var(--bad)}
.cmd{display:flex;align-items:center;gap:8px;background:#111827;color:#e5e7eb;border-radius:8px;padding:8px 10px;font:12px var(--mono);word-break:break-all}
.cmd span{flex:1}
.cmd button{border:1px solid #374151;background:#1f2937;color:#e5e7eb;border-radius:6px;font-size:11px;padding:2px 8px;cursor:pointer}
.muted{color:var(--muted)}
#failures{flex:0 1 auto;overflow:auto;min-height:0}
#failures tr.r{cursor:pointer}
#failures tr.r:hover td{background:#fafbfd}
.cls{display:inline-block;font:600 11.5px var(--mono);color:var(--bad);background:var(--bad-bg);border-radius:6px;padding:0 6px;white-space:nowrap}
.msg{color:var(--ink2);max-width:560px;word-break:break-word}
.when{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.note{padding:8px 12px;color:var(--muted);font-size:12px}
#tip{position:fixed;z-index:10;pointer-events:none;background:#111827;color:#f9fafb;border-radius:8px;padding:7px 10px;font-size:12px;box-shadow:0 6px 20px #0004;max-width:420px;display:none}
#tip .k{font:600 12px var(--mono);word-break:break-all}
#tip .s{display:flex;align-items:center;gap:6px;margin-top:3px;color:#d1d5db}
#tip .sw{width:11px;height:11px;font-size:8px;line-height:11px}
kbd{font:11px var(--mono);border:1px solid var(--line);border-bottom-width:2px;border-radius:4px;padding:0 4px;background:#fff;color:var(--muted)}
${stateRules()}
@media (max-width:1180px){.kpi{min-width:0;padding:5px 10px}.kpi .n{font-size:16px}.tabs .hint>span{display:none}main,header.top,.toolbar{padding-left:14px;padding-right:14px}}
`;
}
