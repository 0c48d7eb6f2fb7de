import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { RenderedNotice } from '../notices/render.js';
import { fontsFor } from './fonts.js';
import type { Config } from '../config.js';
import type { Clock } from '../platform/clock.js';
import { formatDate } from '../platform/time-format.js';
import { A4, MM, addressBox, addressLines, returnAddressLine, typeScale, type Envelope } from './layout.js';

/** One letter as it will be printed. */
export interface LetterToPrint {
  messageId: number;
  organisation: string;
  name: string | null;
  postalAddress: string;
  largePrint: boolean;
  content: RenderedNotice;
}

export interface LetterBatchOptions {
  envelope: Envelope;
  /** The date printed on each letter. */
  date: Date;
  /** The zone the date is the date in: the organisation's. */
  timeZone?: string;
  /** The sender's postal address (LETTER_RETURN_ADDRESS), printed small above the recipient's. */
  returnAddress?: string | null;
}

/** How this installation prints letters, dated today: its envelope, its zone, its return address. */
export function letterPrintOptions(deps: {
  config: Pick<Config, 'letters' | 'sending'>;
  clock: Clock;
}): LetterBatchOptions {
  return {
    envelope: deps.config.letters.envelope,
    date: deps.clock.now(),
    timeZone: deps.config.sending.defaultTimeZone,
    returnAddress: deps.config.letters.returnAddress,
  };
}

const MARGIN = { left: 20 * MM, right: 20 * MM, top: 15 * MM, bottom: 22 * MM };
const TEXT_WIDTH = A4.width - MARGIN.left - MARGIN.right;
const BODY_TOP = 100 * MM;
const INK = '#1b1b1b';
const MUTED = '#4a4a4a';
const PANEL = '#eef3f8';

type Doc = PDFKit.PDFDocument;

/**
 * A print-ready PDF of a campaign's letters: A4, one letter after another, each starting on a new
 * page (so a print shop can split them), the address in the envelope window, the reference code and a
 * QR code to the lookup page near the top, then the notice in the person's language. People who asked
 * for large print get their whole letter in large type.
 */
export async function buildLettersPdf(
  letters: LetterToPrint[],
  options: LetterBatchOptions,
): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    autoFirstPage: false,
    info: { Title: 'Letters', Creator: 'Candor' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const pageRanges: { first: number; last: number; letter: LetterToPrint }[] = [];
  for (const letter of letters) {
    const first = doc.bufferedPageRange().count;
    await drawLetter(doc, letter, options);
    pageRanges.push({ first, last: doc.bufferedPageRange().count - 1, letter });
  }
  for (const { first, last, letter } of pageRanges) numberPages(doc, first, last, letter);
  doc.end();
  return finished;
}

