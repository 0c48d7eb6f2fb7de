/**
 * Where things go on an A4 letter folded into a windowed envelope. Pure geometry, in PDF points
 * (1 mm = 72 / 25.4 pt), origin at the top left as PDFKit draws.
 *
 * Window positions follow DIN 680 / DIN 5008 form B, which most European window envelopes follow:
 * a 90 × 45 mm window 20 mm from the left edge. DL (A4 folded in three) puts its top 45 mm from the
 * top of the page; C5 (A4 folded once) 50 mm. The address is set 4 mm inside the window on every
 * side, so the letter can slide a little in the envelope without hiding a line.
 */
export const ENVELOPES = ['DL', 'C5'] as const;
export type Envelope = (typeof ENVELOPES)[number];

export const MM = 72 / 25.4;
export const A4 = { width: 210 * MM, height: 297 * MM };

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const WINDOW_MM: Record<Envelope, { x: number; y: number; width: number; height: number }> = {
  DL: { x: 20, y: 45, width: 90, height: 45 },
  C5: { x: 20, y: 50, width: 90, height: 45 },
};

const INSET_MM = 4;

export function envelopeWindow(envelope: Envelope): Box {
  const w = WINDOW_MM[envelope];
  return { x: w.x * MM, y: w.y * MM, width: w.width * MM, height: w.height * MM };
}

/** The part of the window the address may use. */
export function addressBox(envelope: Envelope): Box {
  const w = envelopeWindow(envelope);
  const inset = INSET_MM * MM;
  return { x: w.x + inset, y: w.y + inset, width: w.width - 2 * inset, height: w.height - 2 * inset };
}

export function contains(outer: Box, inner: Box): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** An address as lines: as written when it has line breaks, else split at its commas. At most 7 lines. */
export function addressLines(name: string | null, postalAddress: string): string[] {
  const lines = (postalAddress.includes('\n') ? postalAddress.split('\n') : postalAddress.split(','))
    .map((line) => line.trim())
    .filter(Boolean);
  return [...(name ? [name.trim()] : []), ...lines].slice(0, 7);
}

/** Body type sizes: large print follows the RNIB's advice of at least 16 pt. */
export function typeScale(largePrint: boolean) {
  return largePrint
    ? { body: 16, heading: 20, subject: 22, small: 13, code: 22, lineGap: 4 }
    : { body: 10.5, heading: 12.5, subject: 14, small: 8.5, code: 16, lineGap: 2 };
}

/** A return address on one line, its lines joined by a middle dot, as DIN 5008 sets it above the address. */
export function returnAddressLine(address: string): string {
  return (address.includes('\n') ? address.split('\n') : address.split(','))
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' · ');
}
