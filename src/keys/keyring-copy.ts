/**
 * A Keyring's copy of what it reads for signing, calling and verifying (src/keys/keyring.ts says
 * what the copy promises): per purpose, the ACTIVE and RETIRING versions of one read, each
 * decrypted once on first use, kept while the read began less than KEYRING_CACHE_TTL ago and no
 * change was made or heard of since. Kept apart from the keyring's own rules (which versions are
 * accepted, how secrets are sealed) because it is only about when to read again.
 */
import type { SecretVersion } from '../generated/prisma/client';
import type { Logger } from '../platform/logger';
import type { KeyPurpose } from '../workflows/vocabulary';
import { KeyringChanges, type ListenState } from './keyring-changes';

/** Time as the keyring reads it; tests move it by hand. */
export interface KeyringClock {
  /** Wall-clock milliseconds since the epoch: when a grace ends. */
  now(): number;
  /** Monotonic milliseconds: a copy's age (a wall clock set back must not keep a copy longer). */
  monotonic(): number;
}
export const systemClock: KeyringClock = { now: () => Date.now(), monotonic: () => performance.now() };

/** A version held in a Keyring's copy, decrypted on first use (a row that does not open fails only its own use). */
export class HeldVersion {
  private opened?: string;
  constructor(
    readonly row: SecretVersion,
    private readonly open: (row: SecretVersion) => string,
  ) {}
  get secret(): string {
    return (this.opened ??= this.open(this.row));
  }
}

/** One purpose's copy: the read that made it (in flight or done), when it began, and under which generation. */
interface Copy {
  generation: number;
  readAt: number;
  versions: Promise<HeldVersion[]>;
}

export class KeyringCopy {
  private readonly copies = new Map<KeyPurpose, Copy>();
  /** Moves on at every change this Keyring makes or hears of: a read begun under an earlier one is not kept. */
  private generation = 0;
  private changes?: KeyringChanges;

  constructor(
    private readonly ttlMs: number,
    private readonly clock: KeyringClock,
  ) {}

  /** Listens at `url` for changes made elsewhere and drops the copy on each (once; close() stops it). */
  listen(url: string, logger: Pick<Logger, 'warn' | 'info'>): void {
    this.changes ??= new KeyringChanges(url, { changed: () => this.forget(), state: () => this.forget() }, logger);
  }

  /** `off` when not listening (a copy lives for the TTL), else the listener's state. */
  get listenState(): ListenState | 'off' {
    return this.changes?.state ?? 'off';
  }

  async close(): Promise<void> {
    await this.changes?.close();
  }

  /** Drops the copy: the next use reads again, and a read in flight now is not kept. */
  forget(): void {
    this.generation += 1;
    this.copies.clear();
  }

  /** Runs a write, then forgets the copy (even when the write failed: it may have committed). */
  async changing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.forget();
    }
  }

  /** `purpose`'s versions: the copy while it is fresh, else `read()` now (kept unless it fails or a change came meanwhile). */
  held(purpose: KeyPurpose, read: () => Promise<HeldVersion[]>): Promise<HeldVersion[]> {
    // A listening Keyring whose connection is down (or not yet up) may have missed a notification: no copy.
    const state = this.listenState;
    if (state === 'connecting' || state === 'lost') return read();
    const now = this.clock.monotonic();
    const copy = this.copies.get(purpose);
    if (copy && copy.generation === this.generation && now - copy.readAt < this.ttlMs) return copy.versions;
    const fresh: Copy = { generation: this.generation, readAt: now, versions: read() };
    this.copies.set(purpose, fresh);
    fresh.versions.catch(() => {
      if (this.copies.get(purpose) === fresh) this.copies.delete(purpose); // a failed read is not kept
    });
    return fresh.versions;
  }
}
