import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

/**
 * Entities a retain may name without looking them up, by bank and canonical name: most names a
 * bank is told about it has been told before, and looking a write's names up was a statement of
 * its own in every retain (about 2 ms of one of a hundred memories on PostgreSQL).
 *
 * What is remembered is never trusted: the upsert that counts an entity after the memories'
 * insert (`linkNewMemories`), keyed by bank and canonical name, returns the entity's id as the
 * database has it, and an id remembered from before a deletion (another instance reclaimed the
 * entity, the bank was emptied or deleted, a write rolled back) is replaced in the new rows there.
 * A wrong entry therefore costs one statement of one write, and is corrected by it. Entries are
 * per process and per module, bounded, least recently used first out, and only ever ids a
 * committed write read or created (`rememberOnCommit` in entities.queries.ts).
 */
@Injectable()
export class KnownEntityIds {
  /** About 200 bytes each (two strings and a UUID): 50,000 are a few megabytes. */
  static readonly MAX_ENTRIES = 50_000;

  private readonly ids = new LRUCache<string, string>({ max: KnownEntityIds.MAX_ENTRIES });

  get(bankId: string, canonical: string): string | undefined {
    return this.ids.get(KnownEntityIds.key(bankId, canonical));
  }

  remember(bankId: string, canonical: string, id: string): void {
    this.ids.set(KnownEntityIds.key(bankId, canonical), id);
  }

  /** A deleted bank's names, so that a bank created again under its id starts with none. */
  forgetBank(bankId: string): void {
    const prefix = KnownEntityIds.key(bankId, '');
    for (const key of [...this.ids.keys()]) if (key.startsWith(prefix)) this.ids.delete(key);
  }

  /** A bank id may hold any character but NUL, which PostgreSQL's text cannot store. */
  private static key(bankId: string, canonical: string): string {
    return `${bankId}\u0000${canonical}`;
  }
}
