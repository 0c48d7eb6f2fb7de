import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { A4 } from '../../src/letters/layout.js';

/** A run of text as a PDF places it: top-left origin, points, the em box of its font size. */
export interface TextBox {
  page: number;
  text: string;
  x: number;
  top: number;
  width: number;
  height: number;
}

/** Every non-blank run of text in a PDF, read back with pdfjs, as the layout module measures. */
export async function textBoxes(pdf: Buffer): Promise<TextBox[]> {
  const document = await getDocument({
    data: new Uint8Array(pdf),
    disableFontFace: true,
    useSystemFonts: false,
  }).promise;
  const boxes: TextBox[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const page = await document.getPage(number);
    const pageHeight = page.view[3] ?? A4.height;
    for (const item of (await page.getTextContent()).items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      const [, , , scaleY = item.height, x = 0, baseline = 0] = item.transform as number[];
      const height = Math.abs(scaleY);
      // The baseline less the font size is the top of the glyphs' em box.
      boxes.push({
        page: number,
        text: item.str,
        x,
        top: pageHeight - baseline - height,
        width: item.width,
        height,
      });
    }
  }
  return boxes;
}
