import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PDFDocument, PDFHexString, StandardFonts } from 'pdf-lib';

/** Real PDFs shipped in a registry package (pdf-parse@1.1.1's test data), one of them corrupt. */
const PDF_FIXTURE_DIR = join(dirname(require.resolve('pdf-parse/package.json')), 'test', 'data');

export const realPdfs = {
  /** "Trace-based Just-in-Time Type Specialization for Dynamic Languages", 14 pages. */
  tracingJit: () => readFileSync(join(PDF_FIXTURE_DIR, '01-valid.pdf')),
  /** A solar-cell paper, 5 pages, 3.5 MB. */
  solarCell: () => readFileSync(join(PDF_FIXTURE_DIR, '02-valid.pdf')),
  /** Broken cross-reference structure: no reader can open it. */
  corrupt: () => readFileSync(join(PDF_FIXTURE_DIR, '03-invalid.pdf')),
  /** A sports-medicine paper, 5 pages. */
  nitricOxide: () => readFileSync(join(PDF_FIXTURE_DIR, '04-valid.pdf')),
};

/** A PDF whose pages say which page they are, to check page metadata exactly. */
export async function numberedPagesPdf(pages: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = doc.addPage([612, 792]);
    const lines = wrap(text, 90);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 740 - i * 14, size: 11, font }));
  }
  return doc.save();
}

/**
 * A PDF protected by a user password (standard security handler, revision 2). pdf.js cannot
 * open it without the password, exactly like any password-protected upload.
 */
export async function passwordProtectedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText('secret quarterly figures', { x: 50, y: 700 });
  const context = doc.context;
  const filler = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90';
  context.trailerInfo.Encrypt = context.register(
    context.obj({ Filter: 'Standard', V: 1, R: 2, Length: 40, P: -44, O: PDFHexString.of(filler), U: PDFHexString.of(filler.split('').reverse().join('')) }),
  );
  context.trailerInfo.ID = context.obj([PDFHexString.of('00112233445566778899AABBCCDDEEFF'), PDFHexString.of('00112233445566778899AABBCCDDEEFF')]);
  return doc.save({ useObjectStreams: false });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if ((line + ' ' + word).trim().length > width) {
      lines.push(line);
      line = word;
    } else {
      line = (line + ' ' + word).trim();
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Three short policies, each with a team in its metadata: the question set of the query tests. */
export const POLICIES = {
  refunds: {
    team: 'support',
    text: '# Refund policy\n\nCustomers may return any item within thirty days of delivery for a full refund to the original payment method. Sale items can be exchanged but are not refunded in cash; they receive store credit. Refunds are processed within five business days after the warehouse receives the parcel.',
  },
  travel: {
    team: 'hr',
    text: '# Travel policy\n\nEmployees book flights through the travel portal. Economy class applies to trips under six hours; business class needs approval from a director. Hotel costs are reimbursed up to the city rate published by finance, and receipts must be uploaded within a month.',
  },
  security: {
    team: 'it',
    text: '# Security policy\n\nPasswords are rotated every ninety days and must not be reused. A lost or stolen laptop is reported to the IT service desk immediately, day or night, so the device can be wiped remotely. Never share one-time codes with anyone.',
  },
};

/** The Fastify reference docs shipped in the installed fastify package: a real corpus of 21 Markdown files. */
export function fastifyReferenceDocs(): { documentId: string; text: string }[] {
  const dir = join(dirname(require.resolve('fastify/package.json')), 'docs', 'Reference');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => ({ documentId: file, text: readFileSync(join(dir, file), 'utf8') }));
}

/** scripts/eval's labeled questions over that corpus, as the re-index gate's document-level set. */
export function fastifyReferenceQuestions(): { question: string; relevantDocumentIds: string[] }[] {
  const set = JSON.parse(readFileSync(join(__dirname, '../../scripts/eval/questions/fastify.json'), 'utf8')) as { questions: { question: string; answerable: boolean; document?: string }[] };
  return set.questions.filter((q) => q.answerable).map((q) => ({ question: q.question, relevantDocumentIds: [q.document as string] }));
}
