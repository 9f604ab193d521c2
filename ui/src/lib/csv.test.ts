import { describe, expect, it } from 'vitest';
import { BOM, csvBytes, csvField, toCsv, transactionsCsv, type ExportedTransaction } from './csv';

describe('csvField', () => {
  it('writes plain text and Korean as they are', () => {
    expect(csvField('급여')).toBe('급여');
    expect(csvField('홍길동 용돈')).toBe('홍길동 용돈');
  });

  it('quotes fields with commas, quotes or line breaks, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('line1\r\nline2')).toBe('"line1\r\nline2"');
  });

  it('defuses text that a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvField('+82-10-1234')).toBe("'+82-10-1234");
    expect(csvField('-5000')).toBe("'-5000");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('  =1+1')).toBe("'  =1+1");
    expect(csvField('＝1+1')).toBe("'＝1+1");
  });

  it('leaves text with those characters in the middle alone', () => {
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('me@example.com')).toBe('me@example.com');
  });

  it('writes numbers bare, negative ones included, and null as empty', () => {
    expect(csvField(-5000n)).toBe('-5000');
    expect(csvField(1234)).toBe('1234');
    expect(csvField(123456789012345678901234567890n)).toBe('123456789012345678901234567890');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });
});

describe('toCsv', () => {
  it('starts with a BOM and ends every record with CRLF', () => {
    expect(toCsv([['a', 'b'], [1n, null]])).toBe('\uFEFFa,b\r\n1,\r\n');
  });

  it('writes an empty file as just the BOM', () => {
    expect(toCsv([])).toBe(BOM);
  });
});

describe('csvBytes', () => {
  it('encodes UTF-8 with the BOM bytes first and Korean intact', () => {
    const bytes = csvBytes(toCsv([['입금']]));
    expect(Array.from(bytes.slice(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe('\uFEFF입금\r\n');
    // 입 is U+C785: EC 9E 85 in UTF-8.
    expect(Array.from(bytes.slice(3, 6))).toEqual([0xec, 0x9e, 0x85]);
  });
});

describe('transactionsCsv', () => {
  const withdrawal: ExportedTransaction = {
      date: '20261127',
      time: '140509',
      bank: '모아은행',
      account: '생활비 통장',
      description: '=cmd|"/c calc"!A1',
      direction: 'out',
      amount: '12000',
      balanceAfter: '88000',
  };
  const salary: ExportedTransaction = {
      date: '20261126',
      time: '090000',
      bank: '모아은행',
      account: '생활비 통장',
      description: '급여, 11월',
      direction: 'in',
      amount: 100000n,
      balanceAfter: '100000',
  };
  const rows = [withdrawal, salary];

  it('writes Korean headers, ISO dates, and amounts as numbers in their own columns', () => {
    expect(transactionsCsv(rows, 'ko')).toBe(
      '\uFEFF' +
        '거래일,거래시각,은행,계좌,내용,출금,입금,거래 후 잔액\r\n' +
        '2026-11-27,14:05:09,모아은행,생활비 통장,"\'=cmd|""/c calc""!A1",12000,,88000\r\n' +
        '2026-11-26,09:00:00,모아은행,생활비 통장,"급여, 11월",,100000,100000\r\n',
    );
  });

  it('writes English headers for English readers', () => {
    const firstLine = transactionsCsv([], 'en').slice(1).split('\r\n')[0];
    expect(firstLine).toBe('Date,Time,Bank,Account,Description,Withdrawal,Deposit,Balance after');
  });

  it('keeps a date or time it cannot read as text instead of dropping it', () => {
    const odd = { ...salary, date: '2026112', time: '9' };
    expect(transactionsCsv([odd], 'ko')).toContain('\r\n2026112,9,');
  });

  it('refuses amounts that are not whole won', () => {
    const bad = { ...withdrawal, amount: '12.5' };
    expect(() => transactionsCsv([bad], 'ko')).toThrow(RangeError);
  });
});
