import { z } from 'zod';
import { readableFile } from './config-path.ts';
import type { secretSchema } from './secret.ts';
import { parseNoProxy } from './untrusted/no-proxy.ts';
import { proxyRoute } from './untrusted/proxy.ts';

// The http source's client options beside url, method and auth: Prometheus' http_client_config, in this config's
// words. Cross-field rules live on the nested objects, so check-config reports them with their field.

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** `tls`: how the target's certificate is checked, and the client certificate presented to it (mTLS). */
export function clientTlsSchema(configDir: string) {
  return z
    .strictObject({
      caFile: readableFile(configDir).optional(),
      insecureSkipVerify: z.boolean().default(false),
      certFile: readableFile(configDir).optional(),
      keyFile: readableFile(configDir).optional(),
    })
    .superRefine((tls, ctx) => {
      if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
        ctx.addIssue({ code: 'custom', message: 'give both certFile and keyFile, or neither' });
    })
    .default({ insecureSkipVerify: false });
}

/** `proxy`: Prometheus' proxy_url, no_proxy and proxy_from_environment. */
export const proxySchema = z
  .strictObject({
    url: z.url({ protocol: /^http$/, error: 'must be an http:// URL' }).optional(),
    noProxy: z
      .string()
      .superRefine((list, ctx) => {
        try {
          parseNoProxy(list);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      })
      .optional(),
    fromEnvironment: z.boolean().default(false),
  })
  .superRefine((proxy, ctx) => {
    if (proxy.fromEnvironment && (proxy.url !== undefined || proxy.noProxy !== undefined))
      ctx.addIssue({ code: 'custom', message: 'give either url (and noProxy) or fromEnvironment (which reads NO_PROXY)' });
    else if (!proxy.fromEnvironment && proxy.url === undefined)
      ctx.addIssue({ code: 'custom', message: 'give url, or fromEnvironment: true' });
    else if (proxy.fromEnvironment) {
      // HTTP_PROXY and the like are read when the config is loaded: check-config, start and reload agree.
      try {
        proxyRoute(proxy);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: (err as Error).message.replace(/^proxy\.fromEnvironment: /, ''),
          path: ['fromEnvironment'],
        });
      }
    }
  });

/** `auth.oauth2`: the client credentials grant. */
export function oauth2Schema(secret: ReturnType<typeof secretSchema>) {
  return z.strictObject({
    clientId: z.string().min(1),
    clientSecret: secret,
    tokenUrl: httpUrl,
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope is printable ASCII without spaces, " or \\')).default([]),
    endpointParams: z.record(z.string(), z.string()).default({}),
  });
}
