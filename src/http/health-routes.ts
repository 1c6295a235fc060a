import type { Middleware } from 'koa';

/** /healthz: the process answers. Kubelet restarts the pod when it stops answering. */
export const healthz: Middleware = (ctx) => {
  ctx.body = 'ok\n';
};

/** /readyz: config loaded and sources started, and not shutting down. */
export function readyz(isReady: () => boolean): Middleware {
  return (ctx) => {
    const ready = isReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? 'ready\n' : 'not ready\n';
  };
}
