import { deflateSync, gzipSync } from 'node:zlib';
import { PDFDocument, PDFName, StandardFonts, type PDFDict } from 'pdf-lib';

/** Hostile documents, built at test time so their size and shape are plain to read. */

/** A small file that declares many pages: cheap to send, costly to parse page by page. */
export async function pdfPageBomb(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]);
  return doc.save();
}

/** One page whose compressed content stream inflates to `chars` characters of shown text. */
export async function pdfTextBomb(chars: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage();
  page.setFont(await doc.embedFont(StandardFonts.Helvetica));
  page.drawText('Quarterly report');
  const fonts = (page.node.Resources() as PDFDict).lookup(PDFName.of('Font')) as PDFDict;
  const fontKey = fonts.keys()[0]!.asString();
  // Every run is drawn at the same spot inside the page: viewers (and pdf.js) drop text outside it.
  const run = `1 0 0 1 72 720 Tm (${'A'.repeat(40)}) Tj `;
  const content = `BT ${fontKey} 12 Tf ${run.repeat(Math.ceil(chars / 40))}ET`;
  const stream = doc.context.flateStream(content);
  page.node.set(PDFName.of('Contents'), doc.context.register(stream));
  return doc.save();
}

/** A zip archive whose one entry inflates from about 100 KB to 100 MB of zeros. */
export function zipBomb(): Uint8Array {
  const inflated = 100 * 1024 * 1024;
  const data = deflateSync(Buffer.alloc(inflated), { level: 9 });
  const name = Buffer.from('zeros.txt');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(inflated, 22);
  local.writeUInt16LE(name.length, 26);
  return new Uint8Array(Buffer.concat([local, name, data]));
}

/** The same bytes gzip-compressed: 64 MB of text in about 64 KB. */
export function gzipBomb(): Uint8Array {
  return new Uint8Array(gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a'), { level: 9 }));
}
