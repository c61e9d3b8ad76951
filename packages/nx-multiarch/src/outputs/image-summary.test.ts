import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layoutDirOf, readImageSummary, readImageSummaryStrict } from './image-summary';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'image-summary-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

describe('image.json', () => {
  it('finds the layout through image.json when the summary points into a sub-folder', async () => {
    await writeFile(join(scratch, 'image.json'), JSON.stringify({ layout: 'oci' }));
    expect(await layoutDirOf(scratch)).toBe(join(scratch, 'oci'));
    await writeFile(join(scratch, 'image.json'), JSON.stringify({ layout: '.' }));
    expect(await layoutDirOf(scratch)).toBe(scratch);
  });

  it('treats a folder without a summary as the layout itself', async () => {
    expect(await layoutDirOf(scratch)).toBe(scratch);
    expect(await readImageSummary(scratch)).toBeUndefined();
  });

  it('reads a damaged summary as none where a layout may come from another tool, and refuses it where it must be ours', async () => {
    await writeFile(join(scratch, 'image.json'), '{not json');
    expect(await readImageSummary(scratch)).toBeUndefined();
    await expect(readImageSummaryStrict(scratch)).rejects.toThrow(SyntaxError);
  });
});
