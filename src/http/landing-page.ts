import type { Middleware } from 'koa';

interface SourceSummary {
  readonly name: string;
  readonly kind: string;
  readonly up: boolean | undefined;
  readonly lastError: string | undefined;
}

/** A probe module as the page shows it: its allowlist in words (none: it refuses every target) and recent probes. */
interface ModuleSummary {
  readonly name: string;
  readonly allows: readonly string[];
  readonly recent: readonly {
    readonly target: string;
    readonly outcome: 'success' | 'failure' | 'refused';
    readonly durationSeconds: number;
    readonly time: Date;
    readonly error: string | undefined;
  }[];
}

export interface LandingPageOptions {
  readonly name: string;
  readonly version: string;
  /** Undefined when metrics are only pushed. */
  readonly telemetryPath: string | undefined;
  readonly sources: () => readonly SourceSummary[];
  /** The probe modules; absent or empty: no section. */
  readonly modules?: () => readonly ModuleSummary[];
}

/** The page at `/`: what this is, which version, where the metrics are, and how each source is doing. */
export function landingPage(options: LandingPageOptions): Middleware {
  return (ctx) => {
    ctx.type = 'html';
    ctx.body = render(options);
  };
}

function render({ name, version, telemetryPath, sources, modules }: LandingPageOptions): string {
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
.up, .success { color: #17702b; } .down, .failure, .refused { color: #b00020; } .not { color: #666; }
td { overflow-wrap: anywhere; } table { max-width: 100%; }
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
${modules ? renderModules(modules()) : ''}</body>
</html>
`;
}

// Like blackbox_exporter's "Recent Probes": each module with what it may reach and how its last probes went.
function renderModules(modules: readonly ModuleSummary[]): string {
  if (modules.length === 0) return '';
  const sections = modules.map((m) => {
    const allows = m.allows.length
      ? m.allows.map((a) => `<li>${escapeHtml(a)}</li>`).join('')
      : '<li>refuses every target (no allow:)</li>';
    const rows = m.recent
      .map(
        (p) =>
          `<tr><td>${escapeHtml(p.target)}</td><td class="${p.outcome}">${p.outcome}</td><td>${p.durationSeconds.toFixed(3)} s</td>` +
          `<td>${p.time.toISOString()}</td><td>${escapeHtml(p.error ?? '')}</td></tr>`,
      )
      .join('\n');
    const recent = m.recent.length
      ? `<table>\n<thead><tr><th>Target</th><th>Result</th><th>Duration</th><th>Time</th><th>Last error</th></tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>`
      : '<p>No probes yet.</p>';
    return `<h3>${escapeHtml(m.name)}</h3>\n<ul class="allow">${allows}</ul>\n${recent}\n`;
  });
  return `<h2>Probe modules</h2>\n<p>Recent probes, newest first (GET <code>probe?module=&amp;target=</code>).</p>\n${sections.join('')}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
