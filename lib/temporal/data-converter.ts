import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmPayloadCodec, newPayloadKeyEntry, parsePayloadKeys } from './payload-codec';

export interface PayloadProtection {
  /** Given to every Temporal client and worker of the process. */
  dataConverter: DataConverter;
  /** The codec alone (null when encryption is off): the codec server and tests decode with it. */
  codec: AesGcmPayloadCodec | null;
}

/**
 * Payload encryption from configuration. Keys come from PAYLOAD_KEYS or, for a zero-setup
 * deployment, from DATA_DIR/payload-keys, generated once and readable only by its user (an
 * operator rotates by adding a line on top). Processes that share a Temporal namespace must share
 * the keys; split deployments set PAYLOAD_KEYS.
 */
export function payloadProtection(config: Pick<Config, 'PAYLOAD_ENCRYPTION' | 'PAYLOAD_KEYS' | 'DATA_DIR'>): PayloadProtection {
  if (config.PAYLOAD_ENCRYPTION === 'off') return { dataConverter: {}, codec: null };
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(config.PAYLOAD_KEYS ?? keyFile(config.DATA_DIR)));
  return { dataConverter: { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') }, codec };
}

function keyFile(dataDir: string): string {
  const file = join(dataDir, 'payload-keys');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // API and worker processes may start together on one DATA_DIR: the key appears whole, once
    // (written aside, then linked into place; the loser of the race reads the winner's).
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, `${newPayloadKeyEntry(`k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`)}\n`, { mode: 0o600 });
    chmodSync(draft, 0o600);
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  return readFileSync(file, 'utf8');
}
