import { createHash } from "node:crypto";

/** The console's whole stylesheet, inlined in each page: no build step, no extra request. */
export const STYLES = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1a1f36; --muted:#6b7385; --line:#e3e8ee; --accent:#635bff;
  --ok:#0e7c3a; --ok-bg:#e3f6ea; --warn:#9a5b00; --warn-bg:#fff2d9; --bad:#b3261e; --bad-bg:#fde7e6; --info:#2457c5; --info-bg:#e6eeff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  background:var(--bg); color:var(--ink); }
header { background:var(--ink); color:#fff; padding:14px 28px; display:flex; align-items:center; justify-content:space-between; }
header h1 { font-size:16px; margin:0; font-weight:600; letter-spacing:.2px; }
header h1 a { color:#fff; text-decoration:none; }
header { gap:18px; }
header nav { display:flex; gap:14px; margin-right:auto; }
header nav a { color:#c9cdf7; text-decoration:none; font-weight:550; }
header form.search { display:flex; gap:6px; }
header form.search input { min-width:300px; padding:5px 9px; }
header form button { background:transparent; color:#c9cdf7; border:1px solid #4a4f73; }
main { max-width:1200px; margin:0 auto; padding:24px 28px 48px; }
a { color:var(--accent); }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(130px, 1fr)); gap:12px; margin-bottom:20px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; text-decoration:none; color:inherit; }
.card .n { font-size:24px; font-weight:650; font-variant-numeric:tabular-nums; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px; margin-bottom:20px; overflow-x:auto; }
.panel h2 { font-size:14px; margin:0 0 10px; }
form.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:flex-end; }
label { display:flex; flex-direction:column; gap:4px; font-size:12px; color:var(--muted); }
input, select { font:inherit; padding:7px 9px; border:1px solid var(--line); border-radius:6px; background:#fff; color:var(--ink);
  min-width:150px; }
button { font:inherit; padding:7px 14px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff;
  cursor:pointer; font-weight:550; }
button.secondary { background:#fff; color:var(--accent); }
table { width:100%; border-collapse:collapse; background:var(--card); }
th, td { text-align:left; padding:9px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; text-transform:uppercase; letter-spacing:.5px; color:var(--muted); font-weight:600; background:#fafbfc; }
tr:hover td { background:#fafaff; }
td.mono, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
td.mono { overflow-wrap:anywhere; }
td.err { color:var(--bad); max-width:360px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.badge { display:inline-block; padding:2px 9px; border-radius:999px; font-size:12px; font-weight:600; }
.s-processed { background:var(--ok-bg); color:var(--ok); }
.s-ignored { background:#eef0f3; color:var(--muted); }
.s-received, .s-processing { background:var(--info-bg); color:var(--info); }
.s-failed { background:var(--warn-bg); color:var(--warn); }
.s-dead { background:var(--bad-bg); color:var(--bad); }
.notice { padding:10px 14px; border-radius:8px; margin-bottom:16px; background:var(--ok-bg); color:var(--ok); }
.notice.error { background:var(--bad-bg); color:var(--bad); }
dl { display:grid; grid-template-columns:160px 1fr; gap:6px 16px; margin:0; }
dt { color:var(--muted); }
dd { margin:0; }
pre { background:#0f1324; color:#e6e8f2; padding:14px; border-radius:8px; overflow:auto; max-height:520px; font-size:12.5px; }
pre.error { background:var(--bad-bg); color:var(--bad); white-space:pre-wrap; }
.login { max-width:380px; margin:12vh auto; }
.login form { display:flex; flex-direction:column; gap:12px; }
.muted { color:var(--muted); }
.pager { display:flex; justify-content:space-between; margin-top:12px; }
.empty { padding:28px; text-align:center; color:var(--muted); }
.actions { margin-top:14px; display:flex; gap:10px; align-items:center; }
a.button { display:inline-block; padding:7px 14px; border-radius:6px; border:1px solid var(--accent); color:var(--accent);
  text-decoration:none; font-weight:550; background:#fff; }
.panel table { border:1px solid var(--line); }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit, minmax(340px, 1fr)); gap:20px; }
.grid2 > * { min-width:0; }
.note { padding:10px 14px; border-radius:8px; margin-bottom:16px; background:var(--info-bg); color:var(--info); }
.warn { padding:10px 14px; border-radius:8px; margin-bottom:16px; background:var(--warn-bg); color:var(--warn); }
tr.late td { background:var(--warn-bg); }
tr.current td { font-weight:650; }
.yes { color:var(--ok); font-weight:650; }
.no { color:var(--bad); font-weight:650; }
figure { margin:0; }
figcaption { font-weight:600; margin-bottom:6px; }
svg.chart { width:100%; height:auto; display:block; background:#fff; }
svg.chart text { font-size:11px; fill:var(--muted); }
svg.chart line.grid { stroke:var(--line); }
svg.chart line.axis { stroke:#c4cad4; }
svg.chart polyline { fill:none; stroke-width:2; }
.legend { display:flex; flex-wrap:wrap; gap:14px; margin:6px 0 0; padding:0; list-style:none; font-size:12px; color:var(--muted); }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:middle; }
.c-processed { fill:#2e9d5b; background:#2e9d5b; }
.c-ignored { fill:#aab2bf; background:#aab2bf; }
.c-pending { fill:#5b8def; background:#5b8def; }
.c-failed { fill:#e5a13a; background:#e5a13a; }
.c-dead { fill:#d9534f; background:#d9534f; }
polyline.c-p50, polyline.c-processed { stroke:#2e9d5b; }
polyline.c-p95, polyline.c-failed { stroke:#e5a13a; }
polyline.c-dead { stroke:#d9534f; }
.c-p50 { fill:#2e9d5b; background:#2e9d5b; }
.c-p95 { fill:#e5a13a; background:#e5a13a; }
details summary { cursor:pointer; color:var(--muted); margin-top:8px; }
`;

/**
 * The CSP source that allows exactly this stylesheet as an inline <style> (and no other inline style,
 * `style=` attributes included). Layout renders STYLES unescaped, so the browser hashes these bytes.
 */
export const STYLES_CSP_HASH = `'sha256-${createHash("sha256").update(STYLES).digest("base64")}'`;
