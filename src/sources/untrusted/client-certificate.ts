import { createSecureContext } from 'node:tls';
import { CollectionError } from '../collection-error.ts';
import { readRegularFile } from './bounded-read.ts';

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

// A certificate chain and its key are a few KiB; a larger file is a mistake.
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads `tls.certFile` and `tls.keyFile` at each use, so a certificate renewed on disk (cert-manager, Vault agent)
 * is presented from the next request on, without a restart or reload. A pair that does not belong together, say
 * read between the writes of a rotation, fails that collection (reason `connection`) naming both files.
 */
export function clientCertificateReader(certFile: string, keyFile: string): () => Promise<ClientCertificate> {
  let checked: ClientCertificate | undefined;
  return async () => {
    const [cert, key] = await Promise.all([readPem(certFile, 'tls.certFile'), readPem(keyFile, 'tls.keyFile')]);
    if (checked?.cert === cert && checked.key === key) return checked;
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new CollectionError('connection', `tls.certFile ${certFile} and tls.keyFile ${keyFile}: ${(err as Error).message}`);
    }
    checked = { cert, key };
    return checked;
  };
}

async function readPem(file: string, field: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readRegularFile(file, { maxBytes: MAX_PEM_BYTES, field: 'the limit for certificate files' }));
  } catch (err) {
    // The message names the file already.
    throw new CollectionError('connection', `${field}: ${(err as Error).message}`);
  }
}