async function drawLetter(doc: Doc, letter: LetterToPrint, options: LetterBatchOptions): Promise<void> {
  const notice = letter.content;
  const fonts = fontsFor(notice.locale);
  doc.registerFont('body', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  const size = typeScale(letter.largePrint);
  const rtl = notice.dir === 'rtl';
  doc.addPage();

  // Sender and date, top right, clear of the window.
  const headerX = 120 * MM;
  const headerWidth = A4.width - MARGIN.right - headerX;
  doc.font('bold').fontSize(12).fillColor(INK).text(letter.organisation, headerX, MARGIN.top, {
    width: headerWidth,
    align: 'right',
  });
  doc.font('body').fontSize(9).fillColor(MUTED);
  const date = formatDate(options.date, { lang: notice.locale, timeZone: options.timeZone ?? 'UTC' });
  drawParagraph(doc, date, headerX, doc.y + 2, headerWidth, rtl);
  if (!rtl) doc.text('', headerX, doc.y);

  // The address, inside the envelope window. Always normal size: it is read by the post, and must fit.
  // Above it, in small type and still inside the window, where the post looks for it (DIN 5008), the
  // address to send the letter back to when it cannot be delivered.
  const box = addressBox(options.envelope);
  const returnLine = options.returnAddress ? returnAddressLine(options.returnAddress) : '';
  if (returnLine) {
    doc.font('body').fontSize(RETURN_SIZE).fillColor(MUTED);
    doc.text(returnLine, box.x, box.y, { width: box.width, lineBreak: false, ellipsis: true });
    const ruleY = box.y + doc.currentLineHeight(true) + 0.5;
    doc
      .moveTo(box.x, ruleY)
      .lineTo(box.x + box.width, ruleY)
      .lineWidth(0.3)
      .strokeColor(MUTED)
      .stroke();
    const used = ruleY + 2 * MM - box.y;
    box.y += used;
    box.height -= used;
  }
  const lines = addressLines(letter.name, letter.postalAddress);
  let addressSize = 10.5;
  doc.font('body').fillColor(INK);
  while (addressSize > 7 && lines.length * doc.fontSize(addressSize).currentLineHeight(true) > box.height)
    addressSize -= 0.5;
  let y = box.y;
  for (const line of lines) {
    doc.text(line, box.x, y, { width: box.width, lineBreak: false, ellipsis: true });
    y += doc.currentLineHeight(true);
  }

  // The reference code and the way in, before any text: the two things a person must not miss.
  const qrSize = (letter.largePrint ? 36 : 28) * MM;
  const panelPadding = 5 * MM;
  const infoWidth = TEXT_WIDTH - qrSize - 3 * panelPadding;
  const info = panelInfo(notice, size);
  // The panel grows with its words: large type in a long language (Arabic, Hindi) is taller than the QR code.
  const panelHeight = Math.max(qrSize, infoHeight(doc, info, infoWidth, rtl)) + 2 * panelPadding;
  const panelY = BODY_TOP;
  doc.roundedRect(MARGIN.left, panelY, TEXT_WIDTH, panelHeight, 3 * MM).fill(PANEL);
  const qr = await QRCode.toBuffer(notice.lookupUrl, {
    type: 'png',
    margin: 1,
    width: 400,
    errorCorrectionLevel: 'M',
  });
  const qrX = rtl ? MARGIN.left + panelPadding : MARGIN.left + TEXT_WIDTH - panelPadding - qrSize;
  doc.image(qr, qrX, panelY + panelPadding, { width: qrSize, height: qrSize });
  const infoX = rtl ? qrX + qrSize + panelPadding : MARGIN.left + panelPadding;
  let infoY = panelY + panelPadding;
  for (const item of info) {
    setStyle(doc, item);
    infoY += item.gapBefore;
    if (item.paragraph) drawParagraph(doc, item.text, infoX, infoY, infoWidth, rtl);
    else doc.text(item.text, infoX, infoY, { width: infoWidth, ...textOptions(item, rtl) });
    infoY = doc.y;
  }

  // The notice itself.
  doc.fillColor(INK);
  let cursor = panelY + panelHeight + 8 * MM;
  if (notice.subject) {
    doc.font('bold').fontSize(size.subject);
    drawParagraph(doc, notice.subject, MARGIN.left, cursor, TEXT_WIDTH, rtl);
    cursor = doc.y + size.body;
  }
  for (const section of notice.sections) {
    if (section.heading) {
      doc.font('bold').fontSize(size.heading);
      drawParagraph(doc, section.heading, MARGIN.left, cursor + size.body * 0.4, TEXT_WIDTH, rtl);
      cursor = doc.y + size.lineGap;
    }
    doc.font('body').fontSize(size.body);
    for (const paragraph of section.paragraphs) {
      drawParagraph(doc, paragraph, MARGIN.left, cursor, TEXT_WIDTH, rtl, size.lineGap);
      cursor = doc.y + size.body * 0.6;
    }
  }
}

const RETURN_SIZE = 7;

/** One block of the reference panel, beside the QR code. */
interface InfoItem {
  text: string;
  font: 'body' | 'bold';
  size: number;
  color: string;
  gapBefore: number;
  /** Words in the reader's language (set right to left where it runs so); else a code or a link. */
  paragraph: boolean;
  characterSpacing?: number;
}

function panelInfo(notice: RenderedNotice, size: ReturnType<typeof typeScale>): InfoItem[] {
  return [
    {
      text: notice.labels.referenceLabel,
      font: 'body',
      size: size.small,
      color: MUTED,
      gapBefore: 0,
      paragraph: true,
    },
    {
      text: notice.referenceCode,
      font: 'bold',
      size: size.code,
      color: INK,
      gapBefore: 1,
      paragraph: false,
      characterSpacing: 1.5,
    },
    { text: notice.lookupUrl, font: 'body', size: size.small, color: INK, gapBefore: 3, paragraph: false },
    {
      text: notice.labels.qrCaption,
      font: 'body',
      size: size.small,
      color: MUTED,
      gapBefore: 3,
      paragraph: true,
    },
  ];
}

function setStyle(doc: Doc, item: InfoItem): void {
  doc.font(item.font).fontSize(item.size).fillColor(item.color);
}

function textOptions(item: InfoItem, rtl: boolean): PDFKit.Mixins.TextOptions {
  return {
    align: rtl ? 'right' : 'left',
    ...(item.characterSpacing ? { characterSpacing: item.characterSpacing } : {}),
  };
}

/** How tall the panel's words are set at `width`, measured the way they will be drawn. */
function infoHeight(doc: Doc, items: InfoItem[], width: number, rtl: boolean): number {
  let height = 0;
  for (const item of items) {
    setStyle(doc, item);
    height += item.gapBefore;
    height +=
      item.paragraph && rtl
        ? rtlLines(doc, item.text, width).length * doc.currentLineHeight(true)
        : doc.heightOfString(item.text, { width, ...textOptions(item, rtl) });
  }
  return height;
}

/** Words of a right-to-left paragraph broken into lines that fit `width`. */
function rtlLines(doc: Doc, text: string, width: number): string[][] {
  const space = doc.widthOfString(' ');
  const lines: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const w = doc.widthOfString(word);
    if (current.length > 0 && used + space + w > width) {
      lines.push(current);
      current = [];
      used = 0;
    }
    used += (current.length > 0 ? space : 0) + w;
    current.push(word);
  }
  if (current.length > 0) lines.push(current);
  return lines;
}

