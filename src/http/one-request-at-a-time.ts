import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Serves a connection's requests one after the other. Node parses pipelined requests ahead and would run them all
 * at once (50 pipelined scrapes took 50 of --web.max-requests' places and 10 got 503; issue 11), while HTTP/1.1
 * answers them in order anyway: running the next one when the previous answer is done costs a client nothing.
 */
export function oneRequestAtATime(listener: RequestListener): RequestListener {
  const previous = new WeakMap<Socket, Promise<void>>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const before = previous.get(req.socket);
    // 'close' comes when the answer is complete or the connection is gone, whichever is first.
    previous.set(req.socket, new Promise<void>((resolve) => res.once('close', resolve)));
    if (before) void before.then(() => listener(req, res));
    else listener(req, res);
  };
}
