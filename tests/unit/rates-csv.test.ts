import { ZRatesPatch } from '@/lib/shared/schemas/rates';
import { ZMarkupRule, ZOverride } from '@/lib/shared/schemas/cards';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CSV_MAX_RECORD_CHARS,
  csvRecordBatches,
  csvRecords,
  parseRatesCsv,
  ratesToCsv,
  type TCsvRecord,
} from '@/lib/server/services/rates/rates-csv';
import { csvCell } from '@/lib/server/services/csv';

/** A CSV arriving in awkward pieces, as a request body streams. */
async function* streamed(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

describe('reading CSV records', () => {
  it('keeps quoted commas, doubled quotes and line breaks, and numbers lines from 1', async () => {
    const records = [];
    for await (const record of csvRecords(streamed('a,b\r\n"x, y","say ""hi""\nthere"\n3,4')))
      records.push(record);
    expect(records).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"\nthere'] },
      { line: 4, cells: ['3', '4'] },
    ]);
  });
  it('splits any text exactly as a character-by-character reader does, however it is chunked', async () => {
    const collect = async (records: AsyncIterable<{ line: number; cells: string[] }>) => {
      const all = [];
      for await (const record of records) all.push(record);
      return all;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', '1', ',', '"', '\n', '\r', ' ', 'é'), { maxLength: 80 }),
        fc.integer({ min: 1, max: 9 }),
        async (chars, size) => {
          const text = chars.join('');
          expect(await collect(csvRecords(streamed(text, size)))).toEqual(
            await collect(charByCharRecords(streamed(text, 1 << 20))),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/**
 * The reader as it was first written, one character at a time: the reference the
 * faster line-at-a-time reader must agree with.
 */
async function* charByCharRecords(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<{ line: number; cells: string[] }> {
  const decoder = new TextDecoder();
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let startLine = 1;
  let pendingCr = false;
  let any = false;
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const char of text) {
      any = true;
      if (pendingCr) {
        pendingCr = false;
        if (char === '\n') continue;
      }
      if (quoted) {
        if (char === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (char === '\n') line++;
          cell += char;
        }
        continue;
      }
      if (char === '"') {
        // A doubled quote inside a quoted field, or the start of one.
        if (afterQuote) cell += '"';
        quoted = true;
        afterQuote = false;
        continue;
      }
      afterQuote = false;
      if (char === ',') {
        cells.push(cell);
        cell = '';
      } else if (char === '\n' || char === '\r') {
        cells.push(cell);
        yield { line: startLine, cells };
        cells = [];
        cell = '';
        line++;
        startLine = line;
        pendingCr = char === '\r';
      } else {
        cell += char;
      }
    }
  }
  if (any && (cell !== '' || cells.length > 0)) {
    cells.push(cell);
    yield { line: startLine, cells };
  }
}

describe('importing rates from CSV', () => {
  it('reads a good file with defaults for the optional columns', async () => {
    const csv =
      'prefix,destination,rate,increment,blocked\n44,UK,0.0123,6,no\n4420,"London, fixed",0.0100,,yes\n';
    const { rows, errors } = await parseRatesCsv(streamed(csv));
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        prefix: '44',
        destination: 'UK',
        rate: '0.0123',
        connectionFee: '0',
        initialIncrement: 60,
        increment: 6,
        graceSeconds: 0,
        blocked: false,
      },
      {
        prefix: '4420',
        destination: 'London, fixed',
        rate: '0.0100',
        connectionFee: '0',
        initialIncrement: 60,
        increment: 60,
        graceSeconds: 0,
        blocked: true,
      },
    ]);
  });

  it('reports every bad row with its line number and reason', async () => {
    const csv = [
      'prefix,destination,rate,effectiveFrom',
      '44,UK,0.01,',
      '4x,Bad prefix,0.01,',
      '45,Denmark,1e-3,',
      '46,Sweden,0.02,yesterday',
      '44,UK again,0.02,',
      '47,Short row',
      '44,UK later,0.03,2027-01-01T00:00:00Z',
      // A dialled number is matched without its 00: a row written so would price nothing.
      '0033,France,0.02,',
    ].join('\n');
    const { rows, errors } = await parseRatesCsv(streamed(csv));
    expect(errors).toEqual([
      { line: 3, reason: 'prefix must be 1 to 20 digits' },
      { line: 4, reason: expect.stringMatching(/^rate must be a decimal string/) },
      { line: 5, reason: 'effectiveFrom must be an ISO date-time' },
      { line: 6, reason: 'prefix 44 repeats line 2' },
      { line: 7, reason: 'has 2 cells, the header has 4' },
      {
        line: 9,
        reason: 'prefix must not start with 00: write the country code without it (44, not 0044)',
      },
    ]);
    expect(rows.map((row) => row.destination)).toEqual(['UK', 'UK later']);
  });

  it('refuses a NUL or another control character in any cell, naming the line and column', async () => {
    const csv = [
      'prefix,destination,rate,connectionFee,effectiveFrom,blocked',
      '44,UK,0.01,,,',
      '45,Den\u0000mark,0.01,,,',
      '46,Sweden,0.02\u0000,,,',
      '47,Norway,0.02,0\u0001,,',
      '48,Poland,0.02,,2027-01-01T00:00:00Z\u001b,',
      '49,Germany,0.02,,,true\u0000',
      '"50","Multi\nline",0.02,,,',
      '51,\u0000,0.02,,,',
      '52,Spain,0.02,,\u000b,',
      '53,Italy,0.02,,,',
    ].join('\n');
    const { rows, errors } = await parseRatesCsv(streamed(csv));
    const reason = (column: string) =>
      `${column} must not contain a NUL or another control character`;
    expect(errors).toEqual([
      { line: 3, reason: reason('destination') },
      { line: 4, reason: reason('rate') },
      { line: 5, reason: reason('connectionFee') },
      { line: 6, reason: reason('effectiveFrom') },
      { line: 7, reason: reason('blocked') },
      { line: 8, reason: reason('destination') },
      { line: 10, reason: reason('destination') },
      { line: 11, reason: reason('effectiveFrom') },
    ]);
    expect(rows.map((row) => row.prefix)).toEqual(['44', '53']);
  });

  it('refuses a header without the required columns or with unknown ones, and an empty file', async () => {
    expect((await parseRatesCsv(streamed('prefix,rate,cost\n1,0.1,2\n'))).errors).toEqual([
      { line: 1, reason: 'unknown column: cost' },
      { line: 1, reason: 'missing column: destination' },
    ]);
    expect((await parseRatesCsv(streamed(''))).errors).toEqual([
      { line: 1, reason: 'the file is empty: a header row is required' },
    ]);
  });

  it('says a header cell has no name (a trailing comma) rather than "unknown column: "', async () => {
    const csv = 'prefix,destination,rate,\n44,UK,0.01,\n';
    expect((await parseRatesCsv(streamed(csv))).errors).toEqual([
      { line: 1, reason: 'column 4 of the header has no name (a trailing comma?)' },
    ]);
    const two = 'prefix,,destination,rate,,\n';
    expect((await parseRatesCsv(streamed(two))).errors).toEqual([
      { line: 1, reason: 'columns 2, 5, 6 of the header have no name (a trailing comma?)' },
    ]);
  });

  it('refuses a column named twice, which would keep only the last cell of each row', async () => {
    const csv = 'prefix,destination,rate,rate\n44,UK,0.01,0.99\n';
    const { rows, errors } = await parseRatesCsv(streamed(csv));
    expect(errors).toEqual([{ line: 1, reason: 'repeated column: rate' }]);
    expect(rows).toEqual([]);
  });

  it('refuses bytes that are not UTF-8, naming the line, rather than importing U+FFFD', async () => {
    const utf8 = (text: string) => Array.from(new TextEncoder().encode(text));
    // "Zürich" as Latin-1 writes it (ü = 0xFC) on line 3, after a UTF-8 "Köln".
    const latin1 = new Uint8Array([
      ...utf8('prefix,destination,rate\n49221,Köln,0.01\n'),
      ...utf8('4144,Z'),
      0xfc,
      ...utf8('rich,0.02\n4122,Genf,0.03\n'),
    ]);
    async function* pieces(size: number) {
      for (let at = 0; at < latin1.length; at += size) yield latin1.slice(at, at + size);
    }
    for (const size of [1, 3, 7, latin1.length]) {
      const { rows, errors } = await parseRatesCsv(pieces(size));
      expect(errors, `chunks of ${size}`).toEqual([
        { line: 3, reason: expect.stringMatching(/^is not UTF-8 text/) },
      ]);
      expect(rows.map((row) => row.destination)).not.toContain('Z\uFFFDrich');
    }
    // A file cut inside a character ends on a bad line too.
    const cut = new Uint8Array([...utf8('prefix,destination,rate\n49221,K'), 0xc3]);
    async function* whole() {
      yield cut;
    }
    expect((await parseRatesCsv(whole())).errors).toEqual([
      { line: 2, reason: expect.stringMatching(/^is not UTF-8 text/) },
    ]);
  });

  it('refuses a record without end (a quote never closed), naming its line', async () => {
    async function* chunks() {
      yield 'prefix,destination,rate\n44,UK,0.01\n33,"France';
      // Megabytes more of a field that never closes, as a client sends them.
      for (let sent = 0; sent < 4; sent++) yield 'A'.repeat(CSV_MAX_RECORD_CHARS / 2);
      yield '",0.02\n';
    }
    const { rows, errors } = await parseRatesCsv(chunks());
    expect(errors).toEqual([
      { line: 3, reason: expect.stringMatching(/^holds a record of more than 65536 characters/) },
    ]);
    expect(rows.map((row) => row.prefix)).toEqual(['44']);
    // A long record within the bound is read as any other.
    const long = `prefix,destination,rate\n44,"${'B'.repeat(60_000)}",0.01\n`;
    const read = await parseRatesCsv(streamed(long, 4096));
    expect(read.errors.map((error) => error.reason)).not.toContainEqual(
      expect.stringMatching(/holds a record/),
    );
    // Nor is a file whose lines end in \r alone, however long.
    const lines = Array.from({ length: 4_000 }, (_, i) => `${1000 + i},Somewhere,0.01`);
    const mac = ['prefix,destination,rate', ...lines].join('\r') + '\r';
    expect(mac.length).toBeGreaterThan(CSV_MAX_RECORD_CHARS);
    const fromMac = await parseRatesCsv(streamed(mac, 4096));
    expect(fromMac.errors).toEqual([]);
    expect(fromMac.rows).toHaveLength(4_000);
  });

  it('splits lines ending in a carriage return alone as they arrive, and bounds their records too', async () => {
    // Records come out of the first chunk before the second is asked for: the reader
    // does not hold a \r-only file whole (reading it again with each chunk, in time that
    // grows with the square of its size).
    const lines = Array.from({ length: 500 }, (_, i) => `${1000 + i},Somewhere,0.01`);
    let secondAsked = false;
    async function* twoChunks() {
      yield lines.join('\r') + '\r';
      secondAsked = true;
      yield '9999,Elsewhere,0.02\r';
    }
    const batches = csvRecordBatches(twoChunks());
    const first = await batches.next();
    expect(secondAsked).toBe(false);
    // All but the last line: its \r could still be the first half of a \r\n.
    expect((first.value as TCsvRecord[]).map((record) => record.cells[0])).toEqual(
      lines.slice(0, -1).map((text) => text.split(',')[0]),
    );
    expect((first.value as TCsvRecord[]).at(-1)?.line).toBe(499);
    // A quote never closed in such a file is refused at the bound, as in any other.
    async function* unclosed() {
      yield 'prefix,destination,rate\r44,UK,0.01\r33,"France';
      for (let sent = 0; sent < 4; sent++) yield 'A\r'.repeat(CSV_MAX_RECORD_CHARS / 4);
      yield '",0.02\r';
    }
    const { rows, errors } = await parseRatesCsv(unclosed());
    expect(errors).toEqual([
      { line: 3, reason: expect.stringMatching(/^holds a record of more than 65536 characters/) },
    ]);
    expect(rows.map((row) => row.prefix)).toEqual(['44']);
  });

  it('stops at the row limit', async () => {
    const csv = 'prefix,destination,rate\n1,A,0.1\n2,B,0.1\n3,C,0.1\n';
    expect((await parseRatesCsv(streamed(csv), { maxRows: 2 })).errors).toEqual([
      { line: 4, reason: 'more than 2 rows' },
    ]);
  });
});

describe('exporting rates to CSV', () => {
  it('leaves a plain negative decimal as it is: a number, not a formula', () => {
    expect(['-12.500000', '-1', '-0.5', '12.5'].map(csvCell)).toEqual([
      '-12.500000',
      '-1',
      '-0.5',
      '12.5',
    ]);
    expect(['-1e3', '-12.5.1', '- 1', '-.5', '-1,5'].map(csvCell)).toEqual([
      "'-1e3",
      "'-12.5.1",
      "'- 1",
      "'-.5",
      `"'-1,5"`,
    ]);
  });

  it('writes the import columns, quoting what needs it and neutralizing formulas', async () => {
    const csv = ratesToCsv([
      {
        prefix: '44',
        destination: '=HYPERLINK("x")',
        rate: '0.0123',
        connectionFee: '0',
        initialIncrement: 30,
        increment: 6,
        graceSeconds: 0,
        blocked: false,
      },
    ]);
    expect(csv).toBe(
      'prefix,destination,rate,connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked,minimumSeconds\r\n' +
        `44,"'=HYPERLINK(""x"")",0.0123,0,30,6,0,,false,\r\n`,
    );
    expect(['+1', '-1+1', '-A1', '@x', '\tx', 'plain'].map(csvCell)).toEqual([
      "'+1",
      "'-1+1",
      "'-A1",
      "'@x",
      "'\tx",
      'plain',
    ]);
    // What export writes, import reads back as it was: the neutralizing quote comes off
    // (a re-export puts it on again), so a backup restored, or an export edited and
    // imported, keeps its names.
    const back = await parseRatesCsv(streamed(csv));
    expect(back.errors).toEqual([]);
    expect(back.rows[0]).toMatchObject({
      prefix: '44',
      destination: '=HYPERLINK("x")',
      increment: 6,
    });
    const names = ['-France', '+London, "City"', '@Spain', 'Plain', "'quoted", "'-Special", "''"];
    const roundTrip = await parseRatesCsv(
      streamed(
        ratesToCsv(
          names.map((destination, i) => ({ prefix: `3${i}`, destination, rate: '0.01' })) as never,
        ),
      ),
    );
    expect(roundTrip.errors).toEqual([]);
    expect(roundTrip.rows.map((row) => row.destination)).toEqual(names);
  });
});

describe('a prefix starting with 00', () => {
  it('is refused for a markup rule and an override, as for a rate row', () => {
    const rule = ZMarkupRule.safeParse({ prefix: '0044', mode: 'percent', value: '50' });
    expect(rule.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['prefix']);
    const override = ZOverride.safeParse({ prefix: '0044', rate: '0.01' });
    expect(override.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['prefix']);
    expect(ZMarkupRule.safeParse({ prefix: '44', mode: 'percent', value: '50' }).success).toBe(
      true,
    );
  });

  it('is refused for a row written, never for a row named to remove', () => {
    const patch = (body: unknown) => ZRatesPatch.safeParse(body);
    expect(patch({ remove: [{ prefix: '0044' }] }).success).toBe(true);
    const written = patch({ upsert: [{ prefix: '0044', destination: 'UK', rate: '0.01' }] });
    expect(written.success).toBe(false);
    expect(written.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      [
        'upsert.0.prefix',
        'must not start with 00: write the country code without it (44, not 0044)',
      ],
    ]);
  });
});
