// CSV datasets: label columns by name or index, class ids, string categories and regression
// targets, delimiters, quoting, CRLF and BOM; bad cells are one-line FormatErrors naming the
// file, line and column.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { type CsvOptions, loadCsv } from '../../app/data/csv.ts';
import { assertFormatError } from '../assertions.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-csv-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;
function csv(text: string | Uint8Array): string {
  const file = path.join(scratch, `data${count++}.csv`);
  writeFileSync(file, text);
  return file;
}


const IRIS = `sepal_length,sepal_width,species,petal_length
5.1,3.5,setosa,1.4
7.0,3.2,versicolor,4.7
6.3,3.3,virginica,6.0
4.9,3.0,setosa,1.4
`;

describe('csv: loading', () => {
  test('integer labels by header name become int32 class ids; the other columns float32 features', () => {
    const data = loadCsv(csv('a,b,label\n1,2.5,0\n-3,4e-1,2\n.5,6,1\n'), { labelColumn: 'label' });
    assert.equal(data.size, 3);
    assert.deepEqual(data.x[0]!.shape, [3, 2]);
    assert.equal(data.x[0]!.dtype, 'float32');
    assert.deepEqual([...data.x[0]!.data], [1, 2.5, -3, Math.fround(0.4), 0.5, 6]);
    assert.equal(data.y[0]!.dtype, 'int32');
    assert.deepEqual(data.y[0]!.shape, [3]);
    assert.deepEqual([...data.y[0]!.data], [0, 2, 1]);
    assert.deepEqual(data.featureNames, ['a', 'b']);
    assert.equal(data.labelName, 'label');
    assert.equal(data.classNames, undefined);
  });

  test('string categories become class ids in sorted order, with classNames; the label column may sit anywhere', () => {
    const data = loadCsv(csv(IRIS), { labelColumn: 'species' });
    assert.deepEqual(data.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual([...data.y[0]!.data], [0, 1, 2, 0]);
    assert.deepEqual(data.featureNames, ['sepal_length', 'sepal_width', 'petal_length']);
    assert.deepEqual([...data.x[0]!.data.subarray(0, 3)], [5.1, 3.5, 1.4].map(Math.fround));
  });

  test('non-integer numeric labels are float32 regression targets (n, 1)', () => {
    const data = loadCsv(csv('x,price\n1,10.5\n2,-3\n'), { labelColumn: -1 });
    assert.equal(data.y[0]!.dtype, 'float32');
    assert.deepEqual(data.y[0]!.shape, [2, 1]);
    assert.deepEqual([...data.y[0]!.data], [10.5, -3]);
  });

  test('labels: regression or categories can be asked for integer labels', () => {
    const file = csv('x,y\n1,3\n2,10\n3,3\n');
    const regression = loadCsv(file, { labelColumn: 'y', labels: 'regression' });
    assert.deepEqual([regression.y[0]!.dtype, ...regression.y[0]!.shape], ['float32', 3, 1]);
    const categories = loadCsv(file, { labelColumn: 'y', labels: 'categories' });
    assert.deepEqual(categories.classNames, ['10', '3']);
    assert.deepEqual([...categories.y[0]!.data], [1, 0, 1]);
  });

  test('no header: the label by index (negative from the end), columns named by number', () => {
    const data = loadCsv(csv('1,2,0\n3,4,1\n'), { labelColumn: 0, header: false });
    assert.deepEqual([...data.y[0]!.data], [1, 3]);
    assert.deepEqual([...data.x[0]!.data], [2, 0, 4, 1]);
    assert.deepEqual(data.featureNames, ['column 2', 'column 3']);
    assert.deepEqual([...loadCsv(csv('1,2,0\n3,4,1\n'), { labelColumn: -1, header: false }).y[0]!.data], [0, 1]);
  });

  test('delimiter, quoted fields, CRLF, a byte-order mark, spaces and blank lines', () => {
    const text = '\ufeff"f 1"; f2 ;"kind"\r\n1 ; 2;"a; b"\r\n\r\n3;4;plain\r\n';
    const data = loadCsv(csv(text), { labelColumn: 'kind', delimiter: ';' });
    assert.deepEqual(data.featureNames, ['f 1', 'f2']);
    assert.deepEqual(data.classNames, ['a; b', 'plain']);
    assert.deepEqual([...data.x[0]!.data], [1, 2, 3, 4]);
  });
});

describe('csv: errors name the file, line and column', () => {
  const cases: [string, string, Partial<CsvOptions>, RegExp][] = [
    ['a non-numeric feature', 'a,b,y\n1,2,0\n3,abc,1\n', {}, /data\d+\.csv:3: column 2 \('b'\): 'abc' is not a number$/],
    ['a missing feature value', 'a,b,y\n1,2,0\n3,,1\n', {}, /:3: column 2 \('b'\): missing value$/],
    ['NaN', 'a,b,y\n1,NaN,0\n', {}, /:2: column 2 \('b'\): 'NaN' is not a number/],
    ['a value beyond float32', 'a,b,y\n1,1e50,0\n', {}, /:2: column 2 \('b'\): 1e50 is outside float32's range/],
    ['a missing label', 'a,b,y\n1,2,0\n3,4,\n', {}, /:3: column 3 \('y'\): missing label$/],
    ['a ragged row', 'a,b,y\n1,2,0\n3,4\n', {}, /data\d+\.csv: Invalid Record Length: .*line 3/],
    ['a line number after blank lines', 'a,b,y\n\n1,2,0\n\n3,x,1\n', {}, /:5: column 2 \('b'\): 'x' is not a number/],
    ['an unknown label column', 'a,b,y\n1,2,0\n', { labelColumn: 'label' }, /no column 'label' in the header \(columns: a, b, y\)/],
    ['a label index out of range', 'a,b,y\n1,2,0\n', { labelColumn: 3 }, /labelColumn 3 is outside the 3 columns/],
    ['a label name without a header', '1,2,0\n', { labelColumn: 'y', header: false }, /labelColumn 'y' is a name, but the file has no header/],
    ['class ids asked for, a negative label found', 'a,y\n1,0\n2,-1\n', { labels: 'classIds' }, /:3: column 2 \('y'\): label '-1' is not a class id/],
    ['regression asked for, a word found', 'a,y\n1,0\n2,cat\n', { labels: 'regression' }, /:3: column 2 \('y'\): label 'cat' is not a number/],
    ['an empty file', '', {}, /no data rows after the header/],
    ['only a header', 'a,b,y\n', {}, /no data rows after the header/],
    ['one column (the wrong delimiter)', 'a;b;y\n1;2;0\n', {}, /one column; .*is the delimiter ',' right\?/],
  ];
  for (const [name, text, options, pattern] of cases) {
    test(name, () => {
      assertFormatError(() => loadCsv(csv(text), { labelColumn: 'y', ...options }), pattern);
    });
  }

  test('a missing file', () => {
    assertFormatError(() => loadCsv(path.join(scratch, 'absent.csv'), { labelColumn: 0 }), /absent\.csv: cannot read: no such file/);
  });
});