/**
 * Left-to-right text is PDFKit's own (it wraps Chinese without spaces, and shapes Devanagari through
 * fontkit). PDFKit has no bidirectional layout, so right-to-left text is placed here: wrapped by
 * words, then each line set from the right edge leftwards. Arabic words are shaped by fontkit; a run
 * of Latin words (a name, a link, a code) keeps its own left-to-right order inside the line.
 */
function drawParagraph(
  doc: Doc,
  text: string,
  x: number,
  y: number,
  width: number,
  rtl: boolean,
  lineGap = 0,
): void {
  // Unicode isolates (around names and numbers in Arabic, src/platform/languages.ts) are for a bidi
  // algorithm; PDFKit has none, and fontkit would draw them as spaces. The runs below do their work.
  text = text.replace(/[\u2066-\u2069]/g, '');
  if (!rtl) {
    if (y + doc.currentLineHeight(true) > A4.height - MARGIN.bottom) {
      doc.addPage();
      y = MARGIN.top;
    }
    doc.text(text, x, y, { width, lineGap });
    return;
  }
  const lines = rtlLines(doc, text, width);
  const lineHeight = doc.currentLineHeight(true) + lineGap;
  let lineY = y;
  for (const line of lines) {
    if (lineY + lineHeight > A4.height - MARGIN.bottom) {
      doc.addPage();
      lineY = MARGIN.top;
    }
    drawRtlLine(doc, line, x + width, lineY);
    lineY += lineHeight;
  }
  doc.x = x;
  doc.y = lineY;
}

const STRONG_RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

/** Sets one line's words from `right` leftwards; consecutive non-Arabic words stay in reading order. */
function drawRtlLine(doc: Doc, words: string[], right: number, y: number): void {
  const runs: string[] = [];
  for (const word of words) {
    const previous = runs[runs.length - 1];
    if (previous !== undefined && !STRONG_RTL.test(word) && !STRONG_RTL.test(previous))
      runs[runs.length - 1] = `${previous} ${word}`;
    else runs.push(word);
  }
  const space = doc.widthOfString(' ');
  let cursor = right;
  for (const run of runs) {
    const w = doc.widthOfString(run);
    cursor -= w;
    doc.text(run, cursor, y, { lineBreak: false });
    cursor -= space;
  }
}

function numberPages(doc: Doc, first: number, last: number, letter: LetterToPrint): void {
  const pages = last - first + 1;
  const size = typeScale(letter.largePrint);
  for (let index = first; index <= last; index++) {
    doc.switchToPage(index);
    const pageText = interpolatePage(letter.content, index - first + 1, pages);
    doc.font('body').fontSize(size.small).fillColor(MUTED);
    // Inside the bottom margin: keep PDFKit from starting a new page for it.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const footer = `${letter.content.referenceCode} · ${pageText}`.replace(/[\u2066-\u2069]/g, '');
    const footerY = A4.height - 14 * MM;
    if (letter.content.dir === 'rtl')
      drawRtlLine(
        doc,
        footer.split(' '),
        MARGIN.left + (TEXT_WIDTH + doc.widthOfString(footer)) / 2,
        footerY,
      );
    else doc.text(footer, MARGIN.left, footerY, { width: TEXT_WIDTH, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

function interpolatePage(notice: RenderedNotice, page: number, pages: number): string {
  return notice.labels.pageOf.replace('{{page}}', String(page)).replace('{{pages}}', String(pages));
}
