import { isoTimestamp, type SqlDatabase } from './sql';

export interface PromptVersionRecord {
  name: string;
  version: number;
  contentHash: string;
  author: string;
  note: string | null;
  createdAt: string;
}

export interface LabelRecord {
  label: string;
  version: number;
  movedAt: string;
  movedBy: string;
}

export type LabelMoveKind = 'seed' | 'move' | 'rollback';

export interface LabelMove {
  id: number;
  label: string;
  fromVersion: number | null;
  toVersion: number;
  kind: LabelMoveKind;
  actor: string;
  reason: string | null;
  at: string;
}


const versionOf = (row: Record<string, any>): PromptVersionRecord => ({
  name: row.name,
  version: row.version,
  contentHash: row.content_hash,
  author: row.author,
  note: row.note ?? null,
  createdAt: isoTimestamp(row.created_at),
});

const moveOf = (row: Record<string, any>): LabelMove => ({
  id: Number(row.id),
  label: row.label,
  fromVersion: row.from_version ?? null,
  toVersion: row.to_version,
  kind: row.kind,
  actor: row.actor,
  reason: row.reason ?? null,
  at: isoTimestamp(row.at),
});

/** Prompt versions (immutable), labels (movable) and every move of a label. */
export class PromptStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Adds the next version of a prompt; the same content again is the version that has it (`created: false`). */
  async addVersion(name: string, content: string, contentHash: string, author: string, note: string | null): Promise<{ version: PromptVersionRecord; created: boolean }> {
    return this.db.transaction(async (tx) => {
      // Serialises numbering per prompt name: two writers never get the same number.
      await tx.query(`select pg_advisory_xact_lock(hashtext('prompt_versions:' || $1))`, [name]);
      const [existing] = await tx.query<Record<string, any>>('select * from prompt_versions where name = $1 and content_hash = $2', [name, contentHash]);
      if (existing) return { version: versionOf(existing), created: false };
      const [row] = await tx.query<Record<string, any>>(
        `insert into prompt_versions (name, version, content, content_hash, author, note)
         values ($1, (select coalesce(max(version), 0) + 1 from prompt_versions where name = $1), $2, $3, $4, $5) returning *`,
        [name, content, contentHash, author, note],
      );
      return { version: versionOf(row as Record<string, any>), created: true };
    });
  }

  async versions(name: string): Promise<PromptVersionRecord[]> {
    return (await this.db.query<Record<string, any>>('select name, version, content_hash, author, note, created_at from prompt_versions where name = $1 order by version', [name])).map(versionOf);
  }

  async version(name: string, version: number): Promise<(PromptVersionRecord & { content: string }) | null> {
    const [row] = await this.db.query<Record<string, any>>('select * from prompt_versions where name = $1 and version = $2', [name, version]);
    return row ? { ...versionOf(row), content: row.content } : null;
  }

  async names(): Promise<string[]> {
    return (await this.db.query<{ name: string }>('select distinct name from prompt_versions order by name')).map((row) => row.name);
  }

  async labels(name: string): Promise<LabelRecord[]> {
    const rows = await this.db.query<Record<string, any>>('select label, version, moved_at, moved_by from prompt_labels where name = $1 order by label', [name]);
    return rows.map((row) => ({ label: row.label, version: row.version, movedAt: isoTimestamp(row.moved_at), movedBy: row.moved_by }));
  }

  async labelVersion(name: string, label: string): Promise<number | null> {
    const [row] = await this.db.query<{ version: number }>('select version from prompt_labels where name = $1 and label = $2', [name, label]);
    return row?.version ?? null;
  }

  /**
   * Points a label at a version and records the move, in one transaction. `onlyIfAbsent`: a seed,
   * which never moves a label someone has set. Returns null when nothing moved.
   */
  async moveLabel(name: string, label: string, to: number, move: { kind: LabelMoveKind; actor: string; reason: string | null; onlyIfAbsent?: boolean }): Promise<LabelMove | null> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.query<{ version: number }>('select version from prompt_labels where name = $1 and label = $2 for update', [name, label]);
      if (current && move.onlyIfAbsent) return null;
      await tx.query(
        `insert into prompt_labels (name, label, version, moved_by) values ($1, $2, $3, $4)
         on conflict (name, label) do update set version = excluded.version, moved_at = now(), moved_by = excluded.moved_by`,
        [name, label, to, move.actor],
      );
      const [row] = await tx.query<Record<string, any>>(
        'insert into prompt_label_moves (name, label, from_version, to_version, kind, actor, reason) values ($1, $2, $3, $4, $5, $6, $7) returning *',
        [name, label, current?.version ?? null, to, move.kind, move.actor, move.reason],
      );
      return moveOf(row as Record<string, any>);
    });
  }

  /** A label's moves, newest first. */
  async history(name: string, label: string, limit = 100): Promise<LabelMove[]> {
    return (await this.db.query<Record<string, any>>('select * from prompt_label_moves where name = $1 and label = $2 order by id desc limit $3', [name, label, limit])).map(moveOf);
  }
}
