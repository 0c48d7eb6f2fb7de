/**
 * Whether a file's contacts are all distinct, told from the first 8 bytes of their dedupe hashes:
 * distinct prefixes prove distinct hashes, so a file that passes needs no de-duplication. A repeated
 * prefix only says "maybe": the caller then de-duplicates in PostgreSQL, which is exact. An
 * open-addressing table of 32-bit halves: 16 bytes a row at most, a million rows in 16 MB, where a
 * JavaScript Set of strings would take several times that.
 */
export class DistinctPrefixes {
  private table = new Uint32Array(2 * 1024);
  private size = 0;
  /** False as soon as two rows may share a contact. */
  distinct = true;

  /** Adds pairs of 32-bit halves (high, low), as the stager returns them. */
  addAll(halves: Uint32Array): void {
    for (let index = 0; index + 1 < halves.length && this.distinct; index += 2)
      this.add(halves[index]!, halves[index + 1]!);
  }

  private add(high: number, low: number): void {
    // (0, 0) marks an empty slot; a prefix that is really zero is stored as (0, 1), which can only
    // make two different prefixes look alike (a "maybe"), never hide a repeat.
    if (high === 0 && low === 0) low = 1;
    if ((this.size + 1) * 2 > this.table.length / 2) this.grow();
    if (this.insert(this.table, high, low)) this.size += 1;
    else this.distinct = false;
  }

  /** Inserts into `table`; false when the prefix is already there. */
  private insert(table: Uint32Array, high: number, low: number): boolean {
    const mask = table.length / 2 - 1;
    // The hash is keyed and uniform, so its own bits are the slot.
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const h = table[slot * 2]!;
      const l = table[slot * 2 + 1]!;
      if (h === 0 && l === 0) {
        table[slot * 2] = high;
        table[slot * 2 + 1] = low;
        return true;
      }
      if (h === high && l === low) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    for (let slot = 0; slot < old.length; slot += 2) {
      if (old[slot] !== 0 || old[slot + 1] !== 0) this.insert(this.table, old[slot]!, old[slot + 1]!);
    }
  }
}
