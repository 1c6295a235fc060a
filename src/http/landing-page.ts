import type { Middleware } from 'koa';

interface SourceSummary {
  readonly name: string;
  readonly kind: string;
  readonly up: boolean | undefined;
  readonly lastError: string | undefined;
}

export interface LandingPageOptions {
  readonly name: string;
  readonly version: string;
  /** Undefined when metrics are only pushed. */
  readonly telemetryPath: string | undefined;
  readonly sources: () => readonly SourceSummary[];
}

/** The page at `/`: what this is, which version, where the metrics are, and how each source is doing. */
export function landingPage(options: LandingPageOptions): Middleware {
  return (ctx) => {
    ctx.type = 'html';
    ctx.body = render(options);
  };
}

function render({ name, version, telemetryPath, sources }: LandingPageOptions): string {
  const rows = sources()
    .map((s) => {
      const state = s.up === undefined ? 'not collected yet' : s.up ? 'up' : 'down';
      const error = s.lastError ? `<br><small>${escapeHtml(s.lastError)}</small>` : '';
      return `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.kind)}</td><td class="${state.split(' ')[0]}">${state}${error}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .8rem; text-align: left; }
.up { color: #17702b; } .down { color: #b00020; } .not { color: #666; }
</style>
</head>
<body>
<h1>${escapeHtml(name)}</h1>
<p>Version ${escapeHtml(version)}: exposes the numbers a team cares about as Prometheus metrics, built on OpenTelemetry.</p>
<ul>
${telemetryPath ? `<li><a href="${escapeHtml(telemetryPath.slice(1))}">Metrics</a></li>\n` : ''}<li><a href="healthz">Health</a></li>
<li><a href="readyz">Readiness</a></li>
</ul>
<h2>Sources</h2>
<table>
<thead><tr><th>Source</th><th>Kind</th><th>Last collection</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
