import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests read ahead on one connection and not yet answered; a client past this is not waiting for its answers
 * and the connection is closed (Node keeps parsing pipelined requests while the answers are small, so without a
 * bound one connection could queue requests until memory runs out).
 */
const MAX_WAITING_PER_CONNECTION = 128;

/**
 * Serves a connection's requests one after the other. Node parses pipelined requests ahead and would run them all
 * at once (50 pipelined scrapes took 50 of --web.max-requests' places and 10 got 503; issue 11), while HTTP/1.1
 * answers them in order anyway: running the next one when the previous answer is done costs a client nothing.
 */
export function oneRequestAtATime(listener: RequestListener): RequestListener {
  const queues = new WeakMap<Socket, { last: Promise<void>; waiting: number }>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const queue = queues.get(socket);
    // 'close' comes when the answer is complete or the connection is gone, whichever is first.
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    if (!queue) {
      queues.set(socket, { last: done, waiting: 1 });
      void done.then(() => settle(socket));
      listener(req, res);
      return;
    }
    if (queue.waiting >= MAX_WAITING_PER_CONNECTION) {
      socket.destroy();
      return;
    }
    queue.waiting++;
    const before = queue.last;
    queue.last = done;
    void done.then(() => settle(socket));
    void before.then(() => {
      if (!socket.destroyed) listener(req, res);
    });
  };

  function settle(socket: Socket): void {
    const queue = queues.get(socket);
    if (queue && --queue.waiting === 0) queues.delete(socket);
  }
}
